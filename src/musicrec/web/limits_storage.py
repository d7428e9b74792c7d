"""A storage for the limits library (and so flask-limiter) in the app's own database.

With ``musicrec-db://`` (the default, ``MUSICREC_RATE_LIMIT_STORAGE=database``) every gunicorn
worker, and every server on the same database, counts each limit in one row of
``rate_limit_counters``: a limit of 10 lets 10 requests through, not 10 per worker. Registered
with the limits library by subclassing its ``Storage`` with a ``STORAGE_SCHEME`` (its documented
way to add a backend). It supports the fixed-window strategy (flask-limiter's default), which
needs ``incr``, ``get``, ``get_expiry``, ``clear``, ``reset`` and ``check``; the moving-window
one would need a row per hit, and is refused by the library at start-up if configured.

Each call is its own short transaction on its own connection, never the request's session:
a count survives whatever the view rolls back. The engine is the current app's, so every app
in a process (tests build many) counts in its own database.
"""

from __future__ import annotations

import hashlib
import time

from flask import current_app
from limits.storage import Storage
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from musicrec.db import rate_limits
from musicrec.db.session import read_transaction, transaction

SCHEME = "musicrec-db"
URI = f"{SCHEME}://"
PURGE_EVERY_SECONDS = 60.0  # expired counters are deleted at most this often per process
MAX_KEY_LENGTH = 255  # the key column's width; longer keys are stored as their digest


def stored_key(key: str) -> str:
    """The key as stored: itself, or its SHA-256 when too long (a per-email limit's key)."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """Fixed-window counters in ``rate_limit_counters`` (``musicrec.db.rate_limits``)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._purged_at = float("-inf")

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @staticmethod
    def _engine() -> Engine:
        engine: Engine = current_app.extensions["musicrec.engine"]
        return engine

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """One upsert in its own transaction (on SQLite, a short hold of the write lock)."""
        now = time.time()
        with transaction(self._engine()) as session:
            total = rate_limits.add(session, stored_key(key), amount, expiry, now)
            if now - self._purged_at >= PURGE_EVERY_SECONDS:
                self._purged_at = now
                rate_limits.forget_expired(session, now)
        return total

    def get(self, key: str) -> int:
        with read_transaction(self._engine()) as session:
            return rate_limits.count(session, stored_key(key), time.time())

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with read_transaction(self._engine()) as session:
            found = rate_limits.expires_at(session, stored_key(key), now)
        return now if found is None else found

    def check(self) -> bool:
        try:
            self.get("musicrec-db-check")
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with transaction(self._engine()) as session:
            return rate_limits.forget_all(session)

    def clear(self, key: str) -> None:
        with transaction(self._engine()) as session:
            rate_limits.forget(session, stored_key(key))
