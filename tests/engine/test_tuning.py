"""The Optuna study: trials stored as they finish, best settings kept, one study per name."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import optuna
import pytest

from musicrec.engine.als import train
from musicrec.engine.settings import ImplicitSettings
from musicrec.engine.tuning import (
    BEST_SETTINGS_ATTR,
    EngineUnavailable,
    StudyExists,
    best_settings,
    completed_trials,
    open_study,
    run_study,
    trainer_for,
    write_report,
)
from musicrec.engine.validation import split_listens
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
