"""Forgotten passwords: ask for a reset link by email, then choose a new password with it."""

from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from musicrec.services import password_reset
from musicrec.services.errors import FieldError
from musicrec.services.mail import mailer_for
from musicrec.web.auth import blueprint
from musicrec.web.auth.guard import settings
from musicrec.web.db import db_session
from musicrec.web.security import limiter, limits_off, rate_limit

log = logging.getLogger("musicrec.auth")
# One text for known and unknown addresses alike: the answer never tells who has an account.
SENT = (
    "If an account uses this address, we have sent it a link to choose a new password. "
    "The link works once, for 30 minutes."
)
limit_reset_requests = limiter.shared_limit(
    rate_limit, scope="password-reset", methods=["POST"], exempt_when=limits_off
)


def _reset_link(token: str) -> str:
    """The link to mail: on MUSICREC_PUBLIC_URL when set, so a forged Host header cannot send
    someone a link to another site; else on the host the request came to (development)."""
    origin = settings().public_url
    if origin:
        return origin + url_for("auth.reset_password", token=token)
    return url_for("auth.reset_password", token=token, _external=True)


@blueprint.route("/forgot-password", methods=["GET", "POST"])
@limit_reset_requests
def forgot_password() -> str:
    if request.method == "GET":
        return render_template("auth/forgot_password.html", sent=None)
    session = db_session()
    message = password_reset.request_reset(session, request.form.get("email", ""), _reset_link)
    session.commit()
    if message is not None:
        mailer_for(settings()).send(message)
        log.info("password reset link sent")
    return render_template("auth/forgot_password.html", sent=SENT)


@blueprint.route("/reset-password/<token>", methods=["GET", "POST"])
@limit_reset_requests
def reset_password(token: str) -> Response | str | tuple[str, int]:
    session = db_session()
    if request.method == "GET":
        usable = password_reset.token_usable(session, token)
        page = render_template("auth/reset_password.html", usable=usable, errors={})
        return page if usable else (page, 400)
    try:
        password_reset.reset_password(session, token, request.form.get("new_password", ""))
    except FieldError as error:
        session.rollback()
        usable = "token" not in error.errors
        page = render_template("auth/reset_password.html", usable=usable, errors=error.errors)
        return page, 400
    session.commit()
    log.info("password reset used; all sessions ended")
    flash("Your password is changed. Log in with the new one.")
    return redirect(url_for("auth.login"))
