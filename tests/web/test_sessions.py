"""Session management, checked against OWASP ASVS 5.0 chapter 7.

A session is a signed JWT naming a server-side row; these tests replay tokens after the row was
ended and move the server's clock (``musicrec.services.auth.utcnow``) past the timeouts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from musicrec.config import Settings
from musicrec.db.models import AuthSession, Rating, Recommendation, User
from tests.web.conftest import PASSWORD, api_signup, bearer, page_login, page_signup
from tests.web.test_security_support import (
    built_app,
    client_with_cookie,
    count_where,
    post_form,
    session_id_of,
    token_cookie,
)

NEW_PASSWORD = "another long passphrase"


def _api_token(client: FlaskClient, login: str, password: str = PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", json={"username": login, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def _refused(app: Flask, token: str, said: str = "Your session ended") -> None:
    """The token is refused both as a page cookie and as an API Bearer token; the page says
    why (ended by a log-out or a password change; expired when the account is gone)."""
    page = client_with_cookie(app, token).get("/rate")
    assert page.status_code == 401
    assert said in page.get_data(as_text=True)
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401
    api_by_cookie = client_with_cookie(app, token).get("/api/v1/me/ratings")
    assert api_by_cookie.status_code == 401


def _accepted(app: Flask, token: str) -> None:
    assert client_with_cookie(app, token).get("/rate").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200


# -- 7.2.4: a new session token at every login -------------------------------------------------


def test_asvs_7_2_4_every_login_issues_a_new_session_token(app: Flask, client: FlaskClient) -> None:
    """ASVS 7.2.4: a new session token is generated on authentication."""
    api_signup(client, "fresh")

    first, second = app.test_client(), app.test_client()
    assert page_login(first, "fresh").status_code == 302
    assert page_login(second, "fresh").status_code == 302
    api_one, api_two = _api_token(client, "fresh"), _api_token(client, "fresh")

    tokens = [token_cookie(first), token_cookie(second), api_one, api_two]
    assert all(tokens)
    assert len(set(tokens)) == 4
    assert len({session_id_of(token) for token in tokens}) == 4  # a new server-side id each time


def test_asvs_7_2_4_a_planted_session_cookie_is_replaced_at_login(app: Flask) -> None:
    """ASVS 7.2.4: session fixation: a token planted in the browser is replaced at login."""
    attacker = app.test_client()
    page_signup(attacker, "mallory")
    planted = token_cookie(attacker)
    assert planted
    victim = app.test_client()
    api_signup(victim, "victim")
    victim.set_cookie("musicrec_token", planted, path="/")

    assert page_login(victim, "victim").status_code == 302

    after = token_cookie(victim)
    assert after and after != planted
    assert session_id_of(after) != session_id_of(planted)
    me = app.test_client().get("/api/v1/me", headers=bearer(after)).get_json()
    assert me["user"]["username"] == "victim"
    still = app.test_client().get("/api/v1/me", headers=bearer(planted)).get_json()
    assert still["user"]["username"] == "mallory"  # the planted token never became the victim's


# -- 7.4.1: logout ends the session for good ----------------------------------------------------


def test_asvs_7_4_1_cookie_replayed_after_page_logout_is_refused(app: Flask) -> None:
    """ASVS 7.4.1: after logout (page), the old cookie is refused as cookie and as Bearer."""
    browser = app.test_client()
    page_signup(browser)
    token = token_cookie(browser)
    assert token
    _accepted(app, token)

    response = post_form(browser, "/logout", {}, page="/")

    assert response.status_code == 302
    assert token_cookie(browser) is None  # the browser's copy is cleared...
    _refused(app, token)  # ...and a copy kept elsewhere is worthless


def test_asvs_7_4_1_bearer_replayed_after_api_logout_is_refused(app: Flask) -> None:
    """ASVS 7.4.1: after logout (API), the old token is refused as Bearer and as cookie."""
    client = app.test_client()
    _user, token = api_signup(client)
    _accepted(app, token)

    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204

    _refused(app, token)
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 401


# -- 7.4.2: deleting the account ends every session ---------------------------------------------


def test_asvs_7_4_2_tokens_replayed_after_account_deletion_are_refused(
    app: Flask, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    """ASVS 7.4.2: deleting the account ends all its sessions and deletes all its data."""
    browser = app.test_client()
    username = page_signup(browser)
    cookie = token_cookie(browser)
    api_token = _api_token(app.test_client(), username)
    user_id = (
        app.test_client().get("/api/v1/me", headers=bearer(api_token)).get_json()["user"]["id"]
    )
    for name in ("Radiohead", "Björk"):
        app.test_client().put(
            f"/api/v1/me/ratings/{catalogue[name]}", json={"rating": 8}, headers=bearer(api_token)
        )
    made = app.test_client().post("/api/v1/me/recommendations?n=2", headers=bearer(api_token))
    assert made.status_code == 201
    assert cookie

    wrong = post_form(browser, "/account/delete", {"password": "not my password at all"})
    assert wrong.status_code == 400
    _accepted(app, cookie)
    response = post_form(browser, "/account/delete", {"password": PASSWORD})

    assert response.status_code == 302
    _refused(app, cookie, "Your session expired")
    _refused(app, api_token, "Your session expired")
    for model, column in ((User, "id"), (Rating, "user_id"), (Recommendation, "user_id")):
        assert count_where(db_engine, model, **{column: user_id}) == 0, model.__name__
    assert count_where(db_engine, AuthSession, user_id=user_id) == 0


# -- 7.4.3: changing the password ends every session --------------------------------------------


def test_asvs_7_4_3_tokens_replayed_after_password_change_are_refused(app: Flask) -> None:
    """ASVS 7.4.3: a password change ends every session of the user (cookie and Bearer)."""
    browser = app.test_client()
    username = page_signup(browser)
    cookie = token_cookie(browser)
    api_token = _api_token(app.test_client(), username)
    assert cookie
    _accepted(app, api_token)

    response = post_form(
        browser,
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 302
    _refused(app, cookie)
    _refused(app, api_token)
    assert page_login(app.test_client(), username, PASSWORD).status_code == 401
    assert page_login(app.test_client(), username, NEW_PASSWORD).status_code == 302


def test_asvs_7_4_3_a_wrong_current_password_changes_nothing(app: Flask) -> None:
    """ASVS 7.4.3 (and 6.2.3): the current password is required to set a new one."""
    browser = app.test_client()
    username = page_signup(browser)
    cookie = token_cookie(browser)
    assert cookie

    response = post_form(
        browser,
        "/account/password",
        {"current_password": "a wrong current password", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 400
    _accepted(app, cookie)
    assert page_login(app.test_client(), username, NEW_PASSWORD).status_code == 401


# -- 7.3.1 / 7.3.2: idle and absolute timeouts --------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move the session service's clock forward: ``clock(timedelta(minutes=5))``."""
    import musicrec.services.auth as auth_service

    offset = [timedelta(0)]

    def now() -> datetime:
        return datetime.now(UTC) + offset[0]

    monkeypatch.setattr(auth_service, "utcnow", now)

    def move_to(delta: timedelta) -> None:
        offset[0] = delta

    return move_to


