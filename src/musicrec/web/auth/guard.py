"""Who is asking: the token from the Bearer header or the session cookie, checked once a request
(except for static files and the health check, which serve everyone alike).

``login_required`` guards pages. A visitor who never signed in is asked to log in; one whose
session expired, or was ended elsewhere (a log-out, a password change), is told which and
logged out. Either way the answer is a 401 carrying the log-in
form, which returns them to the page they asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, abort, current_app, g, make_response, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from musicrec.config import Settings
from musicrec.db.models import User
from musicrec.services.auth import (
    SessionPolicy,
    TokenStatus,
    Verified,
    record_activity,
    verify_token,
)
from musicrec.web.db import READ_METHODS, db_session

COOKIE_NAME = "musicrec_token"
# Served the same to everyone: no token is read and no query runs for them.
ANONYMOUS_ENDPOINTS = frozenset({"static", "api.health"})
log = logging.getLogger("musicrec.auth")
View = TypeVar("View", bound=Callable[..., Any])


def settings() -> Settings:
    value: Settings = current_app.config["MUSICREC_SETTINGS"]
    return value


def session_policy() -> SessionPolicy:
    current = settings()
    return SessionPolicy(idle_timeout=current.session_idle, absolute_timeout=current.session_max)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def load_current_user() -> None:
    """Before each request: set g.user, g.auth_status, g.auth_via and g.session_id.

    Endpoints that never ask who is asking (static files, the health check) skip this. Without
    a token it costs no query; with one, one query, plus a commit when the idle clock moves.
    """
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return
    token = bearer_token()
    via = "bearer" if token else None
    if token is None and request.cookies.get(COOKIE_NAME):
        token, via = request.cookies.get(COOKIE_NAME), "cookie"
    session = db_session()
    verified = verify_token(session, token, settings().secret_key, session_policy())
    if verified.changed:
        _commit_bookkeeping(session, verified)
    g.user = verified.user
    g.auth_status = verified.status
    g.auth_via = via if verified.user else None
    g.session_id = verified.session_id


def _commit_bookkeeping(session: Session, verified: Verified) -> None:
    """Write and commit the moved idle clock (or an ended idle session). A GET reads without
    SQLite's write lock, so its write can meet a concurrent writer ("database is locked" at
    once); the bookkeeping then waits for the next request instead of failing this one."""
    try:
        record_activity(session, verified)
        session.commit()
    except OperationalError:
        if request.method not in READ_METHODS:
            raise
        session.rollback()
        log.info("idle-clock update deferred: the database was busy")


def current_user() -> User | None:
    user: User | None = g.get("user")
    return user


def rated_count() -> int | None:
    """How many artists the signed-in user rated, counted once a request (None if anonymous)."""
    from musicrec.services import ratings

    user = current_user()
    if user is None:
        return None
    if "rated_count" not in g:
        g.rated_count = ratings.count(db_session(), user.id)
    count: int = g.rated_count
    return count


def set_token_cookie(response: BaseResponse, token: str) -> None:
    current = settings()
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(current.session_max.total_seconds()),
        httponly=True,
        secure=current.env != "development",
        samesite="Lax",
        path="/",
    )


def clear_token_cookie(response: BaseResponse) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", samesite="Lax")


def login_prompt(status: TokenStatus) -> Response:
    """The log-in form, answering 401, with the reason and the way back to this page."""
    expired = status in (TokenStatus.EXPIRED, TokenStatus.INVALID, TokenStatus.ENDED)
    log.warning(
        "denied %s %s: %s session, client=%s",
        request.method,
        request.path,
        status.value,
        request.remote_addr,
    )
    if status is TokenStatus.ENDED:
        message = "Your session ended (a log-out or a password change). Please log in again."
    elif expired:
        message = "Your session expired. Please log in again."
    else:
        message = "Please log in to see this page."
    next_path = request.full_path.rstrip("?") if request.method == "GET" else "/"
    response = make_response(
        render_template("auth/login.html", message=message, next_path=next_path, errors={}), 401
    )
    if expired:
        clear_token_cookie(response)
    return response


def login_required(view: View) -> View:
    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return login_prompt(g.get("auth_status", TokenStatus.MISSING))
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def is_admin() -> bool:
    user = current_user()
    return user is not None and bool(user.is_admin)


def admin_required(view: View) -> View:
    """Pages for operators: the log-in form for visitors, 403 for signed-in non-admins."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return login_prompt(g.get("auth_status", TokenStatus.MISSING))
        if not is_admin():
            log.warning("denied %s %s: not an admin", request.method, request.path)
            abort(403)
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect off-site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(char) < 32 for char in target):
        return "/"
    return target
