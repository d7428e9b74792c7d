"""Input validation, error handling, configuration and rate limits, checked against OWASP
ASVS 5.0 (chapters 2, 6, 13 and 16)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from musicrec import create_app
from musicrec.config import ConfigurationError, Settings
from musicrec.services import rating_pages
from musicrec.services import ratings as ratings_service
from tests.web.conftest import PASSWORD, api_signup, bearer, csrf_from, page_signup, unique_name
from tests.web.test_security_support import built_app

PUBLIC_URL = "https://music.example.org"  # production refuses to start without one

# -- unknown JSON fields are refused -------------------------------------------------------------


def test_asvs_2_2_1_unknown_json_fields_are_rejected_naming_the_field(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    """ASVS 2.2.1/15.3.3 (mass assignment): every JSON body refuses a field it does not know,
    with 400 naming it, and does nothing."""
    _user, token = api_signup(client, "strict")
    artist = catalogue["Muse"]
    calls = [
        (
            "POST",
            "/api/v1/auth/signup",
            {"username": "sneaky", "email": "sneaky@example.com", "password": PASSWORD},
        ),
        ("POST", "/api/v1/auth/token", {"username": "strict", "password": PASSWORD}),
        ("PUT", f"/api/v1/me/ratings/{artist}", {"rating": 5}),
        ("POST", "/api/v1/artists", {"name": "A New Band"}),
    ]
    for method, path, body in calls:
        for extra in ("is_admin", "user_id", "source"):
            response = client.open(
                path, method=method, json={**body, extra: 1}, headers=bearer(token)
            )
            error = response.get_json()["error"]
            assert response.status_code == 400, (path, extra)
            assert error["code"] == "invalid_input"
            assert error["field"] == extra, (path, error)

    assert client.get("/api/v1/me/ratings", headers=bearer(token)).get_json() == {"ratings": []}
    assert (
        client.post(
            "/api/v1/auth/token", json={"username": "sneaky", "password": PASSWORD}
        ).status_code
        == 401
    )
    found = client.get("/api/v1/artists", query_string={"q": "A New Band"}).get_json()["artists"]
    assert all(artist["name"] != "A New Band" for artist in found)


def test_asvs_2_2_1_bodies_of_the_wrong_shape_are_400_not_500(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    """ASVS 2.2.1: a JSON array, a string, null or a nested object is a 400, never a 500."""
    _user, token = api_signup(client)
    path = f"/api/v1/me/ratings/{catalogue['Muse']}"
    for body in ([], "rating", 5, {"rating": {"$gt": 1}}, {"rating": [5]}, {}):
        response = client.put(path, json=body, headers=bearer(token))
        assert response.status_code == 400, body
        assert "error" in response.get_json()
    for raw in (b"{", b"null", b"\xff\xfe"):
        response = client.put(
            path, data=raw, content_type="application/json", headers=bearer(token)
        )
        assert response.status_code == 400, raw


# -- 16.5.x: a generic error, never a traceback --------------------------------------------------

SECRET_DETAIL = "secret-detail /srv/musicrec/src/musicrec/services/ratings.py line 42"


def _explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(SECRET_DETAIL)


def test_asvs_16_5_1_a_forced_api_exception_gives_a_generic_json_500(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """ASVS 16.5.1: an unexpected exception in an API call answers a generic JSON 500 without
    traceback or detail; the detail goes to the log."""
    _user, token = api_signup(client)
    monkeypatch.setattr(rating_pages, "ratings_page", _explode)

    response = client.get("/api/v1/me/ratings", headers=bearer(token))

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "error": {"code": "internal_error", "message": "Something went wrong on our side."}
    }
    for leak in ("Traceback", "secret-detail", "RuntimeError", ".py", "musicrec/"):
        assert leak not in body
    assert any(SECRET_DETAIL in (record.exc_text or "") for record in caplog.records)


def test_asvs_16_5_1_a_forced_page_exception_gives_a_generic_page_500(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS 16.5.1: the same for pages: a generic HTML 500 page."""
    browser = app.test_client()
    page_signup(browser)
    monkeypatch.setattr(rating_pages, "ratings_page", _explode)

    response = browser.get("/ratings")

    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    for leak in ("Traceback", "secret-detail", "RuntimeError", ".py"):
        assert leak not in body


def test_asvs_16_5_1_an_exception_in_a_route_added_later_is_generic_too(
    app_settings: Settings, db_engine: Engine
) -> None:
    """ASVS 16.5.1: the handler covers every route, in production mode too (no debugger)."""
    with built_app(app_settings, env="production", public_url=PUBLIC_URL) as app:
        app.config["TESTING"] = False  # let nothing propagate: behave as served

        @app.get("/api/v1/boom")
        def boom() -> str:
            raise ZeroDivisionError(SECRET_DETAIL)

        @app.get("/boom")
        def page_boom() -> str:
            raise KeyError(SECRET_DETAIL)

        client = app.test_client()
        api = client.get("/api/v1/boom")
        page = client.get("/boom")

        assert not app.debug
        assert api.status_code == 500 and api.get_json()["error"]["code"] == "internal_error"
        assert page.status_code == 500
        for response in (api, page):
            assert "secret-detail" not in response.get_data(as_text=True)
            assert "Traceback" not in response.get_data(as_text=True)


def test_asvs_16_5_unknown_routes_and_methods_answer_json_in_the_api(
    client: FlaskClient,
) -> None:
    """ASVS 16.5.1: 404 and 405 in the API are JSON errors, not HTML pages."""
    missing = client.get("/api/v1/nope")
    not_allowed = client.delete("/api/v1/health")

    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert not_allowed.status_code == 405 and "error" in not_allowed.get_json()


# -- 13.x: production refuses an unsafe secret key -----------------------------------------------


@pytest.mark.parametrize("secret_key", ["", "short", "x" * 31])
def test_asvs_13_3_1_production_refuses_to_start_with_a_missing_or_short_secret_key(
    settings: Settings, secret_key: str
) -> None:
    """ASVS 13.3.1: in production the app refuses to start with a missing or short secret."""
    unsafe = replace(settings, env="production", secret_key=secret_key)

    with pytest.raises(ConfigurationError):
        create_app(unsafe)
    with pytest.raises(ConfigurationError):
        unsafe.check()


@pytest.mark.parametrize("secret_key", [None, "", "short"])
def test_asvs_13_3_1_production_settings_from_the_environment_refuse_a_bad_secret(
    tmp_path, secret_key: str | None
) -> None:
    """ASVS 13.3.1: MUSICREC_ENV=production without a long MUSICREC_SECRET_KEY fails early,
    and no key is generated into the instance folder in its place."""
    environ = {"MUSICREC_ENV": "production", "MUSICREC_INSTANCE_DIR": str(tmp_path / "inst")}
    if secret_key is not None:
        environ["MUSICREC_SECRET_KEY"] = secret_key

    with pytest.raises(ConfigurationError):
        Settings.from_env(environ)
    assert not (tmp_path / "inst" / "secret_key").exists()


def test_asvs_13_3_1_production_starts_with_a_long_secret_key(
    settings: Settings, db_engine: Engine
) -> None:
    """The check is not over-eager: 32+ characters start fine."""
    with built_app(settings, env="production", secret_key="k" * 32, public_url=PUBLIC_URL) as app:
        assert app.test_client().get("/api/v1/health").status_code == 200


# -- 6.3.1: login rate limits --------------------------------------------------------------------


