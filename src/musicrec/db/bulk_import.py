"""Set-based bulk import: staging tables filled in bulk, merged with INSERT ... ON CONFLICT.

The rows go into temporary staging tables (COPY on PostgreSQL, executemany on SQLite) and are
merged into artists, users and ratings by three statements, so a second import of the same
rows changes nothing. Everything runs on the caller's session, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session

from musicrec.db.models import DataImport

BATCH_ROWS = 10_000
Row = tuple[Any, ...]

STAGING_TABLES = {
    "import_artists": "lastfm_id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "name_key TEXT NOT NULL, lastfm_url TEXT",
    "import_users": "lastfm_id INTEGER PRIMARY KEY, username TEXT NOT NULL",
    "import_ratings": "user_lastfm_id INTEGER NOT NULL, artist_lastfm_id INTEGER NOT NULL, "
    "rating SMALLINT NOT NULL, listens INTEGER NOT NULL, "
    "PRIMARY KEY (user_lastfm_id, artist_lastfm_id)",
}
ARTIST_COLUMNS = ("lastfm_id", "name", "name_key", "lastfm_url")
USER_COLUMNS = ("lastfm_id", "username")
RATING_COLUMNS = ("user_lastfm_id", "artist_lastfm_id", "rating", "listens")

# "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint.
MERGE_ARTISTS = """
INSERT INTO artists (lastfm_id, name, name_key, lastfm_url, created_at)
SELECT s.lastfm_id, s.name, s.name_key, s.lastfm_url, :now FROM import_artists AS s WHERE true
ON CONFLICT (lastfm_id) DO UPDATE SET
    name = CASE WHEN artists.renames > 0 AND artists.name_key = excluded.name_key
        THEN artists.name ELSE excluded.name END,
    name_key = excluded.name_key, lastfm_url = excluded.lastfm_url
WHERE (artists.name <> excluded.name AND NOT (
        artists.renames > 0 AND artists.name_key = excluded.name_key))
    OR artists.name_key <> excluded.name_key
    OR COALESCE(artists.lastfm_url, '') <> COALESCE(excluded.lastfm_url, '')
"""
# (An artist its listeners respelled, db.spellings, keeps that spelling while the data's name
# folds to the same key: importing the data again does not undo "Sigur Rós".)

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


@dataclass(frozen=True)
class MergeCounts:
    """Rows each merge inserted or changed."""

    artists: int
    users: int
    ratings: int


@dataclass(frozen=True)
class StagedRows:
    """The rows to merge, as tuples in the order of ``*_COLUMNS``."""

    artists: Iterable[Row]
    users: Iterable[Row]
    ratings: Iterable[Row]


def import_recorded(session: Session, fingerprint: str) -> bool:
    """Whether an import with this fingerprint was completed before."""
    found = session.execute(
        select(func.count()).where(DataImport.fingerprint == fingerprint)
    ).scalar_one()
    return bool(found)


def merge_rows(
    session: Session,
    rows: StagedRows,
    *,
    source: str,
    now: datetime,
    on_rows: Callable[[int], None] = lambda _count: None,
) -> MergeCounts:
    """Stage ``rows`` and merge them into artists, users and ratings (no commit)."""
    stager = Stager(session.connection(), on_rows)
    stager.create()
    stager.fill("import_artists", ARTIST_COLUMNS, rows.artists)
    stager.fill("import_users", USER_COLUMNS, rows.users)
    stager.fill("import_ratings", RATING_COLUMNS, rows.ratings)
    connection = stager.connection
    counts = MergeCounts(
        artists=max(connection.execute(text(MERGE_ARTISTS), {"now": now}).rowcount, 0),
        users=max(connection.execute(text(MERGE_USERS), {"now": now}).rowcount, 0),
        ratings=max(
            connection.execute(text(MERGE_RATINGS), {"now": now, "source": source}).rowcount, 0
        ),
    )
    stager.drop()
    return counts


def record_import(session: Session, **columns: Any) -> None:
    """Remember a completed import (source, fingerprint, location, counts, imported_at)."""
    session.execute(insert(DataImport).values(**columns))


class Stager:
    """Temporary staging tables on the import's connection, filled in bulk."""

    def __init__(self, connection: Connection, on_rows: Callable[[int], None]) -> None:
        self.connection = connection
        self.on_rows = on_rows
        self.postgres = connection.dialect.name == "postgresql"

    def create(self) -> None:
        # Every name formatted into SQL in this class is one of this module's constants.
        suffix = " ON COMMIT DROP" if self.postgres else ""
        for name, columns in STAGING_TABLES.items():
            # nosemgrep: security.sql-built-from-strings
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
            # nosemgrep: security.sql-built-from-strings
            self.connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({columns}){suffix}")

    def fill(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
        cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if self.postgres:
            # nosemgrep: security.sql-built-from-strings
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for batch in _batches(rows):
                    for row in batch:
                        copy.write_row(row)
                    self.on_rows(len(batch))
            return
        marks = ", ".join("?" for _ in columns)
        # Table and column names are this module's constants; the values are bound (?).
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # nosec B608
        for batch in _batches(rows):
            cursor.executemany(statement, batch)  # nosemgrep: security.sql-built-from-strings
            self.on_rows(len(batch))

    def drop(self) -> None:
        for name in STAGING_TABLES:
            # nosemgrep: security.sql-built-from-strings
            self.connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _batches(rows: Iterable[Row]) -> Iterable[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch
