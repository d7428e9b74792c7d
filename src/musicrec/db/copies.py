"""Copies of the database taken while it serves: SQLite's online backup API, PostgreSQL's
``pg_dump`` (custom format), and the way back for each."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess  # nosec B404: runs pg_dump/pg_restore with argument lists, no shell
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select, table
from sqlalchemy.engine import make_url

PG_TOOL_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why."""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"Cannot back up the SQLite database {database!r}: not a file.")
    return Path(database)


def sqlite_copy(source: Path, dest: Path) -> None:
    """Copy a live SQLite database page by page (readers and writers may go on meanwhile)."""
    if not source.exists():
        raise BackupError(f"{source}: no such database file")
    reader = sqlite3.connect(source)
    writer = sqlite3.connect(dest)
    try:
        with writer:
            reader.backup(writer, pages=1024)
    finally:
        writer.close()
        reader.close()


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no ``+psycopg`` driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for folder in PG_TOOL_DIRS:
        if (folder / name).exists():
            return str(folder / name)
    raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)  # nosec B603: no shell
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()}")


def pg_dump(url: str, dest: Path) -> None:
    """``pg_dump --format=custom``: one consistent snapshot, restorable with ``pg_restore``."""
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dest}", libpq_url(url)])


def pg_restore(url: str, source: Path) -> None:
    """Load a ``pg_dump`` file into the (empty) database at ``url``, all or nothing."""
    _run(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={libpq_url(url)}",
            str(source),
        ]
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the database (Alembic's record included)."""
    names = inspect(engine).get_table_names()
    with engine.connect() as connection:
        return {
            name: int(
                connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            )
            for name in sorted(names)
        }