def _fail_api(client: FlaskClient, login: str, address: str):
    return client.post(
        "/api/v1/auth/token",
        json={"username": login, "password": "a wrong password"},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail_page(app: Flask, login: str, address: str):
    browser = app.test_client()
    browser.environ_base = {"REMOTE_ADDR": address}
    token = csrf_from(browser, "/login")
    return browser.post(
        "/login",
        data={"login": login, "password": "a wrong password", "csrf_token": token},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def limited_app(app_settings: Settings, db_engine: Engine):
    """An app with the default limits (10 failed log-ins a minute per client and account)."""
    with built_app(app_settings, rate_limits="10/minute") as application:
        yield application


def test_asvs_6_3_1_the_11th_failed_api_login_from_one_client_is_429(limited_app: Flask) -> None:
    """ASVS 6.3.1: 10 failed log-ins a minute per client; the 11th is 429 (JSON), even with
    the right password, and other clients are unaffected."""
    client = limited_app.test_client()
    api_signup(client, "target")
    for number in range(10):
        login = f"someone{number}"  # different accounts: only the client limit applies
        assert _fail_api(client, login, "203.0.113.5").status_code == 401, number

    blocked = _fail_api(client, "someone-else", "203.0.113.5")
    right = client.post(
        "/api/v1/auth/token",
        json={"username": "target", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "203.0.113.5"},
    )

    assert blocked.status_code == 429
    assert blocked.get_json()["error"]["code"] == "too_many_requests"
    assert right.status_code == 429
    assert _fail_api(client, "someone-else", "203.0.113.6").status_code == 401


def test_asvs_6_3_1_the_11th_failed_page_login_from_one_client_is_429(limited_app: Flask) -> None:
    """ASVS 6.3.1: the same limit on the log-in page."""
    for number in range(10):
        assert _fail_page(limited_app, f"someone{number}", "198.51.100.7").status_code == 401

    assert _fail_page(limited_app, "someone-else", "198.51.100.7").status_code == 429
    assert _fail_page(limited_app, "someone-else", "198.51.100.8").status_code == 401


def test_asvs_6_3_1_successful_logins_are_not_counted(limited_app: Flask) -> None:
    """Only failures count: a user logging in 15 times a minute is never blocked."""
    client = limited_app.test_client()
    api_signup(client, "often")
    for number in range(15):
        response = client.post(
            "/api/v1/auth/token",
            json={"username": "often", "password": PASSWORD},
            environ_base={"REMOTE_ADDR": "192.0.2.1"},
        )
        assert response.status_code == 200, number


def test_asvs_6_3_1_the_11th_failed_login_on_one_account_from_many_clients_is_429(
    limited_app: Flask,
) -> None:
    """ASVS 6.3.1: 10 failed log-ins a minute per account, whoever sends them."""
    client = limited_app.test_client()
    api_signup(client, "victim")
    for number in range(10):
        assert _fail_api(client, "victim", f"10.0.0.{number + 1}").status_code == 401

    assert _fail_api(client, "victim", "10.0.1.1").status_code == 429
    assert _fail_api(client, "VICTIM", "10.0.1.2").status_code == 429  # the case does not matter
    assert _fail_api(client, "bystander", "10.0.1.3").status_code == 401


def test_asvs_6_3_1_the_account_limit_holds_across_page_and_api(limited_app: Flask) -> None:
    """ASVS 6.3.1: the per-account limit counts failures on the page and the API together
    (otherwise an attacker gets 10 a minute on each)."""
    client = limited_app.test_client()
    api_signup(client, "shared")
    for number in range(10):
        assert _fail_api(client, "shared", f"10.1.0.{number + 1}").status_code == 401

    assert _fail_page(limited_app, "shared", "10.1.1.1").status_code == 429


def test_asvs_6_3_1_the_client_limit_holds_across_page_and_api(limited_app: Flask) -> None:
    """ASVS 6.3.1: the per-client limit counts failures on the page and the API together."""
    client = limited_app.test_client()
    for number in range(10):
        assert _fail_api(client, f"nobody{number}", "10.3.0.1").status_code == 401

    assert _fail_page(limited_app, "nobody-else", "10.3.0.1").status_code == 429


def test_asvs_6_3_1_the_account_limit_holds_for_username_and_email_alike(
    limited_app: Flask,
) -> None:
    """ASVS 6.3.1: one can log in with username or email; both count for the same account."""
    client = limited_app.test_client()
    api_signup(client, "dual")
    for number in range(10):
        login = "dual" if number % 2 else "dual@example.com"
        assert _fail_api(client, login, f"10.2.0.{number + 1}").status_code == 401

    assert _fail_api(client, "dual", "10.2.1.1").status_code == 429
    assert _fail_api(client, "dual@example.com", "10.2.1.2").status_code == 429


def test_asvs_6_3_1_signups_are_rate_limited_per_client(limited_app: Flask) -> None:
    """Issue 4: sign-ups are limited per client too (10 a minute by default)."""
    client = limited_app.test_client()
    answers = []
    for _ in range(11):
        name = unique_name("burst")
        response = client.post(
            "/api/v1/auth/signup",
            json={"username": name, "email": f"{name}@example.com", "password": "password"},
            environ_base={"REMOTE_ADDR": "192.0.2.50"},
        )
        answers.append(response.status_code)

    assert answers[:10] == [422] * 10  # a common password: refused, but counted
    assert answers[10] == 429


def test_asvs_6_3_1_rate_limits_off_disables_them(
    app_settings: Settings, db_engine: Engine, tmp_path
) -> None:
    """MUSICREC_RATE_LIMITS=off (read from the environment) disables the limits."""
    from_env = Settings.from_env(
        {
            "MUSICREC_RATE_LIMITS": "off",
            "MUSICREC_INSTANCE_DIR": str(tmp_path / "instance"),
            "MUSICREC_DATABASE_URL": app_settings.database_url,
            "MUSICREC_SECRET_KEY": app_settings.secret_key,
        }
    )
    assert from_env.rate_limits == "off"
    with built_app(from_env) as app:
        client = app.test_client()
        api_signup(client, "loadtest")
        for number in range(25):
            assert _fail_api(client, "loadtest", "192.0.2.9").status_code == 401, number
        assert _fail_page(app, "loadtest", "192.0.2.9").status_code == 401


def test_asvs_6_3_1_rate_limits_read_from_the_environment(
    app_settings: Settings, db_engine: Engine, tmp_path
) -> None:
    """MUSICREC_RATE_LIMITS sets the limit: with 3/minute the 4th failure is 429."""
    from_env = Settings.from_env(
        {
            "MUSICREC_RATE_LIMITS": "3/minute",
            "MUSICREC_INSTANCE_DIR": str(tmp_path / "instance"),
            "MUSICREC_DATABASE_URL": app_settings.database_url,
            "MUSICREC_SECRET_KEY": app_settings.secret_key,
        }
    )
    with built_app(from_env) as app:
        client = app.test_client()
        statuses = [_fail_api(client, f"u{n}", "192.0.2.10").status_code for n in range(4)]

    assert statuses == [401, 401, 401, 429]


# -- out-of-range ids are a 404, not a server error ----------------------------------------------

OUT_OF_RANGE_IDS = [0, -1, 2**31, 2**63, 10**22]


@pytest.mark.parametrize("artist_id", OUT_OF_RANGE_IDS)
def test_asvs_16_5_out_of_range_ids_are_404_never_405_or_5xx(app: Flask, artist_id: int) -> None:
    """ASVS 16.5.3/2.2.1 (found by schemathesis): an artist id no row can have (0, negative,
    larger than the database's integer) is "not found" for every method, never a 405, a 500
    (SQLite: OverflowError) or a 503 "database unavailable" (PostgreSQL: out of range)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # an error inside an error handler: a bare 500
    browser = app.test_client()
    page_signup(browser)
    csrf = {"X-CSRFToken": csrf_from(browser, "/rate")}
    answers = {
        "GET artist": browser.get(f"/api/v1/artists/{artist_id}"),
        "GET similar": browser.get(f"/api/v1/artists/{artist_id}/similar"),
        "PUT rating": browser.put(
            f"/api/v1/me/ratings/{artist_id}", json={"rating": 5}, headers=csrf
        ),
        "DELETE rating": browser.delete(f"/api/v1/me/ratings/{artist_id}", headers=csrf),
        "artist page": browser.get(f"/artists/{artist_id}"),
    }

    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == dict.fromkeys(answers, 404)


def test_asvs_6_3_1_password_checks_on_the_account_page_are_rate_limited(
    limited_app: Flask,
) -> None:
    """ASVS 6.3.1: changing the password and deleting the account check the current
    password; with a stolen session they are a password-guessing oracle unless wrong guesses
    are limited like failed log-ins (10 a minute)."""
    browser = limited_app.test_client()
    browser.environ_base = {"REMOTE_ADDR": "192.0.2.77"}
    page_signup(browser)
    statuses = []
    for number in range(11):
        guess = f"guess number {number:02d} of the password"
        path, field = (
            ("/account/password", "current_password")
            if number % 2
            else ("/account/delete", "password")
        )
        data = {field: guess, "new_password": "a brand new passphrase", "csrf_token": ""}
        data["csrf_token"] = csrf_from(browser, "/account")
        statuses.append(browser.post(path, data=data).status_code)

    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


# -- a database failure on a page gives the 503 page -------------------------------------------


def test_asvs_16_5_a_database_failure_on_a_page_gives_the_503_page(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ASVS 16.5.2/16.5.3: when the database fails in the middle of a signed-in page, the
    visitor gets the generic 503 page. (The error page itself must not query the failed
    session: on PostgreSQL the transaction is aborted, and if the database is down every
    query fails, so rendering the error page would raise and end in a bare 500.)"""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from musicrec.web.db import db_session

    app.config["PROPAGATE_EXCEPTIONS"] = False
    browser = app.test_client()
    page_signup(browser)

    def failing_statement(*_args: object, **_kwargs: object) -> None:
        db_session().execute(text("SELECT no_such_column FROM no_such_table"))

    def get_page() -> TestResponse | None:
        try:
            return browser.get("/ratings")
        except Exception:  # noqa: BLE001 - the error handler itself raised
            return None  # under gunicorn: a bare "Internal Server Error", not our page

    monkeypatch.setattr(rating_pages, "ratings_page", failing_statement)
    failed_statement = get_page()

    def database_down(*_args: object, **_kwargs: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))

    monkeypatch.setattr(rating_pages, "ratings_page", database_down)
    monkeypatch.setattr(ratings_service, "count", database_down)
    down = get_page()

    for case, response in (("failed statement", failed_statement), ("database down", down)):
        assert response is not None, f"{case}: rendering the error page raised"
        assert response.status_code == 503, case
        assert response.mimetype == "text/html"
        body = response.get_data(as_text=True)
        assert "no_such_table" not in body and "Traceback" not in body
