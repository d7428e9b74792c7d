"""Engines and sessions for PostgreSQL (psycopg 3) and SQLite."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# An execution option for connections whose transactions only read, or may skip a failed write.
READ_MOSTLY = "musicrec_read_mostly"
# How long a SQLite writer waits for the write lock before it gives up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used again.
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE = "musicrec_idle_since"


def normalise_url(url: str) -> str:
    """Let users write plain ``postgresql://`` URLs; we always talk psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with foreign keys enforced and WAL on SQLite; on PostgreSQL, pooled
    connections are pinged before use when they sat idle (see ``_ping_when_idle``)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        # pysqlite's own transaction handling skips BEGIN before DDL; take it over so that
        # migrations and imports are one real transaction each (SQLAlchemy's documented recipe).
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only when it sat idle for ``PING_AFTER_IDLE_S``.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per request, an eighth
    of a search's time under load. A connection in steady use has just proved itself alive; one
    left idle (the database restarted, a firewall dropped it) is pinged, and a dead one is
    replaced (``DisconnectionError`` from a checkout handler makes the pool connect anew).
    """

    def checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("an idle pooled connection was dead") from error

    event.listen(engine, "checkin", checkin)
    event.listen(engine, "checkout", checkout)


def _begin_sqlite_transaction(connection: Connection) -> None:
    """BEGIN IMMEDIATE takes the write lock at once, waiting up to the busy timeout for it.

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another connection wrote in between (SQLite cannot wait there), so every transaction
    that may write begins IMMEDIATE and writers take turns. A connection marked read-mostly
    (``READ_MOSTLY``: a GET request) begins DEFERRED so readers never queue behind writers (WAL).
    """
    deferred = connection.get_execution_options().get(READ_MOSTLY, False)
    connection.exec_driver_sql("BEGIN DEFERRED" if deferred else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed when the block ends, rolled back on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Session]:
    """A session for reading (e.g. every rating, before a long training): on SQLite it does not
    hold the write lock, so writers (the job heartbeat, the web) are not kept waiting."""
    reader = engine.execution_options(**{READ_MOSTLY: True})
    with Session(reader, expire_on_commit=False) as session, session.begin():
        yield session


def _ensure_sqlite_folder(url: str) -> None:
    from pathlib import Path

    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # nosemgrep: security.sql-built-from-strings (an int constant; PRAGMA takes no parameters)
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
