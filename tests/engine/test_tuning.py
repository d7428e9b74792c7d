"""The Optuna study: trials stored as they finish, best settings kept, one study per engine
and data, on the selection group's users only."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import optuna
import pytest

from musicrec.engine.als import train
from musicrec.engine.settings import ImplicitSettings
from musicrec.engine.split import user_groups
from musicrec.engine.tuning import (
    BEST_SETTINGS_ATTR,
    EngineUnavailable,
    StudyExists,
    best_settings,
    completed_trials,
    newest_study,
    open_study,
    run_study,
    study_name,
    trainer_for,
    write_report,
)
from musicrec.engine.validation import fingerprint, split_listens, split_ratings
from tests.engine.test_evaluate import tiny_listening_data


def test_a_study_stores_its_trials_and_best_settings(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    split = split_listens(tiny_listening_data())
    study = open_study(storage, "s", resume=False)
    assert run_study(study, split, trials=3) == 3
    stored = optuna.load_study(study_name="s", storage=storage)
    assert completed_trials(stored) == 3
    # The first trial is today's defaults.
    assert stored.trials[0].params == {
        "factors": 48,
        "regularization": 1.0,
        "confidence": "bm25",
        "alpha": 0.2,
        "iterations": 15,
    }
    best, source = best_settings(storage, "s")  # type: ignore[misc]
    assert isinstance(best, ImplicitSettings)
    assert source["trial"] == stored.best_trial.number
    assert source["ndcg@10"] == pytest.approx(stored.best_value)
    assert best.factors == stored.best_params["factors"]
    assert stored.user_attrs[BEST_SETTINGS_ATTR]["kind"] == "implicit"


def test_one_study_per_name_unless_resumed(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    split = split_listens(tiny_listening_data())
    run_study(open_study(storage, "s", resume=False), split, trials=2)
    with pytest.raises(StudyExists, match="--resume"):
        open_study(storage, "s", resume=False)
    resumed = open_study(storage, "s", resume=True)
    assert run_study(resumed, split, trials=3) == 1  # the target counts completed trials
    assert completed_trials(resumed) == 3
    assert best_settings(storage, "other") is None


def test_the_report_page_holds_its_plots_without_a_network(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    study = open_study(storage, "s", resume=False)
    run_study(study, split_listens(tiny_listening_data()), trials=3)
    page = write_report(study, tmp_path / "report")
    html = page.read_text()
    assert "Validation NDCG@10 by trial" in html and "Parameter importances" in html
    assert re.search(r"<script[^>]*\bsrc=", html) is None  # plotly.js inlined, nothing fetched
    assert "Plotly.newPlot" in html


def test_engines_and_a_missing_spark_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from musicrec.engine import spark_als

    assert trainer_for("embedded") is train
    assert callable(trainer_for("spark"))  # no JVM yet: the session starts on first training
    monkeypatch.setattr(spark_als, "spark_available", lambda: False)
    with pytest.raises(EngineUnavailable, match="pip install"):
        trainer_for("spark")
    with pytest.raises(ValueError):
        trainer_for("gpu")


def test_creating_a_storage_leaves_the_apps_logging_alone(tmp_path: Path) -> None:
    audit = logging.getLogger("musicrec.test_tuning_audit")
    root_handlers = list(logging.getLogger().handlers)
    open_study(f"sqlite:///{tmp_path / 'study.sqlite3'}", "s", resume=False)
    assert not audit.disabled  # Alembic's fileConfig would have disabled it
    assert logging.getLogger().handlers == root_handlers


def test_selection_reads_the_selection_group_only() -> None:
    data = tiny_listening_data()
    groups = user_groups(data.user_ids)
    split = split_listens(data)
    assert np.isin(split.users, groups.selection).all()
    assert np.isin(split.train.users.ids, groups.selection).all()
    # The report group's listens change nothing selection sees, its key included.
    report_rows = groups.report_rows(data.user_ids)
    louder = replace(data, listens=np.where(report_rows, data.listens * 7, data.listens))
    assert split_listens(louder).data_key == split.data_key
    assert split_listens(louder).relevant == split.relevant


def test_the_fingerprint_is_of_the_data_not_of_its_order() -> None:
    users, items = np.array([1, 1, 2, 3]), np.array([10, 11, 10, 12])
    values = np.array([5.0, 3.0, 1.0, 2.0])
    key = fingerprint(users, items, values)
    assert key.startswith("3u-3i-4p-")
    assert fingerprint(users[::-1], items[::-1], values[::-1]) == key
    assert fingerprint(users, items, values + [0, 0, 0, 1]) != key  # a rating changed
    assert fingerprint(users[:3], items[:3], values[:3]) != key  # a pair fewer
    assert split_ratings(users, items, values).data_key == key


def test_two_datasets_get_two_studies_and_the_same_data_resumes(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'study.sqlite3'}"
    first, second = split_listens(tiny_listening_data(0)), split_listens(tiny_listening_data(1))
    names = [study_name("embedded", split.data_key) for split in (first, second)]
    assert names[0] != names[1]
    run_study(open_study(storage, names[0], resume=False), first, trials=2)
    run_study(open_study(storage, names[1], resume=False), second, trials=1)  # no clash
    assert sorted(optuna.get_all_study_names(storage)) == sorted(names)
    again = split_listens(tiny_listening_data(0))
    assert study_name("embedded", again.data_key) == names[0]
    resumed = open_study(storage, study_name("embedded", again.data_key), resume=True)
    assert completed_trials(resumed) == 2
    assert newest_study(storage, "embedded") == names[1]  # what `musicrec train` uses
    assert newest_study(storage, "spark") is None
