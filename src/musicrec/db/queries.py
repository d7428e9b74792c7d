"""Read-only queries the services and pages share; each takes its session explicitly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from musicrec.db.models import Artist, Job, Rating, User


@dataclass(frozen=True)
class CatalogueCounts:
    users: int
    artists: int
    ratings: int


def catalogue_counts(session: Session) -> CatalogueCounts:
    return CatalogueCounts(
        users=session.execute(select(func.count()).select_from(User)).scalar_one(),
        artists=session.execute(select(func.count()).select_from(Artist)).scalar_one(),
        ratings=session.execute(select(func.count()).select_from(Rating)).scalar_one(),
    )


def latest_job_time(session: Session, kind: str) -> datetime | None:
    """When the newest job of ``kind`` was queued, whatever became of it (None: never)."""
    return session.execute(select(func.max(Job.created_at)).where(Job.kind == kind)).scalar_one()


def ping(session: Session) -> bool:
    """Whether the database answers."""
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not answering"
        session.rollback()
        return False
    return True
