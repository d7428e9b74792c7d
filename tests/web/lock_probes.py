"""Probes for a transaction left open by another connection, and a writer timed meanwhile.

``open_transactions`` asks the database itself: on PostgreSQL, ``pg_stat_activity`` lists the
other backends inside a transaction; on SQLite, a ``TRUNCATE`` checkpoint (without waiting)
reports busy while any connection holds the write lock or a read snapshot of the log.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from sqlalchemy import Engine, text

# A write by another user must finish within this while the slow work goes on. It takes
# milliseconds; a writer blocked behind the slow work would wait for the rest of it, at least
# 1.7 s (the stand-ins hold it for 2 s or more and the probe starts 0.3 s in), so 1 s tells the
# two apart with room for a loaded machine (0.70 s was seen once under the full suite).
WRITER_BUDGET_S = 1.0


def open_transactions(engine: Engine) -> int:
    """How many other connections hold a transaction open right now."""
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        assert database
        connection = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            connection.execute("PRAGMA busy_timeout = 0")
            busy, _log, _done = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            return int(busy)
        finally:
            connection.close()
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                    " AND xact_start IS NOT NULL"
                )
            ).scalar_one()
        )


def timed(write: Callable[[], object]) -> float:
    """Seconds ``write`` took."""
    start = time.perf_counter()
    write()
    return time.perf_counter() - start
