"""``musicrec backup``: a copy taken from the live database restores to equal row counts
(SQLite's online backup API; pg_dump in custom format for PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from musicrec.cli import main
from musicrec.db import migrate
from musicrec.db.copies import row_counts
from musicrec.db.session import make_engine
from musicrec.services.backup import BackupError, backup_database
from tests.conftest import POSTGRES_ADMIN_URL
from tests.factories import write_csv_pair
from tests.live_server import temporary_postgres_database

pytestmark = pytest.mark.fault


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database of the same kind to restore into."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    with temporary_postgres_database(POSTGRES_ADMIN_URL) as url:
        yield url


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_backup_restores_to_equal_row_counts(
    settings_env: dict[str, str], empty_database_url: str, tmp_path: Path
) -> None:
    _cli(settings_env, "init-db")
    _cli(settings_env, "import-lastfm", str(write_csv_pair(tmp_path / "data")))
    source = make_engine(settings_env["MUSICREC_DATABASE_URL"])
    before = row_counts(source)
    source.dispose()
    copy = tmp_path / "backups" / "musicrec.backup"

    made = _cli(settings_env, "backup", str(copy))
    restored = _cli(
        {**settings_env, "MUSICREC_DATABASE_URL": empty_database_url},
        "backup",
        "--restore",
        str(copy),
    )

    target = make_engine(empty_database_url)
    assert row_counts(target) == before
    assert migrate.is_up_to_date(target)
    target.dispose()
    assert before["ratings"] > 0 and before["alembic_version"] == 1
    assert f"{sum(before.values())} rows" in made and f"{sum(before.values())} rows" in restored


def test_a_backup_never_overwrites_a_file(db_engine: Engine, tmp_path: Path) -> None:
    existing = tmp_path / "kept.backup"
    existing.write_text("an earlier backup")

    with pytest.raises(BackupError, match="exists"):
        backup_database(db_engine, existing)

    assert existing.read_text() == "an earlier backup"
