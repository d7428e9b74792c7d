"""The rating data each case trains on, by name: the shared Last.fm set (whole, or the training
part of the holdout split that quality is measured on) or a synthetic scale."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import subjects
import synthetic
from measure import REPO

SHARED = Path(
    os.environ.get("STARTER_DATA") or REPO.parent / "shared" / "data" / "lastfm-2k"
).resolve()
SCALES = {"lastfm360k-tenth": 0.1, "lastfm360k-full": 1.0}
# The training part of the shared data's holdout split, one fixed seed for every side.
HOLDOUT = "lastfm2k-train"
HOLDOUT_SEED = 42
NAMES = ("lastfm2k", HOLDOUT, *SCALES)


def holdout() -> subjects.Holdout:
    return subjects.shared_holdout(SHARED, HOLDOUT_SEED)


def rating_matrix(name: str):  # type: ignore[no-untyped-def]
    """The rating matrix of a named data set, ratings mapped from plays as the import does."""
    if name == "lastfm2k":
        return subjects.rating_matrix(*subjects.shared_arrays(SHARED))
    if name == HOLDOUT:
        return holdout().train
    data = synthetic.load(SCALES[name])
    ratings = subjects.ratings_from_listens(data.user_ids, data.plays)
    catalogue = np.arange(data.n_artists)  # artists nobody drew keep their column
    return subjects.rating_matrix(data.user_ids, data.artist_ids, ratings, catalogue)


def describe(name: str) -> str:
    if name == "lastfm2k":
        return f"the shared Last.fm hetrec-2011 data ({SHARED.name})"
    if name == HOLDOUT:
        return f"the training part of the shared data's holdout split (seed {HOLDOUT_SEED})"
    return f"synthetic Last.fm-360K shape at scale {SCALES[name]:g} (benchmarks/synthetic.py)"
