"""Counts over ratings and recommendations for the operator's page, grouped in the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from musicrec.db.models import UNTRAINABLE_SOURCES, Artist, Rating, Recommendation


def _utc_day(session: Session, column: Any) -> Any:
    """The UTC calendar day of a timestamp column, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite stores UTC text: date() reads its day


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def rating_histogram(session: Session) -> dict[int, int]:
    """How many ratings of each value (only the values given at least once)."""
    rows = session.execute(
        select(Rating.rating, func.count()).group_by(Rating.rating).order_by(Rating.rating)
    ).all()
    return {int(value): int(count) for value, count in rows}


def ratings_per_day(session: Session, since: datetime) -> dict[date, int]:
    """New ratings per UTC day from ``since`` on (days without any are left out)."""
    day = _utc_day(session, Rating.created_at)
    rows = session.execute(
        select(day, func.count()).where(Rating.created_at >= since).group_by(day)
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
    """Ratings created or changed after ``since`` (all of them when None), of those training
    reads: a Spotify import never queues a retraining it would not change."""
    query = (
        select(func.count()).select_from(Rating).where(Rating.source.not_in(UNTRAINABLE_SOURCES))
    )
    if since is not None:
        query = query.where(Rating.updated_at > since)
    return int(session.execute(query).scalar_one())


def recommended_artist_count(session: Session) -> int:
    """How many distinct artists were recommended to anyone."""
    return int(
        session.execute(select(func.count(func.distinct(Recommendation.artist_id)))).scalar_one()
    )


def artist_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Artist)).scalar_one())
