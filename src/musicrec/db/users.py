"""Account queries."""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from musicrec.db.models import User


def username_key(username: str) -> str:
    return username.casefold()


def email_key(email: str) -> str:
    return email.strip().casefold()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_by_login(session: Session, login: str) -> User | None:
    """The user whose username or email is ``login`` (case-insensitive), if any can log in."""
    key = login.strip().casefold()
    return session.execute(
        select(User).where(
            User.password_hash.is_not(None),
            or_(User.username_key == key, User.email_key == key),
        )
    ).scalar_one_or_none()


def find_by_username(session: Session, username: str) -> User | None:
    """The account named ``username`` (case-insensitive), whether or not it can log in."""
    return session.execute(
        select(User).where(User.username_key == username_key(username.strip()))
    ).scalar_one_or_none()


def username_taken(session: Session, username: str) -> bool:
    found = session.execute(select(User.id).where(User.username_key == username_key(username)))
    return found.first() is not None


def email_taken(session: Session, email: str) -> bool:
    found = session.execute(select(User.id).where(User.email_key == email_key(email)))
    return found.first() is not None


def add_user(session: Session, username: str, email: str, password_hash: str) -> User:
    user = User(
        username=username,
        username_key=username_key(username),
        email=email.strip(),
        email_key=email_key(email),
        password_hash=password_hash,
    )
    session.add(user)
    session.flush()
    return user


def delete_user(session: Session, user_id: int) -> None:
    """Delete the account; ratings, recommendations and sessions go with it (ON DELETE CASCADE)."""
    session.execute(delete(User).where(User.id == user_id))


def get_discovery(session: Session, user_id: int) -> float | None:
    """The user's discover-vs-familiar setting; None when they never chose one. (The row is
    usually in the session already, loaded by the request's authentication: no query then.)"""
    user = session.get(User, user_id)
    return user.discovery if user is not None else None


def set_discovery(session: Session, user_id: int, value: float) -> None:
    user = session.get(User, user_id)
    if user is not None:
        user.discovery = value
        session.flush()
