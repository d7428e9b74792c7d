"""One way to choose a training's settings (issue 19): the worker's training job and
``musicrec train`` both use the values asked for, else the tuning study's best, else the
defaults; before, the worker trained with the defaults while the command used the study."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from musicrec.cli import main
from musicrec.config import Settings
from musicrec.db import job_rows
from musicrec.db.session import transaction
from musicrec.engine import als, tuning
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.settings import settings_from_json, settings_to_json
from musicrec.services.hyperparameters import tuned_settings
from musicrec.services.job_running import run_job
from musicrec.services.training_settings import InvalidTrainingSettings, plan_training
from tests.factories import seed_two_tastes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def _run(engine: Engine, settings: Settings, kind: str, params: dict[str, object]) -> str:
    with transaction(engine) as session:
        job = job_rows.add_job(session, kind, reason="test", params=params)
    assert run_job(engine, settings, job.id) == "done"
    return job.id  # type: ignore[return-value]


def _best_is(settings: Settings, best: object) -> None:
    """Make the study's best trial's settings ``best`` (on data this small the defaults, the
    study's first trial, tend to win: nothing would tell the two paths apart)."""
    storage = tuning.default_storage(settings.instance_dir)
    name = tuning.newest_study(storage, "embedded")
    assert name is not None
    study = tuning.open_study(storage, name, resume=True)
    study.set_user_attr(tuning.BEST_SETTINGS_ATTR, settings_to_json(best))  # type: ignore[arg-type]


def _published_settings(settings: Settings) -> dict[str, object]:
    store = ModelStore(settings.model_dir)
    meta = store.meta(store.versions()[0])
    return dataclasses.asdict(settings_from_json(meta["settings"]))


def test_the_worker_and_the_command_train_with_the_studys_best_settings(
    db_engine: Engine, settings: Settings, settings_env: dict[str, str]
) -> None:
    seed_two_tastes(db_engine)
    _run(db_engine, settings, "tune", {"trials": 2})
    _best_is(settings, als.settings_for("implicit", factors=6, iterations=4, alpha=3.0))
    tuned = tuned_settings(settings.instance_dir)
    assert tuned is not None and tuned[0].factors == 6

    _run(db_engine, settings, "train", {})
    by_worker = _published_settings(settings)
    command = CliRunner().invoke(main, ["train"], env=settings_env)
    by_command = _published_settings(settings)

    assert command.exit_code == 0, command.output
    assert by_worker == by_command == dataclasses.asdict(tuned[0])


def test_explicit_values_win_over_the_study_and_bad_ones_are_named(
    db_engine: Engine, settings: Settings
) -> None:
    seed_two_tastes(db_engine)
    _run(db_engine, settings, "tune", {"trials": 2})

    plan = plan_training(settings.instance_dir, "implicit", {"factors": 3, "alpha": None})

    assert plan.settings.factors == 3 and plan.tuned_from is not None
    with pytest.raises(InvalidTrainingSettings, match="unknown parameter"):
        plan_training(settings.instance_dir, "explicit", {"alpha": 2.0})
