"""Sign up, log in, log out, and the account page (change password, delete account)."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask import session as flask_session
from werkzeug.wrappers import Response

from musicrec.db.models import User
from musicrec.services import accounts, jobs, spotify_connection
from musicrec.services.auth import end_session, issue_token
from musicrec.services.errors import FieldError
from musicrec.web.auth.guard import (
    clear_token_cookie,
    current_user,
    login_required,
    safe_next,
    session_policy,
    set_token_cookie,
    settings,
)
from musicrec.web.auth.login_limits import (
    count_failure,
    login_attempt,
    refuse_if_locked_out,
    remember_device,
)
from musicrec.web.db import db_session
from musicrec.web.security import (
    limit_password_checks,
    limit_signups,
)

blueprint = Blueprint("auth", __name__)
log = logging.getLogger("musicrec.auth")


def _signed_in(user: User, target: str) -> Response:
    flask_session.clear()  # a new CSRF secret for the new session (no fixation across log-in)
    session = db_session()
    issued = issue_token(session, user, settings().secret_key, session_policy())
    session.commit()
    response = redirect(safe_next(target))
    set_token_cookie(response, issued.token)
    remember_device(response, user.id)
    return response


@blueprint.route("/signup", methods=["GET", "POST"])
@limit_signups
def signup() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("auth/signup.html", errors={}, form={})
    form = request.form
    session = db_session()
    try:
        user = accounts.sign_up(
            session,
            form.get("username", "").strip(),
            form.get("email", ""),
            form.get("password", ""),
            form.get("confirmation", ""),
        )
    except FieldError as error:
        session.rollback()
        kept = {"username": form.get("username", ""), "email": form.get("email", "")}
        return render_template("auth/signup.html", errors=error.errors, form=kept), 400
    session.commit()
    log.info("signup user_id=%s", user.id)
    flash(f"Welcome, {user.username}! Start by rating a few artists you know.")
    return _signed_in(user, url_for("ratings.rate"))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    next_path = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("auth/login.html", next_path=next_path, errors={}, message=None)
    session = db_session()
    attempt = login_attempt(request.form.get("login", ""))
    refuse_if_locked_out(attempt)
    user = accounts.authenticate(
        session, request.form.get("login", ""), request.form.get("password", "")
    )
    if user is None:
        count_failure(attempt)
        log.warning("login failed client=%s", request.remote_addr)
        message = "Unknown username or wrong password."
        return (
            render_template(
                "auth/login.html",
                next_path=next_path,
                errors={"login": message},
                message=None,
                login_value=request.form.get("login", ""),
            ),
            401,
        )
    session.commit()  # a re-hash on login, if parameters changed
    log.info("login user_id=%s", user.id)
    return _signed_in(user, next_path)


@blueprint.post("/logout")
def logout() -> Response:
    session = db_session()
    if g.get("session_id"):
        end_session(session, g.session_id)
        session.commit()
        user = current_user()
        log.info("logout user_id=%s", user.id if user else None)
    flask_session.clear()  # the CSRF secret goes with the session
    response = redirect(url_for("main.home"))
    clear_token_cookie(response)
    flash("You are logged out.")
    return response


@blueprint.get("/account")
@login_required
def account() -> str:
    user = current_user()
    assert user is not None
    spotify, last_import = None, None
    if settings().spotify.enabled:
        spotify = spotify_connection.status(db_session(), user.id)
        last_import = jobs.latest_spotify_import(db_session(), user.id)
    return render_template("auth/account.html", errors={}, spotify=spotify, last_import=last_import)


@blueprint.post("/account/password")
@login_required
@limit_password_checks
def change_password() -> Response | tuple[str, int]:
    session = db_session()
    user = current_user()
    assert user is not None
    try:
        accounts.change_password(
            session,
            user,
            request.form.get("current_password", ""),
            request.form.get("new_password", ""),
        )
    except FieldError as error:
        session.rollback()
        g.wrong_password = bool({"current_password", "password"} & set(error.errors))
        return render_template("auth/account.html", errors=error.errors), 400
    session.commit()
    log.info("password changed user_id=%s; all sessions ended", user.id)
    flash("Your password is changed. Please log in again with the new one.")
    response = redirect(url_for("auth.login"))
    clear_token_cookie(response)
    return response


@blueprint.post("/account/delete")
@login_required
@limit_password_checks
def delete_account() -> Response | tuple[str, int]:
    session = db_session()
    user = current_user()
    assert user is not None
    try:
        accounts.delete_account(session, user, request.form.get("password", ""))
    except FieldError as error:
        session.rollback()
        g.wrong_password = bool({"current_password", "password"} & set(error.errors))
        return render_template("auth/account.html", errors=error.errors), 400
    session.commit()
    log.info("account deleted user_id=%s", user.id)
    flash("Your account and all your ratings are deleted.")
    response = redirect(url_for("main.home"))
    clear_token_cookie(response)
    return response


from musicrec.web.auth import recovery  # noqa: E402,F401  (registers the password-reset pages)
