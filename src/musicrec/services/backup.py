"""Back up the configured database to a file, and restore one (``musicrec backup``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from musicrec.db import copies
from musicrec.db.copies import BackupError

__all__ = ["BackupError", "BackupReport", "backup_database", "restore_database"]


@dataclass(frozen=True)
class BackupReport:
    kind: str  # "sqlite" (online backup API) or "postgresql" (pg_dump custom format)
    path: Path
    rows: dict[str, int]  # per table, counted when the copy was made

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def _kind(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"No backup method for {name} databases.")
    return name


def backup_database(engine: Engine, dest: Path) -> BackupReport:
    """Write a copy of the live database to ``dest`` (refusing to overwrite a file)."""
    kind = _kind(engine)
    if dest.exists():
        raise BackupError(f"{dest} exists: choose a new file name.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    url = engine.url.render_as_string(hide_password=False)
    rows = copies.row_counts(engine)
    if kind == "sqlite":
        copies.sqlite_copy(copies.sqlite_path(url), dest)
    else:
        copies.pg_dump(url, dest)
    return BackupReport(kind, dest, rows)


def restore_database(engine: Engine, source: Path) -> dict[str, int]:
    """Load the backup at ``source`` into the database of ``engine``; its row counts after.

    PostgreSQL: the database must be empty (create it first). SQLite: the file is replaced
    page by page; stop the server first so nobody writes to the old data meanwhile.
    """
    kind = _kind(engine)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file")
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    if kind == "sqlite":
        copies.sqlite_copy(source, copies.sqlite_path(url))
    else:
        copies.pg_restore(url, source)
    return copies.row_counts(engine)
