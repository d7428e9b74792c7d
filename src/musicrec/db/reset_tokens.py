"""Password-reset tokens, stored by their SHA-256 hash only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from musicrec.db.models import PasswordReset


def add_reset(session: Session, user_id: int, token_hash: str, expires_at: datetime) -> None:
    session.add(PasswordReset(user_id=user_id, token_hash=token_hash, expires_at=expires_at))
    session.flush()


def usable_reset(session: Session, token_hash: str, now: datetime) -> PasswordReset | None:
    """The unused, unexpired reset with this hash, locked for the update that uses it."""
    return session.execute(
        select(PasswordReset)
        .where(
            PasswordReset.token_hash == token_hash,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .with_for_update()
    ).scalar_one_or_none()


def use_all(session: Session, user_id: int, now: datetime) -> None:
    """Mark every open reset of the user used (one reset ends them all)."""
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )


def purge_expired(session: Session, now: datetime) -> None:
    session.execute(delete(PasswordReset).where(PasswordReset.expires_at <= now))
