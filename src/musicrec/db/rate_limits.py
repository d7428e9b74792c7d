"""Fixed-window rate-limit counters in the database, so that every worker counts alike.

``add`` is one statement: an INSERT that, when the key exists, adds to its count (or starts a
new window when the old one expired) and returns the new count. PostgreSQL runs it atomically
per row (``ON CONFLICT DO UPDATE``); SQLite has one writer at a time. Times are seconds since
the epoch, as the limits library counts them.
"""

from __future__ import annotations

from sqlalchemy import CursorResult, case, delete, select
from sqlalchemy.orm import Session

from musicrec.db.dialect import upsert_insert
from musicrec.db.models import RateLimitCounter


def add(session: Session, key: str, amount: int, expiry: float, now: float) -> int:
    """Add ``amount`` to the key's count in its window (a new window of ``expiry`` seconds
    when it has none or it expired); the count after adding."""
    counter = RateLimitCounter.__table__
    expired = counter.c.expires_at <= now
    statement = (
        upsert_insert(session, counter)
        .values(key=key, count=amount, expires_at=now + expiry)
        .on_conflict_do_update(
            index_elements=[counter.c.key],
            set_={
                "count": case((expired, amount), else_=counter.c.count + amount),
                "expires_at": case((expired, now + expiry), else_=counter.c.expires_at),
            },
        )
        .returning(counter.c.count)
    )
    return int(session.execute(statement).scalar_one())


def count(session: Session, key: str, now: float) -> int:
    """The key's count in its current window (0 when it has none)."""
    found = session.execute(
        select(RateLimitCounter.count).where(
            RateLimitCounter.key == key, RateLimitCounter.expires_at > now
        )
    ).scalar_one_or_none()
    return int(found or 0)


def expires_at(session: Session, key: str, now: float) -> float | None:
    """When the key's current window ends (None when it has none)."""
    found = session.execute(
        select(RateLimitCounter.expires_at).where(
            RateLimitCounter.key == key, RateLimitCounter.expires_at > now
        )
    ).scalar_one_or_none()
    return None if found is None else float(found)


def forget(session: Session, key: str) -> None:
    session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))


def forget_expired(session: Session, now: float) -> int:
    """Delete the counters whose window ended; how many."""
    result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now)
    )
    return int(result.rowcount)


def forget_all(session: Session) -> int:
    """Delete every counter (the limiter's ``reset``); how many there were."""
    result: CursorResult[tuple[()]] = session.execute(delete(RateLimitCounter))  # type: ignore[assignment]
    return int(result.rowcount)
