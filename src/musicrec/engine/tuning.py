"""Hyperparameter tuning of implicit ALS with Optuna, stored in a database as it goes.

The study maximises validation NDCG@10 (``validation.ValidationSplit``: on a dataset, the
selection group's users only, never a reported user) over the factors, the regularisation,
the confidence weighting (``bm25``, ``linear``, ``log``) and its scale alpha, and the
iterations. Each finished trial is committed to the study's
storage (a SQLite file or a PostgreSQL database) at once, so a killed run loses at most the
trial it was running; running trials send a heartbeat, and a trial whose heartbeat stopped is
marked failed when the study is resumed. The best trial's settings are also kept as the
study's user attribute ``best_settings`` (``settings_to_json``), which ``musicrec train`` reads.

A study is named by its engine and its data (``study_name``: the split's ``data_key``), so
trials on different data never mix: new data starts a new study, the same data resumes.

Optuna is imported lazily: importing the engine stays light.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from musicrec.engine import spark_als
from musicrec.engine.als import settings_for, train
from musicrec.engine.data import RatingMatrix
from musicrec.engine.model import FactorModel
from musicrec.engine.settings import (
    CONFIDENCE_WEIGHTINGS,
    ImplicitSettings,
    ModelSettings,
    settings_from_json,
    settings_to_json,
)
from musicrec.engine.validation import SELECTION_SEED, Trainer, ValidationSplit

if TYPE_CHECKING:
    import optuna

ENGINES = ("embedded", "spark")
OBJECTIVE = "ndcg@10"
BEST_SETTINGS_ATTR = "best_settings"
HEARTBEAT_SECONDS = 2  # a running trial's heartbeat; stale after GRACE_SECONDS
GRACE_SECONDS = 6
STORAGE_FILE = "tuning.sqlite3"
# The search space: (low, high) of each numeric parameter, log-uniform except iterations.
FACTORS = (16, 128)
REGULARIZATION = (0.01, 30.0)
ALPHA = (0.02, 5.0)
ITERATIONS = (5, 30)


class EngineUnavailable(RuntimeError):
    """The named training engine is not installed in this build."""


class StudyExists(RuntimeError):
    """A study of that name is already stored and ``resume`` was not asked for."""


def trainer_for(engine: str, spark_master: str | None = None) -> Trainer:
    """The training function of an engine: ``embedded`` is ``als.train``; ``spark`` trains
    each model on Spark (``spark_als.train_on_spark``) in one session, started on first use."""
    if engine == "embedded":
        return train
    if engine != "spark":
        raise ValueError(f"unknown engine {engine!r}; use one of {ENGINES}")
    if not spark_als.spark_available():
        raise EngineUnavailable(spark_als.INSTALL_HINT)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # bind where the machine can
    sessions: list[Any] = []

    def train_on_spark(matrix: RatingMatrix, settings: ModelSettings) -> FactorModel:
        if not sessions:
            sessions.append(spark_als.spark_session(spark_master or spark_als.DEFAULT_MASTER))
        return spark_als.train_on_spark(matrix, settings, session=sessions[0])

    return train_on_spark


STUDY_PREFIX = "musicrec-"


def study_name(engine: str, data_key: str) -> str:
    """``musicrec-<engine>-implicit-<data_key>``: one study per engine and data."""
    return f"{STUDY_PREFIX}{engine}-implicit-{data_key}"


def newest_study(storage: str, engine: str) -> str | None:
    """The name of the engine's most recently started study that has best settings (what
    ``musicrec train`` uses: the app's data changes, and each change starts a new study)."""
    import optuna

    prefix = study_name(engine, "")
    summaries = [
        summary
        for summary in optuna.get_all_study_summaries(_storage(storage), include_best_trial=False)
        if summary.study_name.startswith(prefix) and BEST_SETTINGS_ATTR in summary.user_attrs
    ]
    if not summaries:
        return None
    newest = max(summaries, key=lambda s: (s.datetime_start or datetime.min, s.study_name))
    return newest.study_name


def default_storage(instance_dir: Path) -> str:
    """The SQLite file in the instance folder that holds the studies by default."""
    return f"sqlite:///{Path(instance_dir).resolve() / STORAGE_FILE}"


def suggest_settings(trial: optuna.Trial, base: ImplicitSettings) -> ImplicitSettings:
    """One point of the search space, the other fields taken from ``base``."""
    return dataclasses.replace(
        base,
        factors=trial.suggest_int("factors", *FACTORS, log=True),
        regularization=trial.suggest_float("regularization", *REGULARIZATION, log=True),
        confidence=trial.suggest_categorical("confidence", list(CONFIDENCE_WEIGHTINGS)),
        alpha=trial.suggest_float("alpha", *ALPHA, log=True),
        iterations=trial.suggest_int("iterations", *ITERATIONS),
    )


def _search_params(settings: ImplicitSettings) -> dict[str, Any]:
    return {
        name: getattr(settings, name)
        for name in ("factors", "regularization", "confidence", "alpha", "iterations")
    }


