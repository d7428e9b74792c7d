"""Access control, CSRF, redirects and output encoding, checked against OWASP ASVS 5.0
(chapters 3, 8 and 1/2)."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from musicrec.db.models import Rating
from tests.web.conftest import PASSWORD, api_signup, bearer, csrf_from, page_login, page_signup
from tests.web.test_security_support import (
    count_where,
    routes,
    rule_path,
    snapshot,
    token_cookie,
)

# Routes anyone may use (method, rule). Everything else needs a session.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/signup"),
    ("POST", "/signup"),
    # Logging out is idempotent: an anonymous visitor who posts the form is just sent home.
    ("POST", "/logout"),
    ("POST", "/api/v1/auth/signup"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/artists"),
    ("GET", "/api/v1/artists/{artist_id}"),
    ("GET", "/api/v1/artists/{artist_id}/similar"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),  # the same document as a page for people (issue 21)
    ("GET", "/static/{filename}"),
    ("GET", "/artists/{artist_id}"),
    # A forgotten password: asked for, and set with the mailed link, before any log-in.
    ("GET", "/forgot-password"),
    ("POST", "/forgot-password"),
    ("GET", "/reset-password/{token}"),
    ("POST", "/reset-password/{token}"),
}


def _rule_of(app: Flask, endpoint: str) -> str:
    return next(rule_path(rule) for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)


def _send(client: FlaskClient, method: str, path: str, **kwargs):
    body = {"json": {"rating": 5}} if method in ("PUT", "POST") and "/api/" in path else {}
    return client.open(path, method=method, **body, **kwargs)


# -- 8.2.x: one user cannot reach another's data ------------------------------------------------


@pytest.fixture
def alice_and_bob(app: Flask, catalogue: dict[str, int]) -> dict[str, object]:
    """Alice (cookie and Bearer) with ratings and recommendations; Bob (cookie and Bearer)."""
    alice_browser = app.test_client()
    page_signup(alice_browser, "alice")
    alice_token = (
        app.test_client()
        .post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD})
        .get_json()["token"]
    )
    for name in ("Iron Maiden", "Metallica"):
        response = app.test_client().put(
            f"/api/v1/me/ratings/{catalogue[name]}", json={"rating": 9}, headers=bearer(alice_token)
        )
        assert response.status_code == 201
    recommended = app.test_client().post(
        "/api/v1/me/recommendations?n=3", headers=bearer(alice_token)
    )
    assert recommended.status_code == 201
    bob_browser = app.test_client()
    page_signup(bob_browser, "bob")
    bob_token = (
        app.test_client()
        .post("/api/v1/auth/token", json={"username": "bob", "password": PASSWORD})
        .get_json()["token"]
    )
    return {
        "alice_browser": alice_browser,
        "alice_token": alice_token,
        "alice_recommended": [
            r["artist"]["name"] for r in recommended.get_json()["recommendations"]
        ],
        "bob_browser": bob_browser,
        "bob_token": bob_token,
    }


def test_asvs_8_2_2_user_b_cannot_read_user_a_ratings_or_recommendations(
    app: Flask, alice_and_bob: dict
) -> None:
    """ASVS 8.2.2: Bob sees only his own (empty) ratings and recommendations, by API and page."""
    bob = bearer(alice_and_bob["bob_token"])
    client = app.test_client()

    assert client.get("/api/v1/me/ratings", headers=bob).get_json() == {"ratings": []}
    assert client.get("/api/v1/me/recommendations", headers=bob).get_json() == {
        "recommendations": []
    }
    assert client.get("/api/v1/me", headers=bob).get_json()["rated_count"] == 0
    browser: FlaskClient = alice_and_bob["bob_browser"]
    for path in ("/ratings", "/recommendations", "/rate", "/account"):
        page = browser.get(path).get_data(as_text=True)
        assert "alice" not in page.lower(), path
    assert "Iron Maiden" not in browser.get("/ratings").get_data(as_text=True)
    recommended_page = browser.get("/recommendations").get_data(as_text=True)
    # (Bob has no ratings: the page lists popular starter artists, which may be Alice's picks.)
    past = recommended_page.split('id="past-recommendations"', 1)[1]
    assert not [n for n in alice_and_bob["alice_recommended"] if html.escape(n) in past]


def test_asvs_8_2_2_user_b_cannot_change_user_a_ratings(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], alice_and_bob: dict
) -> None:
    """ASVS 8.2.2: Bob's writes only ever touch Bob's rows."""
    bob = bearer(alice_and_bob["bob_token"])
    client = app.test_client()
    alice_id = client.get("/api/v1/me", headers=bearer(alice_and_bob["alice_token"])).get_json()[
        "user"
    ]["id"]
    before = count_where(db_engine, Rating, user_id=alice_id)
    maiden = catalogue["Iron Maiden"]

    assert client.delete(f"/api/v1/me/ratings/{maiden}", headers=bob).status_code == 404
    assert (
        client.put(f"/api/v1/me/ratings/{maiden}", json={"rating": 1}, headers=bob).status_code
        == 201
    )
    client.post("/api/v1/me/recommendations?n=2", headers=bob)

    alice_ratings = client.get(
        "/api/v1/me/ratings", headers=bearer(alice_and_bob["alice_token"])
    ).get_json()["ratings"]
    assert count_where(db_engine, Rating, user_id=alice_id) == before
    assert {r["artist"]["name"]: r["rating"] for r in alice_ratings} == {
        "Iron Maiden": 9,
        "Metallica": 9,
    }


def test_asvs_8_2_2_mixed_credentials_never_reach_the_cookie_owner(
    app: Flask, db_engine: Engine, catalogue: dict[str, int], alice_and_bob: dict
) -> None:
    """ASVS 8.2.2/8.3.1: Alice's cookie with Bob's Bearer acts as Bob; Alice's cookie with a
    forged or logged-out Bearer is refused outright rather than falling back to the cookie."""
    alice_browser: FlaskClient = alice_and_bob["alice_browser"]
    bob = bearer(alice_and_bob["bob_token"])
    maiden = catalogue["Iron Maiden"]

    as_bob = alice_browser.get("/api/v1/me", headers=bob).get_json()
    assert as_bob["user"]["username"] == "bob"
    assert alice_browser.get("/api/v1/me/ratings", headers=bob).get_json() == {"ratings": []}
    assert alice_browser.delete(f"/api/v1/me/ratings/{maiden}", headers=bob).status_code == 404

    for bad in ("forged-token", alice_and_bob["bob_token"][:-3] + "xyz"):
        response = alice_browser.get("/api/v1/me/ratings", headers=bearer(bad))
        assert response.status_code == 401, bad
        refused = alice_browser.delete(f"/api/v1/me/ratings/{maiden}", headers=bearer(bad))
        assert refused.status_code == 401
    mine = alice_browser.get(
        "/api/v1/me/ratings", headers=bearer(alice_and_bob["alice_token"])
    ).get_json()
    assert len(mine["ratings"]) == 2

    # Bob's cookie with Alice's Bearer: the Bearer decides, and Bob's rows stay untouched.
    bob_browser: FlaskClient = alice_and_bob["bob_browser"]
    alice = bearer(alice_and_bob["alice_token"])
    assert bob_browser.get("/api/v1/me", headers=alice).get_json()["user"]["username"] == "alice"


def test_asvs_8_2_2_there_is_no_route_naming_another_user(app: Flask) -> None:
    """ASVS 8.2.2: user data is only reachable through /me routes (no user id in any URL)."""
    for rule in app.url_map.iter_rules():
        assert not any(arg in ("user_id", "username", "user") for arg in rule.arguments), rule.rule
        if "rating" in rule.rule or "recommendation" in rule.rule:
            assert rule.rule.startswith("/api/v1/me/") or rule.rule in (
                "/ratings",
                "/recommendations",
            )


# -- every non-public route is 401 when anonymous -----------------------------------------------


def test_asvs_8_every_non_public_route_is_401_when_anonymous(
    app: Flask, catalogue: dict[str, int]
) -> None:
    """ASVS 8.1.1/8.2.1 (issue 4): every route but the public ones answers 401 to an anonymous
    visitor, whatever the method (page forms carry a valid CSRF token, so that the guard, not
    CSRF protection, is what answers)."""
    artist_id = catalogue["Muse"]
    rules = {(m, _rule_of(app, endpoint)): p for m, p, endpoint in routes(app, artist_id)}
    guarded = sorted(key for key in rules if key not in PUBLIC)
    assert ("GET", "/rate") in guarded and ("PUT", "/api/v1/me/ratings/{artist_id}") in guarded
    assert not [key for key in PUBLIC if key not in rules], "a public route disappeared"
    visitor = app.test_client()
    token = csrf_from(visitor, "/")

    spotify_off = not app.config["MUSICREC_SETTINGS"].spotify.enabled
    wrong = []
    for method, rule in guarded:
        path = rules[(method, rule)]
        if path.startswith("/api/"):
            response = _send(visitor, method, path)
            ok = (
                response.status_code == 401
                and response.get_json()["error"]["code"] == "unauthorized"
            )
        else:
            response = visitor.open(path, method=method, data={"csrf_token": token})
            ok = response.status_code == 401
        if spotify_off and ("spotify" in path or path.endswith("/top-songs")):
            # Without Spotify credentials these routes are refused to everyone (404, or the
            # guard's 401 first): tests/web/test_spotify.py checks them with Spotify configured.
            ok = response.status_code in (401, 404)
        if not ok:
            wrong.append((method, path, response.status_code))
    assert not wrong


def test_asvs_8_guarded_pages_ask_to_log_in_and_api_names_bearer(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    """A refused page shows the log-in form with "please log in"; the API says how to log in."""
    page = client.get("/recommendations")
    api = client.get("/api/v1/me/recommendations")

    assert page.status_code == 401
    assert "Please log in" in page.get_data(as_text=True)
    assert 'name="password"' in page.get_data(as_text=True)
    assert api.status_code == 401
    assert api.headers["WWW-Authenticate"].startswith("Bearer")


# -- no GET changes state ------------------------------------------------------------------------


def test_asvs_no_get_request_changes_state(
    app: Flask, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    """ASVS 3.5.3 (issue 4): GET (and HEAD) every route, anonymous and signed in (cookie and
    Bearer): no row of any table is added, changed or deleted."""
    browser = app.test_client()
    page_signup(browser)
    token = token_cookie(browser)
    assert token
    browser.put(
        f"/api/v1/me/ratings/{catalogue['Radiohead']}",
        json={"rating": 8},
        headers={"X-CSRFToken": csrf_from(browser, "/rate")},
    )
    anonymous = app.test_client()
    gets = [(p, e) for m, p, e in routes(app, catalogue["Muse"]) if m == "GET"]
    assert len(gets) >= 10
    before = snapshot(db_engine)

    for path, endpoint in gets:
        for client, headers in ((anonymous, {}), (browser, {}), (anonymous, bearer(token))):
            for method in ("GET", "HEAD"):
                response = client.open(path, method=method, headers=headers)
                assert response.status_code < 500, (method, path, response.status_code)
                assert snapshot(db_engine) == before, (method, path, endpoint)
    assert sum(len(rows) for rows in before.values()) > 0


# -- CSRF ----------------------------------------------------------------------------------------


def test_asvs_3_5_1_cookie_api_calls_need_a_csrf_token_bearer_calls_do_not(
    app: Flask, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    """ASVS 3.5.1: a cookie-authenticated state change without X-CSRFToken (or with a wrong
    one) is 403 and changes nothing; the same call with a Bearer token needs none."""
    browser = app.test_client()
    username = page_signup(browser)
    path = f"/api/v1/me/ratings/{catalogue['Muse']}"
    before = snapshot(db_engine)

    missing = browser.put(path, json={"rating": 7})
    wrong = browser.put(path, json={"rating": 7}, headers={"X-CSRFToken": "not-the-token"})

    assert missing.status_code == wrong.status_code == 403
    assert missing.get_json()["error"]["code"] == "csrf_failed"
    assert snapshot(db_engine) == before
    good = browser.put(
        path, json={"rating": 7}, headers={"X-CSRFToken": csrf_from(browser, "/rate")}
    )
    assert good.status_code == 201
    token = (
        app.test_client()
        .post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        .get_json()["token"]
    )
    by_bearer = app.test_client().put(path, json={"rating": 4}, headers=bearer(token))
    assert by_bearer.status_code == 200


def test_asvs_3_5_1_every_cookie_authenticated_api_change_needs_csrf(
    app: Flask, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    """ASVS 3.5.1: every non-GET API route refuses a cookie-authenticated call without CSRF."""
    browser = app.test_client()
    page_signup(browser)
    browser.put(
        f"/api/v1/me/ratings/{catalogue['Muse']}",
        json={"rating": 7},
        headers={"X-CSRFToken": csrf_from(browser, "/rate")},
    )
    before = snapshot(db_engine)
    changes = [
        (m, p)
        for m, p, _e in routes(app, catalogue["Muse"])
        if p.startswith("/api/") and m != "GET"
    ]
    assert len(changes) >= 5

    # Log-in and sign-up authenticate from their JSON body, not the cookie: a cross-site page
    # cannot send them (JSON needs a preflight; a form post is refused before anything is read).
    credentials = {("POST", "/api/v1/auth/token"), ("POST", "/api/v1/auth/signup")}
    wrong = []
    for method, path in changes:
        if (method, path) in credentials:
            form = browser.post(path, data={"username": "x", "password": "y"})
            if form.status_code != 400 or form.get_json()["error"]["code"] != "invalid_body":
                wrong.append((method, path, form.status_code))
            continue
        response = _send(browser, method, path)
        if response.status_code != 403:
            wrong.append((method, path, response.status_code))
    assert not wrong
    assert snapshot(db_engine) == before
    assert browser.get("/api/v1/me").status_code == 200  # still logged in: logout was refused too


def test_asvs_3_5_1_page_forms_without_a_csrf_token_are_refused(
    app: Flask, db_engine: Engine
) -> None:
    """ASVS 3.5.1: every page form (sign up, log in, log out, change password, delete
    account) refuses a POST without csrf_token or with another session's token."""
    browser = app.test_client()
    username = page_signup(browser)
    someone_else = csrf_from(app.test_client(), "/")
    forms = {
        "/signup": {
            "username": "csrf_victim",
            "email": "csrf_victim@example.com",
            "password": PASSWORD,
            "confirmation": PASSWORD,
        },
        "/login": {"login": username, "password": PASSWORD},
        "/account/password": {"current_password": PASSWORD, "new_password": "hijacked passphrase"},
        "/account/delete": {"password": PASSWORD},
        "/logout": {},
    }
    before = snapshot(db_engine)

    for path, data in forms.items():
        for token in (None, someone_else, ""):
            payload = dict(data) if token is None else {**data, "csrf_token": token}
            response = browser.post(path, data=payload)
            assert response.status_code == 400, (path, token)
            assert response.status_code != 302
    assert snapshot(db_engine) == before
    assert browser.get("/account").status_code == 200  # still logged in, account intact
    anonymous = app.test_client().post("/login", data=forms["/login"])
    assert anonymous.status_code == 400 and not token_cookie(app.test_client())


