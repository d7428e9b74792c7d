"""The web side of the failed-log-in limits (``services/login_throttle.py``): who is trying,
a 429 when they are locked out, and the device cookie a successful log-in leaves behind."""

from __future__ import annotations

from datetime import timedelta

from flask import request
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from musicrec.db.types import utcnow
from musicrec.services import login_throttle
from musicrec.services.accounts import account_key
from musicrec.services.login_throttle import Attempt
from musicrec.web.auth.guard import settings
from musicrec.web.db import db_session

DEVICE_COOKIE = "musicrec_device"
DEVICE_COOKIE_LIFETIME = timedelta(days=365)


def login_attempt(login: str) -> Attempt:
    """The attempt to log in as ``login`` from this request's client (and device cookie)."""
    key = account_key(db_session(), login)
    device = login_throttle.device_for_account(
        settings().secret_key, request.cookies.get(DEVICE_COOKIE), key
    )
    return Attempt(key, request.remote_addr or "unknown", device)


def refuse_if_locked_out(attempt: Attempt) -> None:
    """Abort with 429 when this client, account or device has failed too often lately."""
    limit = login_throttle.parse_limit(settings().rate_limits)
    if limit is None:
        return
    if not login_throttle.allowed(db_session(), limit, attempt, utcnow()):
        retry = int(limit.window.total_seconds())
        raise TooManyRequests(retry_after=retry)


def count_failure(attempt: Attempt) -> None:
    """Remember a failed log-in (committed now: the failing request commits nothing else)."""
    limit = login_throttle.parse_limit(settings().rate_limits)
    if limit is None:
        return
    session = db_session()
    login_throttle.record_failure(session, limit, attempt, utcnow())
    session.commit()


def remember_device(response: Response, user_id: int) -> None:
    """Mark this browser as one that logged in to the account: never locked out of it."""
    current = settings()
    response.set_cookie(
        DEVICE_COOKIE,
        login_throttle.new_device_token(current.secret_key, user_id),
        max_age=int(DEVICE_COOKIE_LIFETIME.total_seconds()),
        httponly=True,
        secure=current.env != "development",
        samesite="Lax",
        path="/",
    )
