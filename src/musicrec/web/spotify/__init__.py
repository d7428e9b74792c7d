"""Connecting a Spotify account: off to the accounts service and back (OAuth with PKCE).

Connecting starts from a POST with the CSRF token (the account page's button); a GET only shows
the button.
The ``state`` and the PKCE verifier wait in the signed session cookie between the two steps;
a callback whose ``state`` differs is refused. Without client credentials these pages are 404.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from werkzeug.wrappers import Response

from musicrec.services import spotify_connection
from musicrec.web.auth.guard import current_user, login_required, settings
from musicrec.web.db import db_session, end_transaction
from musicrec.web.security import CONTENT_SECURITY_POLICY

blueprint = Blueprint("spotify", __name__, url_prefix="/spotify")
log = logging.getLogger("musicrec.spotify")
PENDING = "spotify_authorization"
CONNECT_FORM_PAGES = frozenset({"auth.account", "spotify.connect_page"})


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


@blueprint.before_request
def hidden_without_credentials() -> None:
    if not settings().spotify.enabled:
        abort(404)


@blueprint.after_app_request
def let_the_connect_form_reach_spotify(response: Response) -> Response:
    """The connect form's POST is answered by a redirect to Spotify's accounts service, and
    browsers hold a form's redirects to the page's CSP ``form-action`` ('self'): on the pages
    showing the form, that one origin is added to it."""
    spotify = settings().spotify
    if request.endpoint in CONNECT_FORM_PAGES and spotify.enabled:
        accounts = urlsplit(spotify.accounts_url)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
            "form-action 'self'", f"form-action 'self' {accounts.scheme}://{accounts.netloc}"
        )
    return response


@blueprint.get("/connect")
@login_required
def connect_page() -> str:
    """A page with the connect button: a GET (another site's link) never starts the
    authorisation, which would re-connect a user who disconnected."""
    return render_template("spotify/connect.html")


@blueprint.post("/connect")
@login_required
def connect() -> Response:
    """Send the user to Spotify to authorise the app (the form on the account page, with its
    CSRF token)."""
    started = spotify_connection.start(settings().spotify)
    flask_session[PENDING] = {"state": started.state, "verifier": started.code_verifier}
    return redirect(started.url)


@blueprint.get("/callback")
@login_required
def callback() -> Response | tuple[str, int]:
    """Spotify sends the user back here with a code, or with an error."""
    pending = flask_session.pop(PENDING, None)
    state = request.args.get("state", "")
    if not pending or not hmac.compare_digest(str(pending.get("state", "")), state):
        log.warning("spotify callback refused: state mismatch (user_id=%s)", _user_id())
        return render_template("spotify/refused.html", reason="state"), 400
    error = request.args.get("error")
    if error:
        log.info("spotify authorization not given (user_id=%s): %s", _user_id(), error[:64])
        return render_template("spotify/refused.html", reason=error[:64]), 200
    code = request.args.get("code", "")
    if not code:
        return render_template("spotify/refused.html", reason="no code"), 400
    end_transaction()  # the token exchange is a network call: no transaction across it
    session = db_session()
    try:
        spotify_connection.complete(
            session, settings().spotify, _user_id(), code, str(pending.get("verifier", ""))
        )
    except spotify_connection.ConnectionRefused as refused:
        session.rollback()
        log.warning("spotify connection failed (user_id=%s): %s", _user_id(), refused)
        return render_template("spotify/refused.html", reason="exchange"), 502
    session.commit()
    log.info("spotify connected (user_id=%s)", _user_id())
    flash("Your Spotify account is connected: import your library to rate what you listen to.")
    return redirect(url_for("auth.account"))


@blueprint.post("/disconnect")
@login_required
def disconnect() -> Response:
    """Forget the user's Spotify tokens (the form on the account page)."""
    session = db_session()
    spotify_connection.disconnect(session, _user_id())
    session.commit()
    flash("Your Spotify account is disconnected; its tokens are deleted.")
    return redirect(url_for("auth.account"))
