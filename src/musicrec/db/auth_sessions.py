"""Server-side records of signed-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from musicrec.db.models import AuthSession, User


def add_session(session: Session, session_id: str, user_id: int, expires_at: datetime) -> None:
    session.add(AuthSession(id=session_id, user_id=user_id, expires_at=expires_at))
    session.flush()


# Built once: every authenticated request runs it, and a statement object that is reused
# keeps its cache key (SQLAlchemy memoises it), so only its parameter changes per request.
_SESSION_AND_USER = (
    select(AuthSession, User)
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.id == bindparam("session_id"))
)


def get_session_and_user(session: Session, session_id: str) -> tuple[AuthSession, User] | None:
    """The session row with its user, in one query; None if either is gone."""
    row = session.execute(_SESSION_AND_USER, {"session_id": session_id}).one_or_none()
    return None if row is None else (row[0], row[1])


def touch(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(AuthSession).where(AuthSession.id == session_id).values(last_seen_at=now)
    )


def revoke(session: Session, session_id: str, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_all(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def purge_expired(session: Session, now: datetime) -> None:
    """Delete every session (any user's) past its absolute expiry: no token can use it."""
    session.execute(delete(AuthSession).where(AuthSession.expires_at <= now))


def end_least_recent(session: Session, user_id: int, keep: int, now: datetime) -> None:
    """End the user's live sessions but the ``keep`` most recently used."""
    beyond = session.scalars(
        select(AuthSession.id)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .order_by(AuthSession.last_seen_at.desc(), AuthSession.created_at.desc())
        .offset(keep)
    ).all()
    if beyond:
        session.execute(
            update(AuthSession).where(AuthSession.id.in_(beyond)).values(revoked_at=now)
        )


def delete_ended(session: Session, user_id: int, keep: int) -> None:
    """Delete the user's ended sessions but the ``keep`` most recently ended."""
    beyond = session.scalars(
        select(AuthSession.id)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_not(None))
        .order_by(AuthSession.revoked_at.desc(), AuthSession.created_at.desc())
        .offset(keep)
    ).all()
    if beyond:
        session.execute(delete(AuthSession).where(AuthSession.id.in_(beyond)))
