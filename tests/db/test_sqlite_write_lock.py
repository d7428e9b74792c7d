"""SQLite writers wait for the write lock in Python, where gevent can run other greenlets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc, text

from musicrec.db import session as db_session
from musicrec.db.session import make_engine


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "locks.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")  # as the app leaves every database
        connection.execute("CREATE TABLE notes (body TEXT)")
    return path


def test_a_writer_sleeps_cooperatively_until_the_lock_is_free(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another connection holds the lock; the writer's first try fails at once (no wait in C),
    it sleeps through ``time.sleep`` (gevent's, in a worker), during which the holder commits."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        holder.execute("COMMIT")

    monkeypatch.setattr(db_session.time, "sleep", sleep)
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO notes VALUES ('written')"))
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    holder.close()

    assert pauses == [db_session.SQLITE_LOCK_PAUSES[0]]
    assert timeout == db_session.SQLITE_BUSY_TIMEOUT_MS  # other statements keep SQLite's wait
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM notes")).scalars().all() == ["written"]
    engine.dispose()


def test_a_writer_gives_up_after_the_busy_timeout_as_a_database_error(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock never released: an OperationalError (the app's 503), not a bare sqlite3 error."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(db_session, "SQLITE_BUSY_TIMEOUT_MS", 50)
    engine = make_engine(f"sqlite:///{database}")
    with pytest.raises(exc.OperationalError, match="locked"), engine.begin() as connection:
        connection.execute(text("INSERT INTO notes VALUES ('never')"))
    holder.execute("ROLLBACK")
    holder.close()
    engine.dispose()
