"""Train a model on every trainable rating (``db.trainable``) and publish it as a new version."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from musicrec.db.ratings import RatingArrays, all_ratings
from musicrec.db.session import read_transaction
from musicrec.engine import als
from musicrec.engine.artifacts import DEFAULT_KEEP, ModelStore, ratings_fingerprint
from musicrec.engine.data import RatingMatrix
from musicrec.engine.model import FactorModel, IterationCallback
from musicrec.engine.settings import ModelSettings
from musicrec.services.model_store import FOLDER, shared_models

ENGINES = ("embedded", "spark")


@dataclass(frozen=True)
class TrainingReport:
    version: str
    kind: str
    model_settings: ModelSettings
    users: int
    artists: int
    ratings: int
    seconds: float


def settings_with_overrides(
    kind: str, base: ModelSettings | None = None, **overrides: Any
) -> ModelSettings:
    """``base`` (e.g. a tuning study's best settings; default: the kind's defaults) with the
    given overrides (None values ignored) applied."""
    if base is None:
        return als.settings_for(kind, **overrides)
    if base.kind != kind:
        raise ValueError(f"the base settings are for {base.kind} ALS, not {kind}")
    als.settings_for(kind, **overrides)  # the same checks of names and values
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class SparkTarget:
    """Where ``engine="spark"`` trains: the master (None: spark-submit's, else local[*]), the
    checkpoint folder (None: ``spark-checkpoints`` beside the model folder) and extra Spark
    configuration."""

    master: str | None = None
    checkpoint_dir: Path | None = None
    conf: Mapping[str, str] = field(default_factory=dict)


def train_and_publish(
    database: Engine,
    model_dir: Path,
    kind: str = als.DEFAULT_KIND,
    *,
    keep_versions: int = DEFAULT_KEEP,
    base: ModelSettings | None = None,
    engine: str = "embedded",
    spark: SparkTarget | None = None,
    on_iteration: IterationCallback | None = None,
    model_store: str = FOLDER,
    **overrides: Any,
) -> TrainingReport:
    """Read the ratings (in a short transaction of ``database``, closed before the training:
    no lock or snapshot is held while it runs), train with ``base`` (default: the kind's
    defaults) and ``overrides`` (``engine``: embedded or spark), publish atomically, then
    keep only the newest ``keep_versions`` versions (never one being served). Any failure
    leaves the current version serving.

    The embedded engine's training loss after each sweep is kept in the version's metrics
    (``loss``) and passed to ``on_iteration`` as it comes.

    With ``model_store="database"`` the version, once written to ``model_dir``, is copied into
    the database (complete only once every chunk is in), which every node fetches from; the
    database's versions are pruned too, never one a live node serves."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; use one of {ENGINES}")
    model_settings = settings_with_overrides(kind, base, **overrides)
    start = time.perf_counter()
    with read_transaction(database) as session:
        data = all_ratings(session)
    if data.ratings.size == 0:
        raise ValueError("There are no ratings to train on: import data or rate artists first.")
    engine_metrics: dict[str, Any] = {}
    losses: list[float | None] = []

    def record(iteration: int, loss: float | None) -> None:
        losses.append(loss)
        if on_iteration is not None:
            on_iteration(iteration, loss)

    if engine == "spark":
        model, engine_metrics = _train_on_spark(data, model_settings, model_dir, spark)
    else:
        model = als.train_arrays(
            data.user_ids, data.artist_ids, data.ratings, model_settings, on_iteration=record
        )
    seconds = time.perf_counter() - start
    store = ModelStore(model_dir)
    version = store.publish(
        model,
        metrics={
            "training_seconds": round(seconds, 3),
            "engine": engine,
            "loss": losses,
            **engine_metrics,
        },
        data_fingerprint=ratings_fingerprint(data.user_ids, data.artist_ids, data.ratings),
    )
    shared = shared_models(model_store, database, model_dir, keep_versions)
    if shared is not None:
        try:
            shared.upload(version)
        except BaseException:  # not published for the nodes: not published at all
            store.remove(version)
            raise
        shared.prune()
    store.prune(keep_versions)
    return TrainingReport(
        version=version,
        kind=kind,
        model_settings=model_settings,
        users=len(model.users),
        artists=len(model.items),
        ratings=int(data.ratings.size),
        seconds=seconds,
    )


def _train_on_spark(
    data: RatingArrays, model_settings: ModelSettings, model_dir: Path, spark: SparkTarget | None
) -> tuple[FactorModel, dict[str, Any]]:
    from musicrec.engine import spark_als

    spark = spark or SparkTarget()
    run = spark_als.fit_on_spark(
        RatingMatrix.from_arrays(data.user_ids, data.artist_ids, data.ratings),
        model_settings,
        master=spark.master,
        checkpoint_dir=spark.checkpoint_dir or model_dir.parent / "spark-checkpoints",
        conf=spark.conf,
    )
    return run.model, {"spark_seconds": run.seconds}


def has_model(model_dir: Path) -> bool:
    return bool(ModelStore(model_dir).versions())
