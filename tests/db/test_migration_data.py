"""Upgrading a database that holds data keeps every row, one revision at a time.

SQLite alters a table by copying it; a copy that drops the old table with foreign keys on
cascades into every table that refers to it (0005 once deleted every rating that way).
"""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from musicrec.db import migrate
from musicrec.db.session import make_engine

ROWS = {
    "users": "INSERT INTO users (id, username, username_key, created_at)"
    " VALUES (1, 'ada', 'ada', '2026-01-01 00:00:00')",
    "artists": "INSERT INTO artists (id, name, name_key, created_at)"
    " VALUES (1, 'Björk', 'bjork', '2026-01-01 00:00:00')",
    "ratings": "INSERT INTO ratings (user_id, artist_id, rating, source, created_at, updated_at)"
    " VALUES (1, 1, 9, 'manual', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
}


def _revisions() -> list[str]:
    scripts = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - module constants
            for table in ROWS
        }


def test_every_revision_keeps_the_rows_it_finds(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        first, *later = _revisions()
        migrate.upgrade(engine, first)
        with engine.begin() as connection:
            for insert in ROWS.values():
                connection.execute(text(insert))
        for revision in later:
            migrate.upgrade(engine, revision)
            assert _counts(engine) == dict.fromkeys(ROWS, 1), f"rows lost by {revision}"
    finally:
        engine.dispose()
