"""Import Last.fm listening histories as starter users, artists and ratings.

The import maps listens to ratings and hands the rows to ``db.bulk_import``, which stages them
in bulk and merges them with set-based statements, so a second import of the same data changes
nothing. The caller owns the transaction: a failure at any point leaves the database as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session
from tqdm import tqdm

from musicrec.datasets import ListeningData
from musicrec.db import bulk_import
from musicrec.db.types import utcnow
from musicrec.engine.mapping import listens_to_ratings
from musicrec.names import fold_name

SOURCE = "lastfm"
STARTER_USERNAME_PREFIX = "lastfm:"  # ':' is not allowed in sign-up names, so no clash


@dataclass(frozen=True)
class ImportSummary:
    """What the data holds and how many rows the import inserted or changed."""

    users: int
    artists: int
    ratings: int
    source_rows: int
    artists_changed: int
    users_added: int
    ratings_changed: int
    fingerprint: str


def mapped_ratings(data: ListeningData) -> np.ndarray:
    """The 1..10 rating of each listening row, by the import's mapping."""
    user_index = np.unique(data.user_ids, return_inverse=True)[1]
    return listens_to_ratings(user_index, data.listens)


def import_fingerprint(data: ListeningData, ratings: np.ndarray | None = None) -> str:
    """A hash of everything the import writes (ratings included, so a new listens-to-rating
    mapping makes the same files import again), to recognise data imported before."""
    ratings = mapped_ratings(data) if ratings is None else ratings
    digest = hashlib.sha256()
    for array in (data.artist_ids, data.user_ids, data.item_ids, data.listens, ratings):
        digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
    for value in (*data.artist_names, *data.artist_urls):
        digest.update(value.encode("utf-8") + b"\0")
    return digest.hexdigest()


def already_imported(session: Session, fingerprint: str) -> bool:
    return bulk_import.import_recorded(session, fingerprint)


def import_listening_data(
    session: Session, data: ListeningData, *, location: str, progress: bool = False
) -> ImportSummary:
    """Merge ``data`` into the database and record the import (the caller commits)."""
    user_ids = np.unique(data.user_ids)
    ratings = mapped_ratings(data)
    fingerprint = import_fingerprint(data, ratings)
    total = len(data.artist_ids) + len(user_ids) + len(data.listens)
    now = utcnow()
    rows = bulk_import.StagedRows(
        artists=(
            (int(artist), name, fold_name(name), url)
            for artist, name, url in zip(
                data.artist_ids, data.artist_names, data.artist_urls, strict=True
            )
        ),
        users=((int(user), f"{STARTER_USERNAME_PREFIX}{int(user)}") for user in user_ids),
        ratings=zip(
            data.user_ids.tolist(),
            data.item_ids.tolist(),
            ratings.tolist(),
            data.listens.tolist(),
            strict=True,
        ),
    )
    with tqdm(total=total, unit="row", disable=not progress, desc="import") as bar:
        changed = bulk_import.merge_rows(session, rows, source=SOURCE, now=now, on_rows=bar.update)
    bulk_import.record_import(
        session,
        source=SOURCE,
        fingerprint=fingerprint,
        location=location,
        users=len(user_ids),
        artists=len(data.artist_ids),
        ratings=len(data.listens),
        imported_at=now,
    )
    return ImportSummary(
        users=len(user_ids),
        artists=len(data.artist_ids),
        ratings=len(data.listens),
        source_rows=data.source_rows,
        artists_changed=changed.artists,
        users_added=changed.users,
        ratings_changed=changed.ratings,
        fingerprint=fingerprint,
    )
