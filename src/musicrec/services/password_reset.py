"""Password reset by email: a single-use token that expires after ``RESET_VALID_FOR``.

The token is 32 random bytes (``secrets``) sent in a link; only its SHA-256 is stored, so the
table is no list of working links. Asking for a reset answers the same whether or not the
address has an account (no account enumeration): the caller draws the token and builds the
link for every request alike, answers at once with one text, and hands the rest (lookup,
stored token, mail) to ``send_reset`` outside the request, so the answer's time tells nothing
either. Using a token sets the new password, ends every open reset of the user and every
session (like a password change, which ends open resets too, as does a log-in).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.db import auth_sessions, reset_tokens, users
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.names import has_unprintable
from musicrec.services.errors import InvalidInput
from musicrec.services.mail import Mailer, Message
from musicrec.services.passwords import hash_password, password_problem

RESET_VALID_FOR = timedelta(minutes=30)
TOKEN_BYTES = 32
INVALID_LINK = "This reset link is invalid, used or expired: ask for a new one."


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def address_key(email: str) -> str:
    """The address a reset is asked for, normalised as accounts store it and hashed: the key
    that counts requests per address, so the rate limiter's storage holds no addresses."""
    normalised = users.email_key(email).encode("utf-8", "surrogatepass")
    return "reset-address:" + hashlib.sha256(normalised).hexdigest()


def request_reset(session: Session, email: str, token: str, link: str) -> Message | None:
    """Store ``token`` for the account with this email and return the message carrying
    ``link``; None when no account has it (the caller answered alike either way)."""
    address = email.strip()
    user = None
    if address and not has_unprintable(address) and len(address) <= 320:
        found = users.find_by_login(session, address)
        user = found if found is not None and found.email_key == users.email_key(address) else None
    if user is None or not user.email:
        return None
    now = utcnow()
    reset_tokens.purge_expired(session, now)
    reset_tokens.add_reset(session, user.id, token_hash(token), now + RESET_VALID_FOR)
    minutes = int(RESET_VALID_FOR.total_seconds() // 60)
    body = (
        f"Hello {user.username},\n\n"
        f"someone (we hope you) asked to reset your musicrec password. Choose a new one here:\n\n"
        f"{link}\n\n"
        f"The link works once, for {minutes} minutes. If you did not ask, ignore this message:\n"
        "your password stays as it is.\n"
    )
    return Message(user.email, "Reset your musicrec password", body)


def send_reset(engine: Engine, mailer: Mailer, email: str, token: str, link: str) -> bool:
    """Outside the request: store the token and mail the link if an account has this email
    (committed before the mail goes); whether a message was sent."""
    with transaction(engine) as session:
        message = request_reset(session, email, token, link)
    if message is None:
        return False
    mailer.send(message)
    return True


def reset_password(session: Session, token: str, new_password: str) -> None:
    """Set the new password of the token's user; the token and all sessions end.

    The new password is hashed with no transaction open (what was read is committed first);
    the token is checked again in the short transaction that writes."""
    user_id = _token_user(session, token)
    user = users.get_user(session, user_id)
    if user is None:
        raise InvalidInput({"token": INVALID_LINK})
    problem = password_problem(new_password, user.username, user.email or "")
    if problem:
        raise InvalidInput({"new_password": problem})
    session.commit()
    new_hash = hash_password(new_password)
    if _token_user(session, token) != user_id:
        raise InvalidInput({"token": INVALID_LINK})
    user = users.get_user(session, user_id)
    if user is None:
        raise InvalidInput({"token": INVALID_LINK})
    user.password_hash = new_hash
    now = utcnow()
    reset_tokens.use_all(session, user.id, now)
    auth_sessions.revoke_all(session, user.id, now)


def _token_user(session: Session, token: str) -> int:
    """The user whose usable reset ``token`` is; InvalidInput when there is none."""
    found = reset_tokens.usable_reset(session, token_hash(token), utcnow()) if token else None
    if found is None:
        raise InvalidInput({"token": INVALID_LINK})
    return found.user_id


def token_usable(session: Session, token: str) -> bool:
    """Whether the link is still good (to show the form or say it is not)."""
    return (
        bool(token) and reset_tokens.usable_reset(session, token_hash(token), utcnow()) is not None
    )