# -- open redirects ------------------------------------------------------------------------------

OFFSITE = [
    "//evil.example",
    "//evil.example/path",
    "https://evil.example",
    "http://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/%2Fevil.example",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "///evil.example",
    " //evil.example",
]


@pytest.mark.parametrize("target", OFFSITE)
def test_asvs_3_7_2_login_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    """ASVS 3.7.2 (open redirect): ?next= only ever sends the user to a local path."""
    api_signup(client, "redir")
    browser = client.application.test_client()

    token = csrf_from(browser, "/login")
    response = browser.post(
        "/login",
        query_string={"next": target},
        data={"login": "redir", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location


def test_asvs_3_7_2_login_returns_to_a_local_next_page(client: FlaskClient) -> None:
    """The way back still works for local paths (with a query string)."""
    api_signup(client, "back")

    response = page_login(client, "back", next_path="/ratings%3Fsort%3Dname")

    assert response.status_code == 302
    assert response.headers["Location"] == "/ratings?sort=name"


# -- XSS: output encoding ------------------------------------------------------------------------

PAYLOAD = "<script>alert(1)</script>"


def test_asvs_1_2_1_an_artist_name_with_markup_is_escaped_in_every_page(
    app: Flask, catalogue: dict[str, int]
) -> None:
    """ASVS 1.2.1 (XSS): an artist named <script>alert(1)</script>, added through the API, is
    escaped in the artist page, the ratings page, the rate page and the recommendations page,
    and served as JSON (never HTML) by the API."""
    browser = app.test_client()
    page_signup(browser)
    csrf = {"X-CSRFToken": csrf_from(browser, "/rate")}
    added = browser.post("/api/v1/artists", json={"name": PAYLOAD}, headers=csrf)
    assert added.status_code == 201, added.get_json()
    artist_id = added.get_json()["artist"]["id"]
    assert added.get_json()["artist"]["name"] == PAYLOAD
    assert added.mimetype == "application/json"
    assert (
        browser.put(f"/api/v1/me/ratings/{artist_id}", json={"rating": 9}, headers=csrf).status_code
        == 201
    )
    # Another user who rates the payload and Radiohead makes the payload a recommendation.
    other = app.test_client()
    page_signup(other)
    other_csrf = {"X-CSRFToken": csrf_from(other, "/rate")}
    other.put(
        f"/api/v1/me/ratings/{catalogue['Radiohead']}", json={"rating": 9}, headers=other_csrf
    )
    other.post("/api/v1/me/recommendations?n=25", headers=other_csrf)

    pages = {
        "artist": browser.get(f"/artists/{artist_id}"),
        "ratings": browser.get("/ratings"),
        "rate": browser.get("/rate"),
        "recommendations": other.get("/recommendations"),
        "search": browser.get("/api/v1/artists", query_string={"q": "script alert"}),
    }
    for name, response in pages.items():
        body = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert PAYLOAD not in body or response.mimetype == "application/json", name
        assert "<script>alert" not in body or response.mimetype == "application/json", name
    for name in ("artist", "ratings"):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[name].get_data(as_text=True), name


def test_asvs_1_2_1_next_and_flash_messages_are_escaped(client: FlaskClient) -> None:
    """ASVS 1.2.1: a hostile ?next= is escaped in the log-in form's action."""
    response = client.get("/login", query_string={"next": '/x"><script>alert(1)</script>'})

    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert '"><script>' not in body
