"""A model version of realistic size, published without training: what loading and swapping
cost depends on the size of the arrays, not on how they were fitted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Engine, insert, select

from musicrec.db.models import Artist
from musicrec.engine import als
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.data import IdMap
from musicrec.engine.implicit_als import ImplicitALSModel, bm25_stats

# About the Last.fm 360K data set's scale: 100,000 listeners, 100,000 artists, 64 factors and
# 2 million plays (a version of about 130 MB on disk).
USERS, ARTISTS, FACTORS, PLAYS = 100_000, 100_000, 64, 2_000_000
PADDING_IDS = 10_000_000  # artists the database does not hold get ids from here


def add_realistic_catalogue(engine: Engine) -> list[int]:
    """Pad the database's artists to ``ARTISTS``; every artist id, sorted."""
    with engine.begin() as connection:
        have = connection.execute(select(Artist.id)).scalars().all()
        rows = [
            {"name": f"Catalogue artist {n}", "name_key": f"catalogue artist {n}"}
            for n in range(ARTISTS - len(have))
        ]
        if rows:
            connection.execute(insert(Artist), rows)
        return sorted(connection.execute(select(Artist.id)).scalars().all())


def publish_realistic_model(model_dir: Path, artist_ids: list[int], seed: int = 0) -> str:
    """Publish an implicit ALS version whose artists include ``artist_ids`` (the database's,
    so fold-ins find them) padded to ``ARTISTS``; returns its name."""
    rng = np.random.default_rng(seed)
    items = np.unique(
        np.concatenate([np.asarray(artist_ids), PADDING_IDS + np.arange(ARTISTS - len(artist_ids))])
    )
    users = np.arange(1, USERS + 1)
    train = sp.csr_matrix(
        (
            rng.integers(1, 10, PLAYS).astype(np.float64),
            (rng.integers(0, USERS, PLAYS), rng.integers(0, len(items), PLAYS)),
        ),
        shape=(USERS, len(items)),
    )
    train.sum_duplicates()
    settings = als.settings_for("implicit", factors=FACTORS)
    model = ImplicitALSModel(
        users=IdMap(users),
        items=IdMap(items),
        user_factors=rng.normal(0, 0.1, (USERS, FACTORS)),
        item_factors=rng.normal(0, 0.1, (len(items), FACTORS)),
        train=train,
        settings=settings,
        global_mean=0.0,
        kind="implicit-als",
    )
    model.bm25 = bm25_stats(train, settings.bm25_k1, settings.bm25_b)
    fingerprint = f"{seed:012x}" + "0" * 52
    return ModelStore(model_dir).publish(
        model, metrics={"training_seconds": 0.0}, data_fingerprint=fingerprint
    )
