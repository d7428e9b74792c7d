"""What ``musicrec tune`` and ``musicrec train`` need from the database and the instance
folder: the app's ratings as a validation split, and the best settings a study stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from musicrec.db.ratings import all_ratings
from musicrec.engine.settings import ImplicitSettings
from musicrec.engine.tuning import STORAGE_FILE, best_settings, default_storage, newest_study
from musicrec.engine.validation import ValidationSplit, split_ratings


def database_split(session: Session) -> ValidationSplit:
    """The validation split of the trainable ratings (``db.trainable``: what ``train`` reads);
    its ``data_key`` names the study (``tuning.study_name``)."""
    data = all_ratings(session)
    if data.ratings.size == 0:
        raise ValueError("There are no ratings to tune on: import data or rate artists first.")
    return split_ratings(data.user_ids, data.artist_ids, np.asarray(data.ratings, dtype=np.float64))


def tuned_settings(
    instance_dir: Path, storage: str | None = None, engine: str = "embedded"
) -> tuple[ImplicitSettings, dict[str, Any]] | None:
    """The best implicit settings of the engine's newest study in ``storage`` (default: the
    instance folder's SQLite file, when it exists), with where they came from; None without
    a study. Studies are keyed by their data (``tuning.study_name``): the newest is the one
    tuned on the most recent data."""
    if storage is None:
        if not (Path(instance_dir) / STORAGE_FILE).exists():
            return None
        storage = default_storage(instance_dir)
    name = newest_study(storage, engine)
    return None if name is None else best_settings(storage, name)
