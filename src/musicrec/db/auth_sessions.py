"""Server-side records of signed-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from musicrec.db.models import AuthSession


def add_session(session: Session, session_id: str, user_id: int, expires_at: datetime) -> None:
    session.add(AuthSession(id=session_id, user_id=user_id, expires_at=expires_at))
    session.flush()


def get_session(session: Session, session_id: str) -> AuthSession | None:
    return session.get(AuthSession, session_id)


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
