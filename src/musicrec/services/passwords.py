"""Password policy and hashing (argon2id via argon2-cffi).

Parameters meet OWASP's minimum for argon2id (m = 19 MiB, t = 2, p = 1; ASVS 5.0 11.4.2).
Passwords are never truncated and may be any Unicode (ASVS 6.2.8-6.2.9); they are NFC-normalised
so that the same characters typed on different keyboards match.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # far above ASVS's 64; only guards the hasher against megabyte inputs

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# Verified against when the account does not exist, so both failures cost the same time.
_DUMMY_HASH = HASHER.hash("not a password: equalises the time of failed logins")


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("musicrec.data").joinpath("common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line and not line.startswith("#")
    )


def normalise(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def password_problem(password: str, username: str = "", email: str = "") -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    folded = password.casefold()
    if username and folded == username.casefold():
        return "Your password must not be your username."
    if email and folded in (email.casefold(), email.split("@", 1)[0].casefold()):
        return "Your password must not be your email address."
    if folded in common_passwords():
        return "This password is among the most common ones; choose another."
    return None


def hash_password(password: str) -> str:
    return HASHER.hash(normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password``; with no stored hash, spend the same time and fail."""
    try:
        return HASHER.verify(stored_hash or _DUMMY_HASH, normalise(password)) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)