@contextmanager
def _logging_kept() -> Iterator[None]:
    """Optuna stamps a new storage with Alembic, whose env.py runs ``logging.config.fileConfig``:
    that replaces the root logger's handlers and disables every existing logger (the app's
    audit log included). Put all of it back."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    disabled = {logger.name: logger.disabled for logger in loggers}
    try:
        yield
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
        for logger in loggers:
            logger.disabled = disabled[logger.name]


def _storage(url: str) -> optuna.storages.RDBStorage:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings(), _logging_kept():  # the heartbeat is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(
            url, heartbeat_interval=HEARTBEAT_SECONDS, grace_period=GRACE_SECONDS
        )


def _record_best(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """After each finished trial: keep the best settings as the study's user attribute."""
    import optuna

    if trial.state != optuna.trial.TrialState.COMPLETE or study.best_trial.number != trial.number:
        return
    study.set_user_attr(BEST_SETTINGS_ATTR, trial.user_attrs["settings"])
    study.set_user_attr("best_trial", trial.number)


def completed_trials(study: optuna.Study) -> int:
    import optuna

    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))


def _finished_trials(study: optuna.Study) -> int:
    return sum(trial.state.is_finished() for trial in study.get_trials(deepcopy=False))


def open_study(storage: str, name: str, *, resume: bool) -> optuna.Study:
    """Create the study, or load it when ``resume``; a stored study without ``resume`` raises
    :class:`StudyExists` (one study per name: results of two runs never mix by accident)."""
    import optuna

    rdb = _storage(storage)
    exists = name in optuna.get_all_study_names(storage=rdb)
    if exists and not resume:
        raise StudyExists(
            f"A study named {name!r} is already stored in {storage}: pass --resume to continue "
            "it, or --storage with another database to start afresh."
        )
    n_done = len(optuna.load_study(study_name=name, storage=rdb).trials) if exists else 0
    # A new sampler seed per run, so a resumed run does not replay the first run's draws.
    sampler = optuna.samplers.TPESampler(seed=SELECTION_SEED + n_done, n_startup_trials=8)
    study = optuna.create_study(
        study_name=name,
        storage=rdb,
        direction="maximize",
        sampler=sampler,
        load_if_exists=resume,
    )
    if exists:
        with warnings.catch_warnings():  # marked experimental, like the heartbeat
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    else:
        study.set_user_attr("objective", f"validation {OBJECTIVE}")
        study.enqueue_trial(_search_params(ImplicitSettings()))  # today's defaults first
    return study


def run_study(
    study: optuna.Study,
    split: ValidationSplit,
    *,
    trials: int,
    timeout: float | None = None,
    trainer: Trainer = train,
    progress: bool = False,
) -> int:
    """Run trials until the study has ``trials`` completed ones (or ``timeout`` seconds pass);
    returns how many trials this call ran."""

    base = settings_for("implicit", seed=SELECTION_SEED)
    assert isinstance(base, ImplicitSettings)

    def objective(trial: optuna.Trial) -> float:
        settings = suggest_settings(trial, base)
        scores = split.score(trainer(split.train, settings))
        trial.set_user_attr("settings", settings_to_json(settings))
        trial.set_user_attr("metrics", scores)
        return scores[OBJECTIVE]

    remaining = max(0, trials - completed_trials(study))
    if remaining == 0:
        return 0
    before = _finished_trials(study)
    study.optimize(
        objective,
        n_trials=remaining,
        timeout=timeout,
        callbacks=[_record_best],
        show_progress_bar=progress,
        gc_after_trial=False,
    )
    return _finished_trials(study) - before


def best_settings(storage: str, name: str) -> tuple[ImplicitSettings, dict[str, Any]] | None:
    """The best settings stored with a study and a note of where they came from (trial
    number, validation value), or None when there is no such study or no finished trial."""
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None
    stored = study.user_attrs.get(BEST_SETTINGS_ATTR)
    if stored is None:
        return None
    settings = settings_from_json(stored)
    assert isinstance(settings, ImplicitSettings)
    settings = dataclasses.replace(settings, seed=settings_for("implicit").seed)
    trial = study.trials[int(study.user_attrs["best_trial"])]
    return settings, {"study": name, "trial": trial.number, OBJECTIVE: trial.value}


def write_report(study: optuna.Study, directory: Path) -> Path:
    """An HTML page (plotly inlined, no network) with the objective by trial, each parameter's
    importance and its slice plot, and the best settings; returns its path."""
    import optuna.visualization as vis

    directory.mkdir(parents=True, exist_ok=True)
    figures = [("Validation NDCG@10 by trial", vis.plot_optimization_history(study))]
    if completed_trials(study) >= 2:
        figures += [
            ("Parameter importances (fANOVA)", vis.plot_param_importances(study)),
            ("Each parameter's effect", vis.plot_slice(study)),
        ]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Tuning study {study.study_name}</title></head><body>",
        f"<h1>Tuning study {study.study_name}</h1>",
        f"<p>{len(study.trials)} trials, {completed_trials(study)} completed; objective: "
        f"validation {OBJECTIVE} (maximised).</p>",
    ]
    if BEST_SETTINGS_ATTR in study.user_attrs:
        best = study.best_trial
        parts.append(
            f"<p>Best: trial {best.number}, {OBJECTIVE} = {best.value:.4f}, "
            f"settings <code>{study.user_attrs[BEST_SETTINGS_ATTR]}</code></p>"
        )
    for index, (title, figure) in enumerate(figures):
        parts.append(f"<h2>{title}</h2>")
        parts.append(figure.to_html(full_html=False, include_plotlyjs=index == 0))
    parts.append("</body></html>")
    page = directory / "index.html"
    page.write_text("\n".join(parts), encoding="utf-8")
    return page
