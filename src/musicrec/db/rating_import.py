"""Write a user's import of their own ratings and dislikes: staged, then merged set-based.

The checked rows go into temporary tables (COPY on PostgreSQL, executemany on SQLite) in a
transaction of their own that takes no lock anyone else waits for: a temporary table lives
outside the shared database, and on SQLite that transaction begins DEFERRED (``READ_MOSTLY``).
Then three statements (insert the new ratings, update the changed ones, add the dislikes) merge
them in one short write transaction: all or nothing, and SQLite's write lock is held for tens
of milliseconds for 20,000 rows, where one upsert per row held it 16 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.schema import CreateTable, DropTable

from musicrec.db.bulk_import import Stager
from musicrec.db.dialect import dialect_insert
from musicrec.db.models import Dislike, Rating
from musicrec.db.session import READ_MOSTLY

_temporary = MetaData()
STAGED_RATINGS = Table(
    "my_import_ratings",
    _temporary,
    Column("artist_id", Integer, primary_key=True),
    Column("rating_id", Integer),  # the stored rating it changes; NULL for a new one
    Column("rating", SmallInteger, nullable=False),
    Column("source", String(16), nullable=False),
    prefixes=["TEMPORARY"],
)
STAGED_DISLIKES = Table(
    "my_import_dislikes",
    _temporary,
    Column("artist_id", Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)
STAGED = (STAGED_RATINGS, STAGED_DISLIKES)

NewRating = tuple[int, int, str]  # artist id, value, source
ChangedRating = tuple[int, int, int, str]  # artist id, stored rating's id, value, source


def merge_import(
    engine: Engine,
    user_id: int,
    new: Sequence[NewRating],
    changed: Sequence[ChangedRating],
    disliked: Sequence[int],
    now: datetime,
) -> None:
    """Insert ``new``, update ``changed`` and mark ``disliked``, all in one transaction.

    A rating the user set meanwhile (another request) for a ``new`` artist stands; rows left
    out keep their ``updated_at``. Runs on its own connection: the caller must hold no
    transaction that keeps SQLite's write lock."""
    with engine.connect() as connection:
        try:
            connection.execution_options(**{READ_MOSTLY: True})
            with connection.begin():
                _stage(connection, new, changed, disliked)
            connection.execution_options(**{READ_MOSTLY: False})
            with connection.begin():
                _merge(connection, user_id, now)
        finally:
            connection.execution_options(**{READ_MOSTLY: True})
            with connection.begin():
                _drop(connection)


def _stage(
    connection: Connection,
    new: Sequence[NewRating],
    changed: Sequence[ChangedRating],
    disliked: Sequence[int],
) -> None:
    _drop(connection)  # a table left by an import that died on this pooled connection
    for table in STAGED:
        connection.execute(CreateTable(table))
    stager = Stager(connection, lambda _count: None)
    columns = ("artist_id", "rating_id", "rating", "source")
    stager.fill(STAGED_RATINGS.name, columns, ((a, None, v, s) for a, v, s in new))
    stager.fill(STAGED_RATINGS.name, columns, changed)
    stager.fill(STAGED_DISLIKES.name, ("artist_id",), ((a,) for a in disliked))


def _merge(connection: Connection, user_id: int, now: datetime) -> None:
    dialect = connection.dialect.name
    staged = STAGED_RATINGS.c
    connection.execute(
        dialect_insert(dialect, Rating)
        .from_select(
            ["user_id", "artist_id", "rating", "source", "created_at", "updated_at"],
            select(
                literal(user_id, Integer),
                staged.artist_id,
                staged.rating,
                staged.source,
                literal(now, Rating.created_at.type),
                literal(now, Rating.updated_at.type),
            ).where(staged.rating_id.is_(None)),
        )
        .on_conflict_do_nothing(index_elements=["user_id", "artist_id"])
    )
    connection.execute(
        update(Rating)
        .where(Rating.id == staged.rating_id, Rating.user_id == user_id)
        .values(rating=staged.rating, source=staged.source, updated_at=now)
    )
    connection.execute(
        dialect_insert(dialect, Dislike)
        .from_select(
            ["user_id", "artist_id", "created_at"],
            select(
                literal(user_id, Integer),
                STAGED_DISLIKES.c.artist_id,
                literal(now, Dislike.created_at.type),
            ).where(true()),  # SQLite reads "SELECT ... ON CONFLICT" without WHERE as a join
        )
        .on_conflict_do_nothing(index_elements=["user_id", "artist_id"])
    )


def _drop(connection: Connection) -> None:
    for table in STAGED:
        connection.execute(DropTable(table, if_exists=True))
