"""Engines and sessions for PostgreSQL (psycopg 3) and SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain, repeat
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# An execution option for connections whose transactions only read, or may skip a failed write.
READ_MOSTLY = "musicrec_read_mostly"
# How long a SQLite writer waits for the write lock before it gives up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Pauses (seconds) between a writer's tries for the write lock, then the last one repeated.
SQLITE_LOCK_PAUSES = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05)
# A pooled PostgreSQL connection idle for longer than this is pinged before it is used again.
PING_AFTER_IDLE_S = 10.0
_IDLE_SINCE = "musicrec_idle_since"


def normalise_url(url: str) -> str:
    """Let users write plain ``postgresql://`` URLs; we always talk psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, pool: tuple[int, int] | None = None, **kwargs: Any) -> Engine:
    """An engine with foreign keys enforced and WAL on SQLite; on PostgreSQL, pooled
    connections are pinged before use when they sat idle (see ``_ping_when_idle``), and
    ``pool`` (connections kept, more allowed at a peak) sizes the pool (SQLite's connections
    cost nothing to open; an in-memory one has a single connection)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        _ensure_sqlite_folder(url)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        # pysqlite's own transaction handling skips BEGIN before DDL; take it over so that
        # migrations and imports are one real transaction each (SQLAlchemy's documented recipe).
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    if pool is not None:
        kwargs |= {"pool_size": pool[0], "max_overflow": pool[1]}
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
    if connection.get_execution_options().get(READ_MOSTLY, False):
        connection.exec_driver_sql("BEGIN DEFERRED")
    else:
        _begin_immediate(connection.connection.dbapi_connection)


def _begin_immediate(dbapi_connection: Any) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock between tries in Python, not in SQLite.

    SQLite's busy handler sleeps inside the C call. Under gevent (``musicrec serve``) that
    freezes the whole worker; when the lock is held by another greenlet of the same worker (one
    that yielded, e.g. while reading a socket), that greenlet cannot finish until the timeout:
    every request of the worker stalled 30 s and the waiting one answered 503. So each try does
    not wait (busy timeout 0) and ``time.sleep``, cooperative under gevent, waits in between;
    other statements keep SQLite's busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pauses = chain(SQLITE_LOCK_PAUSES, repeat(SQLITE_LOCK_PAUSES[-1]))
    dbapi_connection.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    # wrapped as SQLAlchemy wraps its own statements' errors (a 503 when busy)
                    raise exc.DBAPIError.instance(
                        "BEGIN IMMEDIATE", (), error, sqlite3.Error
                    ) from error
            time.sleep(next(pauses))
    finally:
        # nosemgrep: security.sql-built-from-strings (an int constant; PRAGMA takes no parameters)
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock (SQLITE_BUSY)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_BUSY if code is not None else "locked" in str(error)


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
