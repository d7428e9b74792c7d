"""Fixtures shared by the whole suite: databases, settings, app, client, data paths."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from musicrec.config import Settings
from musicrec.db import migrate
from musicrec.db.session import make_engine, normalise_url

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(  # absolute: tests run commands from other working directories
    os.environ.get("STARTER_DATA") or REPO_ROOT.parent / "shared" / "data" / "lastfm-2k"
).resolve()
POSTGRES_ADMIN_URL = os.environ.get(
    "MUSICREC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    """Under CI a missing service is a failure, never a silent skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: tests that need it must not skip)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (per xdist worker), dropped after."""
    admin = create_engine(normalise_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    name = f"musicrec_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server counts
        admin.dispose()
        _unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}")
    url = make_url(normalise_url(POSTGRES_ADMIN_URL)).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _reset_schema(engine: Engine) -> None:
    """Drop every table (and Alembic's record) so each test starts from an empty database."""
    from musicrec.db.models import Base

    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to the latest revision once per session (per xdist worker)."""
    path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind: a SQLite file of this test's, or the session's PostgreSQL
    database emptied. Empty, except that a test using ``db_engine`` gets a SQLite file already
    migrated to the latest revision (a copy of one migrated once per session)."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        if "db_engine" in request.fixturenames:
            shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    _reset_schema(engine)
    engine.dispose()
    yield url


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to the latest revision (nothing left to do for the
    SQLite copy ``database_url`` made)."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        instance_dir=tmp_path / "instance",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        model_dir=tmp_path / "models",
        env="development",
    )


@pytest.fixture
def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that make the CLI use ``settings``."""
    return {
        "MUSICREC_INSTANCE_DIR": str(settings.instance_dir),
        "MUSICREC_DATABASE_URL": settings.database_url,
        "MUSICREC_SECRET_KEY": settings.secret_key,
        "MUSICREC_MODEL_DIR": str(settings.model_dir),
    }


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "user_artist_scrobbles.csv").exists():
        _unavailable(f"the shared Last.fm data is not at {SHARED_DATA}")
    return SHARED_DATA


# The Spotify and Last.fm stand-ins and the Prism mock, for every test directory.
from tests.spotify_fixtures import (  # noqa: E402, F401
    accounts_standin,
    lastfm_standin,
    prism_url,
)
