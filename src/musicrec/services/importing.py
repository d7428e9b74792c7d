"""Import Last.fm listening histories as starter users, artists and ratings.

The whole import is one transaction over set-based statements: the rows go into temporary
staging tables in bulk (COPY on PostgreSQL, executemany on SQLite) and are then merged with
``INSERT ... SELECT ... ON CONFLICT``, so a second import of the same data changes nothing and
a failure at any point leaves the database exactly as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, func, insert, select, text
from tqdm import tqdm

from musicrec.datasets import ListeningData
from musicrec.db.models import DataImport
from musicrec.db.types import utcnow
from musicrec.engine.mapping import listens_to_ratings
from musicrec.names import fold_name

SOURCE = "lastfm"
STARTER_USERNAME_PREFIX = "lastfm:"  # ':' is not allowed in sign-up names, so no clash
BATCH_ROWS = 10_000


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


def fingerprint(data: ListeningData, ratings: np.ndarray | None = None) -> str:
    """A hash of everything the import writes (ratings included, so a new listens-to-rating
    mapping makes the same files import again), to recognise data imported before."""
    ratings = mapped_ratings(data) if ratings is None else ratings
    digest = hashlib.sha256()
    for array in (data.artist_ids, data.user_ids, data.item_ids, data.listens, ratings):
        digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
    for value in (*data.artist_names, *data.artist_urls):
        digest.update(value.encode("utf-8") + b"\0")
    return digest.hexdigest()


def already_imported(engine: Engine, data_fingerprint: str) -> bool:
    with engine.connect() as connection:
        found = connection.execute(
            select(func.count()).where(DataImport.fingerprint == data_fingerprint)
        ).scalar_one()
    return bool(found)


def import_listening_data(
    engine: Engine, data: ListeningData, *, location: str, progress: bool = False
) -> ImportSummary:
    """Merge ``data`` into the database in one transaction and record the import."""
    user_ids = np.unique(data.user_ids)
    ratings = mapped_ratings(data)
    data_fingerprint = fingerprint(data, ratings)
    total = len(data.artist_ids) + len(user_ids) + len(data.listens)
    now = utcnow()
    with (
        tqdm(total=total, unit="row", disable=not progress, desc="import") as bar,
        engine.begin() as connection,
    ):
        stage = _Stager(connection, bar)
        stage.create()
        stage.fill(
            "import_artists",
            ("lastfm_id", "name", "name_key", "lastfm_url"),
            (
                (int(artist), name, fold_name(name), url)
                for artist, name, url in zip(
                    data.artist_ids, data.artist_names, data.artist_urls, strict=True
                )
            ),
        )
        stage.fill(
            "import_users",
            ("lastfm_id", "username"),
            ((int(user), f"{STARTER_USERNAME_PREFIX}{int(user)}") for user in user_ids),
        )
        stage.fill(
            "import_ratings",
            ("user_lastfm_id", "artist_lastfm_id", "rating", "listens"),
            zip(
                data.user_ids.tolist(),
                data.item_ids.tolist(),
                ratings.tolist(),
                data.listens.tolist(),
                strict=True,
            ),
        )
        artists_changed = connection.execute(text(MERGE_ARTISTS), {"now": now}).rowcount
        users_added = connection.execute(text(MERGE_USERS), {"now": now}).rowcount
        ratings_changed = connection.execute(
            text(MERGE_RATINGS), {"now": now, "source": SOURCE}
        ).rowcount
        stage.drop()
        connection.execute(
            insert(DataImport).values(
                source=SOURCE,
                fingerprint=data_fingerprint,
                location=location,
                users=len(user_ids),
                artists=len(data.artist_ids),
                ratings=len(data.listens),
                imported_at=now,
            )
        )
    return ImportSummary(
        users=len(user_ids),
        artists=len(data.artist_ids),
        ratings=len(data.listens),
        source_rows=data.source_rows,
        artists_changed=max(artists_changed, 0),
        users_added=max(users_added, 0),
        ratings_changed=max(ratings_changed, 0),
        fingerprint=data_fingerprint,
    )


STAGING_TABLES = {
    "import_artists": "lastfm_id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "name_key TEXT NOT NULL, lastfm_url TEXT",
    "import_users": "lastfm_id INTEGER PRIMARY KEY, username TEXT NOT NULL",
    "import_ratings": "user_lastfm_id INTEGER NOT NULL, artist_lastfm_id INTEGER NOT NULL, "
    "rating SMALLINT NOT NULL, listens INTEGER NOT NULL, "
    "PRIMARY KEY (user_lastfm_id, artist_lastfm_id)",
}

# "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
MERGE_ARTISTS = """
INSERT INTO artists (lastfm_id, name, name_key, lastfm_url, created_at)
SELECT s.lastfm_id, s.name, s.name_key, s.lastfm_url, :now FROM import_artists AS s WHERE true
ON CONFLICT (lastfm_id) DO UPDATE SET
    name = excluded.name, name_key = excluded.name_key, lastfm_url = excluded.lastfm_url
WHERE artists.name <> excluded.name OR artists.name_key <> excluded.name_key
    OR COALESCE(artists.lastfm_url, '') <> COALESCE(excluded.lastfm_url, '')
"""

MERGE_USERS = """
INSERT INTO users (lastfm_id, username, username_key, created_at)
SELECT s.lastfm_id, s.username, s.username, :now FROM import_users AS s WHERE true
ON CONFLICT (lastfm_id) DO NOTHING
"""

MERGE_RATINGS = """
INSERT INTO ratings (user_id, artist_id, rating, source, listens, created_at, updated_at)
SELECT u.id, a.id, s.rating, :source, s.listens, :now, :now
FROM import_ratings AS s
JOIN users AS u ON u.lastfm_id = s.user_lastfm_id
JOIN artists AS a ON a.lastfm_id = s.artist_lastfm_id
WHERE true
ON CONFLICT (user_id, artist_id) DO UPDATE SET
    rating = excluded.rating, listens = excluded.listens, updated_at = excluded.updated_at
WHERE ratings.source = excluded.source
    AND (ratings.rating <> excluded.rating OR COALESCE(ratings.listens, -1) <> excluded.listens)
"""


class _Stager:
    """Temporary staging tables on the import's connection, filled in bulk."""

    def __init__(self, connection: Connection, bar: tqdm[Any]) -> None:
        self.connection = connection
        self.bar = bar
        self.postgres = connection.dialect.name == "postgresql"

    def create(self) -> None:
        suffix = " ON COMMIT DROP" if self.postgres else ""
        for name, columns in STAGING_TABLES.items():
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            self.connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns}){suffix}")

    def fill(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        if self.postgres:
            self._copy(table, columns, rows)
        else:
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            for batch in _batches(rows):
                cursor.executemany(statement, batch)
                self.bar.update(len(batch))

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for batch in _batches(rows):
                for row in batch:
                    copy.write_row(row)
                self.bar.update(len(batch))

    def drop(self) -> None:
        for name in STAGING_TABLES:
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterable[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
