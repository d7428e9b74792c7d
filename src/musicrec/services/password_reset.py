"""Password reset by email: a single-use token that expires after ``RESET_VALID_FOR``.

The token is 32 random bytes (``secrets``) sent in a link; only its SHA-256 is stored, so the
table is no list of working links. Asking for a reset answers the same whether or not the
address has an account (no account enumeration): the caller shows one text either way, and an
unknown address costs the same token generation and hashing as a known one. Using a token
sets the new password, ends every open reset of the user and every session (like a password
change).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session

from musicrec.db import auth_sessions, reset_tokens, users
from musicrec.db.types import utcnow
from musicrec.names import has_unprintable
from musicrec.services.errors import InvalidInput
from musicrec.services.mail import Message
from musicrec.services.passwords import hash_password, password_problem

RESET_VALID_FOR = timedelta(minutes=30)
TOKEN_BYTES = 32
INVALID_LINK = "This reset link is invalid, used or expired: ask for a new one."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def request_reset(session: Session, email: str, link_for: Callable[[str], str]) -> Message | None:
    """A reset message for the account with this email, or None when there is none; the
    caller answers alike either way and sends the message after committing."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    digest = token_hash(token)  # computed for unknown addresses too: the same work either way
    address = email.strip()
    user = None
    if address and not has_unprintable(address) and len(address) <= 320:
        found = users.find_by_login(session, address)
        user = found if found is not None and found.email_key == users.email_key(address) else None
    if user is None or not user.email:
        return None
    now = utcnow()
    reset_tokens.purge_expired(session, now)
    reset_tokens.add_reset(session, user.id, digest, now + RESET_VALID_FOR)
    minutes = int(RESET_VALID_FOR.total_seconds() // 60)
    body = (
        f"Hello {user.username},\n\n"
        f"someone (we hope you) asked to reset your musicrec password. Choose a new one here:\n\n"
        f"{link_for(token)}\n\n"
        f"The link works once, for {minutes} minutes. If you did not ask, ignore this message:\n"
        "your password stays as it is.\n"
    )
    return Message(user.email, "Reset your musicrec password", body)


def reset_password(session: Session, token: str, new_password: str) -> None:
    """Set the new password of the token's user; the token and all sessions end."""
    now = utcnow()
    found = reset_tokens.usable_reset(session, token_hash(token), now) if token else None
    if found is None:
        raise InvalidInput({"token": INVALID_LINK})
    user = users.get_user(session, found.user_id)
    if user is None:
        raise InvalidInput({"token": INVALID_LINK})
    problem = password_problem(new_password, user.username, user.email or "")
    if problem:
        raise InvalidInput({"new_password": problem})
    user.password_hash = hash_password(new_password)
    reset_tokens.use_all(session, user.id, now)
    auth_sessions.revoke_all(session, user.id, now)


def token_usable(session: Session, token: str) -> bool:
    """Whether the link is still good (to show the form or say it is not)."""
    return (
        bool(token) and reset_tokens.usable_reset(session, token_hash(token), utcnow()) is not None
    )
