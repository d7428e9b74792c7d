"""Failed log-ins limited as OWASP advises, counted in the database every worker shares.

Per client address and per account, ``limit.attempts`` failures within ``limit.window`` lock
further attempts out (429) until the window moves on. A device that logged in to the account
before (it holds a signed device cookie naming the account) is exempt from both: an attacker
guessing one account's password cannot lock its owner out. Such a device is limited by its
own failures instead, so a stolen device cookie buys no extra guesses.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse
from sqlalchemy.orm import Session

from musicrec.db import failed_logins

DEVICE_SALT = "musicrec-known-device"
KEEP_FAILURES = timedelta(days=1)  # rows older than this (or than the window) are deleted


@dataclass(frozen=True)
class LoginLimit:
    attempts: int
    window: timedelta


@lru_cache(maxsize=16)
def parse_limit(text: str) -> LoginLimit | None:
    """'10/minute' (the limits library's notation) -> LoginLimit; 'off' -> None."""
    if text.strip().lower() == "off":
        return None
    item = parse(text)
    return LoginLimit(item.amount, timedelta(seconds=item.get_expiry()))


@dataclass(frozen=True)
class Attempt:
    """Who is trying: the account (``accounts.account_key``), the client address, and the id
    of the device cookie if it names this account."""

    account_key: str
    client: str
    device: str | None = None


def allowed(session: Session, limit: LoginLimit, attempt: Attempt, now: datetime) -> bool:
    since = now - limit.window
    if attempt.device is not None:
        return failed_logins.failures_since(session, since, device=attempt.device) < limit.attempts
    if failed_logins.failures_since(session, since, client=attempt.client) >= limit.attempts:
        return False
    account_failures = failed_logins.failures_since(
        session, since, account_key=attempt.account_key, untrusted_only=True
    )
    return account_failures < limit.attempts


def record_failure(session: Session, limit: LoginLimit, attempt: Attempt, now: datetime) -> None:
    failed_logins.record_failure(session, attempt.account_key, attempt.client, attempt.device, now)
    failed_logins.forget_before(session, now - max(limit.window, KEEP_FAILURES))


def new_device_token(secret_key: str, user_id: int) -> str:
    """A device cookie's value: the account it logged in to and a random device id, signed."""
    return URLSafeSerializer(secret_key, salt=DEVICE_SALT).dumps(
        {"user": user_id, "device": secrets.token_hex(16)}
    )


def device_for_account(secret_key: str, token: str | None, account_key: str) -> str | None:
    """The device id in ``token`` if it is genuine and names this account, else None."""
    if not token:
        return None
    try:
        payload = URLSafeSerializer(secret_key, salt=DEVICE_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or f"account:{payload.get('user')}" != account_key:
        return None
    device = payload.get("device")
    return device if isinstance(device, str) else None
