"""The rating data each case trains on, by name: the shared Last.fm set or a synthetic scale."""

from __future__ import annotations

import os
from pathlib import Path

import subjects
import synthetic
from measure import REPO

SHARED = Path(
    os.environ.get("STARTER_DATA") or REPO.parent / "shared" / "data" / "lastfm-2k"
).resolve()
SCALES = {"lastfm360k-tenth": 0.1, "lastfm360k-full": 1.0}
NAMES = ("lastfm2k", *SCALES)


def rating_matrix(name: str):  # type: ignore[no-untyped-def]
    """The rating matrix of a named data set, ratings mapped from plays as the import does."""
    if name == "lastfm2k":
        return subjects.rating_matrix(*subjects.shared_arrays(SHARED))
    data = synthetic.load(SCALES[name])
    ratings = subjects.ratings_from_listens(data.user_ids, data.plays)
    shape = (data.n_users, data.n_artists)
    return subjects.dense_rating_matrix(data.user_ids, data.artist_ids, ratings, shape)


def describe(name: str) -> str:
    if name == "lastfm2k":
        return f"the shared Last.fm hetrec-2011 data ({SHARED.name})"
    return f"synthetic Last.fm-360K shape at scale {SCALES[name]:g} (benchmarks/synthetic.py)"
