"""Password policy and hashing (argon2id via argon2-cffi).

Parameters meet OWASP's minimum for argon2id (m = 19 MiB, t = 2, p = 1; ASVS 5.0 11.4.2).
Passwords are never truncated and may be any Unicode (ASVS 6.2.8-6.2.9); they are NFC-normalised
so that the same characters typed on different keyboards match.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024  # far above ASVS's 64; only guards the hasher against megabyte inputs

HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.ID)
# MUSICREC_FAST_PASSWORD_HASHING, for test servers only (refused in production): the attack
# suite's servers answer thousands of log-ins and sign-ups, and what it attacks is their SQL,
# not the hash. Still argon2id, at its smallest cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1, type=Type.ID)
_DUMMY_PASSWORD = "not a password: equalises the time of failed logins"  # nosec B105: a dummy


@dataclass
class _Hashing:
    """The hasher this process uses, and the hash verified when the account does not exist (so
    that both failures cost the same time)."""

    hasher: PasswordHasher
    dummy_hash: str


_hashing = _Hashing(HASHER, HASHER.hash(_DUMMY_PASSWORD))


def use_fast_hashing(fast: bool) -> None:
    """Hash with ``FAST_HASHER`` (a test setting) or ``HASHER``, as the app's settings say."""
    hasher = FAST_HASHER if fast else HASHER
    if _hashing.hasher is not hasher:
        _hashing.hasher, _hashing.dummy_hash = hasher, hasher.hash(_DUMMY_PASSWORD)


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
    return _hashing.hasher.hash(normalise(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check ``password``; with no stored hash, spend the same time and fail."""
    hasher, dummy = _hashing.hasher, _hashing.dummy_hash
    try:
        return hasher.verify(stored_hash or dummy, normalise(password)) and bool(stored_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hashing.hasher.check_needs_rehash(stored_hash)
