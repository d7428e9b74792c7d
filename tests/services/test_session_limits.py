"""Sessions are bounded: a log-in purges expired ones, ends the least recently used beyond the
cap and keeps only a few ended records per user; it also ends open reset links. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from musicrec.db import reset_tokens, users
from musicrec.db.models import AuthSession, PasswordReset, User
from musicrec.db.types import utcnow
from musicrec.services.auth import (
    KEEP_ENDED_SESSIONS,
    MAX_LIVE_SESSIONS,
    SessionPolicy,
    TokenStatus,
    end_session,
    issue_token,
    verify_token,
)

SECRET = "test-secret-key-that-is-long-enough-0123456789"
POLICY = SessionPolicy()


def _user(session: Session, name: str = "ada") -> User:
    user = users.add_user(session, name, f"{name}@example.org", "hash")
    session.commit()
    return user


def _log_in(session: Session, user: User) -> str:
    token = issue_token(session, user, SECRET, POLICY).token
    session.commit()
    return token


def _rows(session: Session, user: User) -> int:
    counted = select(func.count()).select_from(AuthSession).where(AuthSession.user_id == user.id)
    return session.execute(counted).scalar_one()


def test_a_log_in_beyond_the_cap_ends_the_least_recently_used_session(session: Session) -> None:
    ada = _user(session)
    tokens = [_log_in(session, ada) for _ in range(MAX_LIVE_SESSIONS)]
    # The first session was used a moment ago, so the second is now the least recently used.
    first_id = verify_token(session, tokens[0], SECRET, POLICY).session_id
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == first_id)
        .values(last_seen_at=utcnow() + timedelta(seconds=1))
    )
    session.commit()

    newest = _log_in(session, ada)

    statuses = [verify_token(session, t, SECRET, POLICY).status for t in [*tokens, newest]]
    assert statuses[1] is TokenStatus.ENDED
    assert statuses.count(TokenStatus.VALID) == MAX_LIVE_SESSIONS
    assert statuses[0] is statuses[-1] is TokenStatus.VALID


def test_another_users_sessions_are_not_counted(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    bobs = _log_in(session, bob)

    for _ in range(MAX_LIVE_SESSIONS + 2):
        _log_in(session, ada)

    assert verify_token(session, bobs, SECRET, POLICY).status is TokenStatus.VALID


def test_expired_sessions_are_purged_at_a_log_in(session: Session) -> None:
    ada, bob = _user(session, "ada"), _user(session, "bob")
    _log_in(session, bob)
    session.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()

    _log_in(session, ada)

    assert _rows(session, bob) == 0  # any user's expired session goes
    assert _rows(session, ada) == 1


def test_ended_session_records_per_user_stay_bounded(session: Session) -> None:
    """Log in and out in a loop: the table does not grow with it."""
    ada = _user(session)
    for _ in range(3 * (MAX_LIVE_SESSIONS + KEEP_ENDED_SESSIONS)):
        issued = issue_token(session, ada, SECRET, POLICY)
        end_session(session, issued.session_id)
        session.commit()

    assert _rows(session, ada) <= KEEP_ENDED_SESSIONS + 1


def test_a_log_in_ends_open_reset_links(session: Session) -> None:
    ada = _user(session)
    reset_tokens.add_reset(session, ada.id, "a" * 64, utcnow() + timedelta(minutes=30))
    session.commit()

    _log_in(session, ada)

    used = session.execute(select(PasswordReset.used_at)).scalar_one()
    assert used is not None
    assert reset_tokens.usable_reset(session, "a" * 64, utcnow()) is None
