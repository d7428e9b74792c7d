"""Security plumbing for every response: headers, CSRF protection and rate limits."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from musicrec.config import Settings
from musicrec.web import limits_storage

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: https://i.scdn.co",  # artists' pictures from Spotify
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def init_security(app: Flask, settings: Settings) -> None:
    secure = settings.env != "development"
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the Flask session cookie
        RATELIMIT_STORAGE_URI=limit_storage_uri(settings.rate_limit_storage),
    )
    csrf.init_app(app)
    limiter.init_app(app)

    @app.after_request
    def end_transaction_before_counting(response: Response) -> Response:
        """End the request's transaction before the limiter's after-request hook counts a
        failed password check in its own (Flask runs these hooks last registered first, so
        this one runs just before the limiter's): on SQLite the request's open write
        transaction would hold the write lock the count waits for. Teardown would only have
        rolled it back a little later."""
        session = g.get("db_session")
        if session is not None:
            session.close()
        return response

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/") or response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        return response


def limit_storage_uri(configured: str) -> str:
    """MUSICREC_RATE_LIMIT_STORAGE as flask-limiter's storage URI: "database" (the default)
    counts in the app's database, shared by every worker; memory:// and redis://... as given."""
    value = configured.strip()
    return limits_storage.URI if value in ("", "database") else value


def _configured_limit() -> str:
    settings: Settings = current_app.config["MUSICREC_SETTINGS"]
    return settings.rate_limits.strip()


def rate_limit() -> str:
    """The limit for failed logins and sign-ups, read per request from the app's settings."""
    value = _configured_limit()
    return "1/second" if value.lower() == "off" else value


def limits_off() -> bool:
    """MUSICREC_RATE_LIMITS=off exempts every request (decided per app, not per process)."""
    return _configured_limit().lower() == "off"


def wrong_password(response: Response) -> bool:
    """The account page answers 400 when the current password given is wrong."""
    return response.status_code == 400 and g.get("wrong_password", False)


def signed_in_user_key() -> str:
    user = g.get("user")
    return f"account:{user.id}" if user is not None else get_remote_address()


# Changing the password or deleting the account checks the current one: with a stolen session
# that would be a guessing oracle, so wrong guesses count against the account like failed logins.
limit_password_checks = limiter.shared_limit(
    rate_limit,
    scope="password-check",
    key_func=signed_in_user_key,
    methods=["POST"],
    deduct_when=wrong_password,
    exempt_when=limits_off,
)
limit_signups = limiter.shared_limit(
    rate_limit, scope="signup", methods=["POST"], exempt_when=limits_off
)
