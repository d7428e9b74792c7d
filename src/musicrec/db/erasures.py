"""Queries for erasing an account: its private additions, and the list of erased ids."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from musicrec.db.models import Artist, Erasure, Job, Rating
from musicrec.db.types import utcnow


def delete_private_additions(session: Session, user_id: int) -> int:
    """Delete the artists the user added that nobody confirmed (their ratings, dislikes and top
    songs go with them); how many.

    An addition another listener rated (a Spotify import lets them see it) passes to the
    earliest of them instead, still unconfirmed: their rating stays theirs.
    """
    own = (Artist.added_by == user_id) & Artist.confirmed.is_(False)
    other_rater = (
        select(Rating.user_id)
        .where(Rating.artist_id == Artist.id, Rating.user_id != user_id)
        .order_by(Rating.created_at, Rating.id)
        .limit(1)
        .scalar_subquery()
    )
    rated_by_others = select(Rating.id).where(
        Rating.artist_id == Artist.id, Rating.user_id != user_id
    )
    session.execute(
        update(Artist)
        .where(own, rated_by_others.exists())
        .values(added_by=other_rater)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Artist).where(own).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def delete_imports(session: Session, user_id: int) -> int:
    """Delete the user's import jobs (their parameters name the user); how many. A running one
    then fails on its own: its ratings have no user to belong to, and its state writes match no
    row."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        delete(Job).where(Job.user_id == user_id, Job.kind == "import")
    )
    return int(result.rowcount)


def record_erasure(session: Session, user_id: int) -> None:
    """Note that the account ``user_id`` was deleted, for the models to forget it."""
    session.add(Erasure(user_id=user_id, requested_at=utcnow()))
    session.flush()


def erased_user_ids(session: Session) -> list[int]:
    """Every deleted account's id, oldest deletion first."""
    return list(session.execute(select(Erasure.user_id).order_by(Erasure.id)).scalars())


def mark_applied(session: Session, user_ids: Iterable[int], at: datetime) -> int:
    """Record that no kept model version holds these ids (first time only); how many."""
    ids = list(user_ids)
    if not ids:
        return 0
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Erasure)
        .where(Erasure.user_id.in_(ids), Erasure.applied_at.is_(None))
        .values(applied_at=at)
    )
    return int(result.rowcount)


def pending_erasures(session: Session) -> int:
    """Deleted accounts that some kept model version may still hold."""
    query = select(func.count()).select_from(Erasure).where(Erasure.applied_at.is_(None))
    return int(session.execute(query).scalar_one())


def erasures_since(session: Session, since: datetime | None) -> int:
    """Accounts deleted after ``since`` (all when None): a hook for the retraining trigger."""
    query = select(func.count()).select_from(Erasure)
    if since is not None:
        query = query.where(Erasure.requested_at > since)
    return int(session.execute(query).scalar_one())
