"""Counts over ratings and recommendations for the operator's page, grouped in the database.

The rating counts are of the ratings the shared model trains on (``db.trainable``): the page
describes the model's data, not users' private additions or Spotify imports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from musicrec.db.models import Artist, Rating, Recommendation
from musicrec.db.trainable import changes_since, trainable_ratings


def _utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text: date() reads its day


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def rating_histogram(session: Session) -> dict[int, int]:
    """How many trainable ratings of each value (only the values given at least once)."""
    rows = session.execute(
        trainable_ratings(Rating.rating, func.count())
        .group_by(Rating.rating)
        .order_by(Rating.rating)
    ).all()
    return {int(value): int(count) for value, count in rows}


def ratings_per_day(session: Session, since: datetime) -> dict[date, int]:
    """New trainable ratings per UTC day from ``since`` on (days without any are left out)."""
    day = _utc_day(session, Rating.created_at)
    rows = session.execute(
        trainable_ratings(day, func.count()).where(Rating.created_at >= since).group_by(day)
    ).all()
    return {_as_date(value): int(count) for value, count in rows}


def recommendations_per_day(session: Session, since: datetime) -> dict[date, int]:
    """Recommendations served per UTC day from ``since`` on."""
    day = _utc_day(session, Recommendation.created_at)
    rows = session.execute(
        select(day, func.count()).where(Recommendation.created_at >= since).group_by(day)
    ).all()
    return {_as_date(value): int(count) for value, count in rows}


def ratings_changed_since(session: Session, since: datetime | None) -> int:
    """Changes to the ratings training reads after ``since`` (all when None), as counted by
    ``db.trainable``: a Spotify import never queues a retraining it would not change."""
    return changes_since(session, since)


def recommended_artist_count(session: Session) -> int:
    """How many distinct artists were recommended to anyone."""
    return int(
        session.execute(select(func.count(func.distinct(Recommendation.artist_id)))).scalar_one()
    )


def artist_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Artist)).scalar_one())
