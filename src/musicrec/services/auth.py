"""Session tokens: a signed JWT (PyJWT) naming a server-side session that can be revoked.

The same token travels as the page cookie and as the API's Bearer token. The JWT's ``exp`` is
the absolute timeout; the server-side row carries the idle timeout and revocation (logout,
password change, account deletion), which a signed cookie alone cannot express (ASVS 7.4).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import jwt
from sqlalchemy.orm import Session

from musicrec.db import auth_sessions, reset_tokens
from musicrec.db.models import User
from musicrec.db.types import utcnow

ALGORITHM = "HS256"
TOUCH_EVERY = timedelta(minutes=1)
# Live sessions an account may hold (browsers, devices, API clients): a new log-in beyond
# this ends the least recently used one, as many sites do.
MAX_LIVE_SESSIONS = 10
# Ended sessions kept per account, so that a token of one says "your session ended" rather
# than "expired"; older ended records are deleted at the next log-in.
KEEP_ENDED_SESSIONS = 10


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: timedelta = timedelta(hours=1)
    absolute_timeout: timedelta = timedelta(hours=24)

    @property
    def touch_step(self) -> timedelta:
        """How stale last_seen_at may grow before a request writes it again.

        A minute, or 1/60 of the idle timeout when that is shorter: at most one write a minute
        per session, and the idle timeout holds to within one step (a session may end up to
        one step before the full idle time, never after it).
        """
        return min(TOUCH_EVERY, self.idle_timeout / 60)


class TokenStatus(Enum):
    VALID = "valid"
    MISSING = "missing"  # no token at all: a visitor who never signed in
    EXPIRED = "expired"  # a real token whose session timed out (idle or absolute limit)
    ENDED = "ended"  # a real token whose session was ended: logout, password change or reset
    INVALID = "invalid"  # not a token we issued


@dataclass(frozen=True)
class Verified:
    status: TokenStatus
    user: User | None = None
    session_id: str | None = None
    # What the check found to write (``record_activity`` writes it): the session to touch (its
    # idle clock moved) or to end (idle too long), and when.
    touch: str | None = None
    end_idle: str | None = None
    at: datetime | None = None

    @property
    def changed(self) -> bool:
        return self.at is not None


@dataclass(frozen=True)
class IssuedToken:
    token: str
    session_id: str
    expires_at: datetime


def issue_token(
    session: Session, user: User, secret_key: str, policy: SessionPolicy
) -> IssuedToken:
    """Start a new server-side session (a fresh id at every login: ASVS 7.2.4).

    A log-in also keeps the table bounded: expired sessions (anyone's) are deleted, the user's
    live sessions beyond ``MAX_LIVE_SESSIONS`` end (least recently used first) and only
    ``KEEP_ENDED_SESSIONS`` ended ones are kept. It ends the user's open reset links too: who
    logs in knows the password, and a forgotten link in a mailbox should not stay a way in.
    """
    now = utcnow()
    auth_sessions.purge_expired(session, now)
    auth_sessions.end_least_recent(session, user.id, MAX_LIVE_SESSIONS - 1, now)
    auth_sessions.delete_ended(session, user.id, KEEP_ENDED_SESSIONS)
    reset_tokens.use_all(session, user.id, now)
    session_id = secrets.token_urlsafe(32)
    expires_at = now + policy.absolute_timeout
    auth_sessions.add_session(session, session_id, user.id, expires_at)
    claims = {"sub": str(user.id), "sid": session_id, "iat": now, "exp": expires_at}
    return IssuedToken(jwt.encode(claims, secret_key, algorithm=ALGORITHM), session_id, expires_at)


def verify_token(
    session: Session, token: str | None, secret_key: str, policy: SessionPolicy
) -> Verified:
    """Check signature, expiry, the server-side session and its idle time.

    One query reads the session with its user; nothing is written here. When the idle clock
    moves (at most once per ``policy.touch_step``) or an idle session ends, ``Verified.changed``
    tells the caller to ``record_activity`` and commit, or to skip that bookkeeping when the
    database is busy (a GET on SQLite reads in a transaction that cannot take the write lock).
    """
    if not token:
        return Verified(TokenStatus.MISSING)
    try:
        claims = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        return Verified(TokenStatus.EXPIRED)
    except jwt.PyJWTError:
        return Verified(TokenStatus.INVALID)
    found = auth_sessions.get_session_and_user(session, str(claims["sid"]))
    if found is None:
        return Verified(TokenStatus.EXPIRED)  # deleted account, or a session long purged
    record, user = found
    if str(record.user_id) != claims["sub"]:
        return Verified(TokenStatus.EXPIRED)
    now = utcnow()
    if record.revoked_at is not None:
        return Verified(_ended_or_idle(record.revoked_at - record.last_seen_at, policy))
    if now >= record.expires_at:
        return Verified(TokenStatus.EXPIRED)
    idle = now - record.last_seen_at
    if idle > policy.idle_timeout:
        return Verified(TokenStatus.EXPIRED, end_idle=record.id, at=now)
    if idle > policy.touch_step:
        return Verified(TokenStatus.VALID, user, record.id, touch=record.id, at=now)
    return Verified(TokenStatus.VALID, user, record.id)


def record_activity(session: Session, verified: Verified) -> None:
    """Write what ``verify_token`` found: the moved idle clock, or the end of an idle session."""
    if verified.at is None:
        return
    if verified.end_idle is not None:
        auth_sessions.revoke(session, verified.end_idle, verified.at)
    if verified.touch is not None:
        auth_sessions.touch(session, verified.touch, verified.at)


def _ended_or_idle(quiet: timedelta, policy: SessionPolicy) -> TokenStatus:
    """Why a revoked session is over. The idle check revokes a session only once it has been
    quiet longer than the idle timeout; a logout or a password change ends a live one."""
    return TokenStatus.EXPIRED if quiet > policy.idle_timeout else TokenStatus.ENDED


def end_session(session: Session, session_id: str) -> None:
    auth_sessions.revoke(session, session_id, utcnow())
