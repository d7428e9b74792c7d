"""An import killed midway (SIGKILL while it writes) and run again equals one clean import."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from musicrec.db.models import Artist, DataImport, Rating, User
from musicrec.db.session import make_engine
from tests.conftest import POSTGRES_ADMIN_URL
from tests.live_server import (
    instance_env,
    musicrec_command,
    run_musicrec,
    temporary_postgres_database,
)

pytestmark = [pytest.mark.fault, pytest.mark.slow, pytest.mark.realdata]

WRITE_TIMEOUT = 120.0


def _writing(engine: Engine, database_url: str) -> bool:
    """Whether the import's transaction has begun writing."""
    if database_url.startswith("sqlite"):
        wal = Path(make_engine(database_url).url.database + "-wal")  # type: ignore[operator]
        return wal.exists() and wal.stat().st_size > 256 * 1024
    with engine.connect() as connection:
        return bool(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                    "AND query ILIKE '%import_%'"
                )
            ).scalar_one()
        )


def _contents(url: str) -> dict[str, object]:
    """What an import leaves: every rating by user and artist, and the counts of each table."""
    engine = make_engine(url)
    with engine.connect() as connection:
        ratings = connection.execute(
            select(User.lastfm_id, Artist.lastfm_id, Rating.rating, Rating.listens)
            .join(User, User.id == Rating.user_id)
            .join(Artist, Artist.id == Rating.artist_id)
            .order_by(User.lastfm_id, Artist.lastfm_id)
        ).all()
        counts = {
            model.__tablename__: connection.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
            for model in (User, Artist, Rating, DataImport)
        }
        names = connection.execute(
            select(Artist.name, Artist.lastfm_url).order_by(Artist.lastfm_id)
        ).all()
    engine.dispose()
    return {
        "ratings": [tuple(row) for row in ratings],
        "counts": counts,
        "artists": [tuple(r) for r in names],
    }


def test_a_killed_import_run_again_equals_one_clean_import(
    database_url: str, shared_data: Path, tmp_path: Path
) -> None:
    env = instance_env(tmp_path / "instance", database_url)
    (tmp_path / "instance").mkdir()
    run_musicrec(env, "init-db")
    engine = make_engine(database_url)
    process = subprocess.Popen(
        musicrec_command("import-lastfm", str(shared_data)),
        env=env,
        cwd=tmp_path / "instance",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + WRITE_TIMEOUT
        while not _writing(engine, database_url) and process.poll() is None:
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):  # gone already: the assert says so
            os.kill(process.pid, signal.SIGKILL)  # at once: the import is writing now
    finally:
        process.wait(timeout=30)
        engine.dispose()
    assert process.returncode == -signal.SIGKILL, "the import finished before it was killed"

    run_musicrec(env, "import-lastfm", str(shared_data))

    if database_url.startswith("sqlite"):
        clean_url = f"sqlite:///{tmp_path / 'clean.sqlite3'}"
        clean_env = instance_env(tmp_path / "instance", clean_url)
        run_musicrec(clean_env, "init-db")
        run_musicrec(clean_env, "import-lastfm", str(shared_data))
        assert _contents(database_url) == _contents(clean_url)
        return
    with temporary_postgres_database(POSTGRES_ADMIN_URL) as clean_url:
        clean_env = instance_env(tmp_path / "instance", clean_url)
        run_musicrec(clean_env, "init-db")
        run_musicrec(clean_env, "import-lastfm", str(shared_data))
        assert _contents(database_url) == _contents(clean_url)