def test_asvs_7_3_1_an_idle_session_expires(
    app_settings: Settings, db_engine: Engine, clock: Callable[[timedelta], None]
) -> None:
    """ASVS 7.3.1: a session unused for longer than the idle timeout is refused."""
    with built_app(app_settings, session_idle=timedelta(minutes=10)) as app:
        browser = app.test_client()
        page_signup(browser)
        token = token_cookie(browser)
        assert token

        clock(timedelta(minutes=9))
        assert browser.get("/rate").status_code == 200  # activity keeps it alive...
        clock(timedelta(minutes=18))
        assert browser.get("/rate").status_code == 200  # ...9 minutes after the last use
        clock(timedelta(minutes=29))  # 11 idle minutes
        expired = browser.get("/rate")

        assert expired.status_code == 401
        assert "Your session expired" in expired.get_data(as_text=True)
        assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401
        clock(timedelta(minutes=30))  # an expired session stays expired
        assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_a_busy_database_defers_the_idle_clock_of_a_get_not_the_page(
    app: Flask, clock: Callable[[timedelta], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a GET reads in a deferred transaction: moving the idle clock there can fail at
    once with "database is locked" when another connection wrote meanwhile. The page is served
    anyway (it answered 503 when the write ran inside the token check)."""
    import musicrec.db.auth_sessions as auth_sessions

    browser = app.test_client()
    page_signup(browser)
    clock(timedelta(minutes=5))  # past the touch step: this GET moves the idle clock

    def locked(*_args: object) -> None:
        raise OperationalError("UPDATE auth_sessions", {}, Exception("database is locked"))

    monkeypatch.setattr(auth_sessions, "touch", locked)

    page = browser.get("/rate")

    assert page.status_code == 200
    assert "Log out" in page.get_data(as_text=True)


def test_asvs_7_3_1_an_idle_bearer_token_expires(
    app_settings: Settings, db_engine: Engine, clock: Callable[[timedelta], None]
) -> None:
    """ASVS 7.3.1: the idle timeout holds for API tokens too."""
    with built_app(app_settings, session_idle=timedelta(minutes=10)) as app:
        _user, token = api_signup(app.test_client())
        clock(timedelta(minutes=11))

        response = app.test_client().get("/api/v1/me", headers=bearer(token))

        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_asvs_7_3_2_a_session_ends_at_its_absolute_timeout_despite_activity(
    app_settings: Settings, db_engine: Engine, clock: Callable[[timedelta], None]
) -> None:
    """ASVS 7.3.2: an active session still ends at the absolute timeout."""
    with built_app(
        app_settings, session_idle=timedelta(minutes=45), session_max=timedelta(hours=1)
    ) as app:
        browser = app.test_client()
        page_signup(browser)
        token = token_cookie(browser)
        assert token
        for minutes in (20, 40, 59):
            clock(timedelta(minutes=minutes))
            assert browser.get("/rate").status_code == 200, minutes
        clock(timedelta(minutes=61))

        response = browser.get("/rate")

        assert response.status_code == 401
        assert "Your session expired" in response.get_data(as_text=True)
        assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_asvs_7_3_2_the_cookie_and_the_token_carry_the_absolute_timeout(
    app_settings: Settings, db_engine: Engine
) -> None:
    """ASVS 7.3.2: the cookie's Max-Age and the JWT's exp match the absolute timeout."""
    with built_app(app_settings, session_max=timedelta(hours=2)) as app:
        browser = app.test_client()
        username = page_signup(browser)
        response = page_login(app.test_client(), username)
        token = _api_token(app.test_client(), username)

        set_cookie = response.headers["Set-Cookie"]
        assert "Max-Age=7200" in set_cookie
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 7200


def test_asvs_7_3_2_a_token_past_its_exp_is_refused_even_with_a_live_session(
    app: Flask, app_settings: Settings
) -> None:
    """ASVS 7.3.2: the JWT's own expiry is enforced (a re-signed token cannot extend it)."""
    client = app.test_client()
    _user, token = api_signup(client)
    claims = jwt.decode(token, options={"verify_signature": False})
    now = int(datetime.now(UTC).timestamp())
    stale = jwt.encode(
        {**claims, "iat": now - 7200, "exp": now - 60}, app_settings.secret_key, algorithm="HS256"
    )

    assert client.get("/api/v1/me", headers=bearer(stale)).status_code == 401
    assert client_with_cookie(app, stale).get("/rate").status_code == 401


def test_forged_and_tampered_tokens_are_refused(app: Flask, app_settings: Settings) -> None:
    """ASVS 7.2.1/7.2.3: a token the server did not sign, or one naming another user's
    session, is refused."""
    client = app.test_client()
    alice_id, alice = api_signup(client, "alice")
    bob_id, bob = api_signup(client, "bob")
    claims = jwt.decode(bob, options={"verify_signature": False})
    key = app_settings.secret_key
    forged = [
        jwt.encode(claims, "a different secret key of enough length!!", algorithm="HS256"),
        # Bob's session, claimed for Alice:
        jwt.encode({**claims, "sub": str(alice_id)}, key, algorithm="HS256"),
        jwt.encode(claims, None, algorithm="none"),  # an unsigned token
        jwt.encode({**claims, "sid": "no-such-session"}, key, algorithm="HS256"),
        bob[:-4] + ("AAAA" if not bob.endswith("AAAA") else "BBBB"),  # a broken signature
        "not-a-token",
    ]
    for token in forged:
        response = client.get("/api/v1/me", headers=bearer(token))
        assert response.status_code == 401, token
        assert client_with_cookie(app, token).get("/rate").status_code == 401, token
    assert client.get("/api/v1/me", headers=bearer(alice)).get_json()["user"]["id"] == alice_id
    assert client.get("/api/v1/me", headers=bearer(bob)).get_json()["user"]["id"] == bob_id
