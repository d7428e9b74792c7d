"""Train a model on every rating in the database and publish it as a new version."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from musicrec.db.ratings import all_ratings
from musicrec.engine import als
from musicrec.engine.artifacts import DEFAULT_KEEP, ModelStore, ratings_fingerprint
from musicrec.engine.model import IterationCallback
from musicrec.engine.settings import ModelSettings


@dataclass(frozen=True)
class TrainingReport:
    version: str
    kind: str
    model_settings: ModelSettings
    users: int
    artists: int
    ratings: int
    seconds: float


def train_and_publish(
    session: Session,
    model_dir: Path,
    kind: str = als.DEFAULT_KIND,
    *,
    keep_versions: int = DEFAULT_KEEP,
    on_iteration: IterationCallback | None = None,
    **overrides: Any,
) -> TrainingReport:
    """Read the ratings, train, publish atomically, then keep only the newest ``keep_versions``
    versions (never one being served). Any failure leaves the current version serving.

    The training loss after each sweep is kept in the version's metrics (``loss``) and passed
    to ``on_iteration`` as it comes."""
    model_settings = als.settings_for(kind, **overrides)
    start = time.perf_counter()
    data = all_ratings(session)
    if data.ratings.size == 0:
        raise ValueError("There are no ratings to train on: import data or rate artists first.")
    losses: list[float | None] = []

    def record(iteration: int, loss: float | None) -> None:
        losses.append(loss)
        if on_iteration is not None:
            on_iteration(iteration, loss)

    model = als.train_arrays(
        data.user_ids, data.artist_ids, data.ratings, model_settings, on_iteration=record
    )
    seconds = time.perf_counter() - start
    store = ModelStore(model_dir)
    version = store.publish(
        model,
        metrics={"training_seconds": round(seconds, 3), "loss": losses},
        data_fingerprint=ratings_fingerprint(data.user_ids, data.artist_ids, data.ratings),
    )
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


def has_model(model_dir: Path) -> bool:
    return bool(ModelStore(model_dir).versions())
