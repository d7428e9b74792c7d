"""Sign-up, log-in, password change and account deletion."""

from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError

from musicrec.db import auth_sessions, reset_tokens, users
from musicrec.db.models import User
from musicrec.db.types import utcnow
from musicrec.names import has_unprintable
from musicrec.services import erasure
from musicrec.services.errors import Conflict, InvalidInput, NotFound, Refused
from musicrec.services.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")


def check_signup(
    session: Session, username: str, email: str, password: str, confirmation: str | None = None
) -> str:
    """Validate a sign-up; return the normalised email or raise InvalidInput / Conflict.

    ``Refused`` (an ``InvalidInput``) when only rules that the API's schema cannot state were
    broken; the pattern of the username, the password's length and the confirmation it can.
    """
    errors: dict[str, str] = {}
    conflict = False
    malformed = False
    if not USERNAME_PATTERN.fullmatch(username):
        errors["username"] = "Use 3 to 32 letters, digits, '.', '_' or '-'."
        malformed = True
    elif users.username_taken(session, username):
        errors["username"] = "This username is taken."
        conflict = True
    try:
        email = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        errors["email"] = str(error)
    else:
        if users.email_taken(session, email):
            errors["email"] = "An account with this email exists."
            conflict = True
    problem = password_problem(password, username, email)
    if problem:
        errors["password"] = problem
        malformed = malformed or not MIN_LENGTH <= len(password) <= MAX_LENGTH
    elif confirmation is not None and confirmation != password:
        errors["confirmation"] = "The two passwords differ."
        malformed = True
    if errors:
        # A taken name or email is the conflict to report (409) whatever else is wrong: the
        # request was well formed (the OpenAPI schema admits it) but collides with an account.
        raise (Conflict if conflict else InvalidInput if malformed else Refused)(errors)
    return email


def end_transaction(session: Session) -> None:
    """Commit what ``session`` holds before a password is hashed or verified (tens of
    milliseconds, more on a busy server): no lock or snapshot is held meanwhile. The next
    statement opens a new, short, transaction."""
    session.commit()


def sign_up(
    session: Session, username: str, email: str, password: str, confirmation: str | None = None
) -> User:
    """Create an account (the insert is not committed: the caller owns that transaction; the
    checks before the hashing are, see ``end_transaction``)."""
    email = check_signup(session, username, email, password, confirmation)
    end_transaction(session)
    password_hash = hash_password(password)
    try:
        with session.begin_nested():
            return users.add_user(session, username, email, password_hash)
    except IntegrityError:
        # Someone took the name between our check and the insert.
        raise Conflict({"username": "This username is taken."}) from None


def authenticate(session: Session, login: str, password: str) -> User | None:
    """The user for these credentials, or None.

    An unknown user costs the same time as a wrong password (ASVS 6.3.8). The password is
    verified (and re-hashed) with no transaction open (``end_transaction``); a re-hash is
    stored only if the hash did not change meanwhile.
    """
    user = users.find_by_login(session, login) if _could_be_login(login) else None
    stored = user.password_hash if user else None
    end_transaction(session)
    if not verify_password(stored, password) or user is None or stored is None:
        return None
    if needs_rehash(stored):
        rehashed = hash_password(password)
        if _hash_unchanged(session, user, stored):
            user.password_hash = rehashed
    return user


def _hash_unchanged(session: Session, user: User, verified: str | None) -> bool:
    """Whether the user still exists with the hash a password was verified against (read
    again, in the transaction that will write)."""
    try:
        session.refresh(user, ["password_hash"])
    except ObjectDeletedError:
        return False
    return user.password_hash == verified


def account_key(session: Session, login: str) -> str:
    """One key per account for counting failed logins, whichever name is used to log in."""
    user = users.find_by_login(session, login) if _could_be_login(login) else None
    return f"account:{user.id}" if user else "login:" + login.strip().casefold()


def change_password(session: Session, user: User, current: str, new: str) -> None:
    """Set a new password and end every session and open reset link of the user (ASVS 7.4.3:
    a link mailed before the change must not set another password after it). The hashing
    runs with no transaction open (``end_transaction``)."""
    stored = user.password_hash
    end_transaction(session)
    if not verify_password(stored, current):
        raise InvalidInput(
            {"current_password": "This is not your current password."}  # nosec B105: a message
        )
    problem = password_problem(new, user.username, user.email or "")
    if problem:
        raise InvalidInput({"new_password": problem})
    new_hash = hash_password(new)
    if not _hash_unchanged(session, user, stored):
        raise InvalidInput(
            {"current_password": "Your password changed meanwhile; try again."}  # nosec B105
        )
    user.password_hash = new_hash
    now = utcnow()
    auth_sessions.revoke_all(session, user.id, now)
    reset_tokens.use_all(session, user.id, now)


def delete_account(session: Session, user: User, password: str) -> None:
    """Delete the user and all their data, after checking their password (not committed: the
    caller owns the transaction; the worker then strips them from the model versions). The
    password is verified with no transaction open (``end_transaction``)."""
    stored = user.password_hash
    end_transaction(session)
    if not verify_password(stored, password) or not _hash_unchanged(session, user, stored):
        raise InvalidInput({"password": "This is not your password."})  # nosec B105: a message
    erasure.erase_account(session, user.id)


def _could_be_login(login: str) -> bool:
    """A username or email could be this (no query for an empty or unprintable one: a NUL
    byte cannot even be sent to PostgreSQL)."""
    return bool(login.strip()) and not has_unprintable(login)


def make_admin(session: Session, username: str) -> User:
    """Give an existing account the admin role (not committed: the caller owns the transaction)."""
    user = users.find_by_username(session, username)
    if user is None or user.password_hash is None:
        raise NotFound(f"No account can log in as {username!r}: sign up first.")
    user.is_admin = True
    session.flush()
    return user
