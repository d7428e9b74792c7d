"""Forgotten passwords: ask for a reset link by email, then choose a new password with it."""

from __future__ import annotations

import logging
from functools import partial

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from sqlalchemy import Engine
from werkzeug.wrappers import Response

from musicrec.services import password_reset
from musicrec.services.errors import FieldError
from musicrec.services.mail import Mailer, mailer_for
from musicrec.web.auth import blueprint
from musicrec.web.auth.guard import settings
from musicrec.web.auth.outbox import Outbox
from musicrec.web.db import db_session
from musicrec.web.security import limiter, limits_off, rate_limit

log = logging.getLogger("musicrec.auth")
OUTBOX = "musicrec.reset_outbox"
# Reset mail one address may receive, whoever asks: a few tries for its owner, no flood.
PER_ADDRESS_LIMIT = "3/hour"
# One text for known and unknown addresses alike: the answer never tells who has an account.
SENT = (
    "If an account uses this address, we have sent it a link to choose a new password. "
    "The link works once, for 30 minutes."
)
limit_reset_requests = limiter.shared_limit(
    rate_limit, scope="password-reset", methods=["POST"], exempt_when=limits_off
)


def _address_key() -> str:
    return password_reset.address_key(request.form.get("email", ""))


limit_reset_mail_per_address = limiter.limit(
    PER_ADDRESS_LIMIT, key_func=_address_key, methods=["POST"], exempt_when=limits_off
)


@blueprint.record_once
def _open_outbox(state: BlueprintSetupState) -> None:
    state.app.extensions[OUTBOX] = Outbox()


def _send_reset(engine: Engine, mailer: Mailer, email: str, token: str, link: str) -> None:
    if password_reset.send_reset(engine, mailer, email, token, link):
        log.info("password reset link sent")


@blueprint.route("/forgot-password", methods=["GET", "POST"])
@limit_reset_requests
@limit_reset_mail_per_address
def forgot_password() -> str:
    if request.method == "GET":
        return render_template("auth/forgot_password.html", sent=None)
    # The same work for every address; the lookup, the stored token and the mail come after
    # the answer. The link's origin is configured (MUSICREC_PUBLIC_URL, or the address served
    # in development), never the request's Host header, which a client chooses.
    token = password_reset.new_token()
    link = settings().link_origin + url_for("auth.reset_password", token=token)
    engine: Engine = current_app.extensions["musicrec.engine"]
    job = partial(_send_reset, engine, mailer_for(settings()), request.form.get("email", ""))
    current_app.extensions[OUTBOX].submit(partial(job, token, link))
    log.info("password reset asked for")
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
