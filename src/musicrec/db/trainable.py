"""What the shared model may learn from: one definition, used by every reader of training data.

A rating is trainable when its source is one of ``TRAINABLE_SOURCES`` (not a Spotify import,
whose terms forbid training, nor an unsigned file row that may be one), its artist is confirmed
(an artist a user added stays theirs until the operator confirms it) and its user exists.
Training, tuning, the Parquet export, popularity, the operator's counts and the retraining
check all read ratings through ``trainable_ratings``; the triggers of migration 0010 count
changes to this same set in ``rating_changes`` (tests/db/test_trainable.py checks they agree).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, Select, and_, delete, func, select
from sqlalchemy.orm import Session

from musicrec.db.models import (
    RATING_SOURCES,
    UNTRAINABLE_SOURCES,
    Artist,
    Rating,
    TrainingDataChange,
    User,
)

TRAINABLE_SOURCES = tuple(source for source in RATING_SOURCES if source not in UNTRAINABLE_SOURCES)


def is_trainable_source(source: str) -> bool:
    return source in TRAINABLE_SOURCES


def trainable() -> ColumnElement[bool]:
    """The predicate, over ``ratings`` joined with its artist (``trainable_ratings`` joins)."""
    return and_(Rating.source.in_(TRAINABLE_SOURCES), Artist.confirmed.is_(True))


def trainable_ratings(*columns: Any) -> Select[Any]:
    """``SELECT columns`` over the trainable ratings (ratings joined with artist and user)."""
    return (
        select(*columns)
        .select_from(Rating)
        .join(Artist, Artist.id == Rating.artist_id)
        .join(User, User.id == Rating.user_id)
        .where(trainable())
    )


def trainable_count(session: Session) -> int:
    return int(session.execute(trainable_ratings(func.count())).scalar_one())


def changes_since(session: Session, since: datetime | None) -> int:
    """Changes to the trainable ratings counted after ``since`` (all when None)."""
    query = select(func.coalesce(func.sum(TrainingDataChange.changes), 0))
    if since is not None:
        query = query.where(TrainingDataChange.at > since)
    return int(session.execute(query).scalar_one())


def last_change_id(session: Session) -> int:
    """The newest counted change's id (0: none), to tell whether anything changed since."""
    return int(
        session.execute(select(func.coalesce(func.max(TrainingDataChange.id), 0))).scalar_one()
    )


def forget_changes_before(session: Session, before: datetime) -> int:
    """Delete the counts older than ``before`` (no longer needed by any check); how many."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(TrainingDataChange).where(TrainingDataChange.at < before)
    )
    return int(result.rowcount)
