"""Security headers and cookie attributes, checked against OWASP ASVS 5.0 chapter 3 (3.3, 3.4)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from musicrec.config import Settings
from tests.web.conftest import api_signup, bearer, page_login, page_signup
from tests.web.test_security_support import built_app, post_form, routes, token_cookie

PUBLIC_URL = "https://music.example.org"  # production refuses to start without one

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|<[^>]+\sstyle\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def _csp(response: TestResponse) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def _every_response(app: Flask, artist_id: int) -> Iterator[tuple[str, TestResponse]]:
    """GET every route anonymous and signed in, plus the error pages (401, 404, 405, 500)."""
    signed_in = app.test_client()
    page_signup(signed_in)
    anonymous = app.test_client()
    for method, path, _endpoint in routes(app, artist_id):
        if method != "GET":
            continue
        yield f"anonymous {path}", anonymous.get(path)
        yield f"signed-in {path}", signed_in.get(path)
    yield "404 page", anonymous.get("/no-such-page")
    yield "404 api", anonymous.get("/api/v1/no-such-thing")
    yield "405", anonymous.delete("/")
    yield "400 csrf", anonymous.post("/login", data={"login": "x", "password": "y"})
    yield "401 api", anonymous.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    yield "400 api", anonymous.post("/api/v1/auth/token", json={"nope": 1})


def _assert_security_headers(label: str, response: TestResponse, hsts: bool) -> None:
    headers = response.headers
    csp = _csp(response)
    assert csp, f"{label}: no Content-Security-Policy"
    assert csp.get("frame-ancestors") in (["'none'"], ["'self'"]), label
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src and "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "*" not in script_src and "data:" not in script_src, label
    assert csp.get("object-src") == ["'none'"], label
    assert csp.get("default-src") == ["'self'"], label
    assert "base-uri" in csp, label
    assert headers.get("X-Content-Type-Options") == "nosniff", label
    assert headers.get("Referrer-Policy") in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ), label
    if hsts:
        value = headers.get("Strict-Transport-Security", "")
        max_age = re.search(r"max-age=(\d+)", value)
        assert max_age and int(max_age.group(1)) >= 31536000, label
    else:
        assert "Strict-Transport-Security" not in headers, label


def test_asvs_3_4_security_headers_on_every_response_in_development(
    app: Flask, catalogue: dict[str, int]
) -> None:
    """ASVS 3.4.3-3.4.6: CSP with frame-ancestors and no inline script, nosniff and a
    Referrer-Policy on every response; no HSTS in development (plain http on localhost)."""
    seen = 0
    for label, response in _every_response(app, catalogue["Muse"]):
        _assert_security_headers(label, response, hsts=False)
        seen += 1
    assert seen >= 20


def test_asvs_3_4_1_hsts_and_headers_on_every_response_in_production(
    app_settings: Settings, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    """ASVS 3.4.1: outside development every response carries HSTS (a year or more) as well
    as the other headers."""
    with built_app(app_settings, env="production", public_url=PUBLIC_URL) as app:
        for label, response in _every_response(app, catalogue["Muse"]):
            _assert_security_headers(label, response, hsts=True)


def test_asvs_3_4_3_pages_need_no_inline_script_or_style(
    app: Flask, catalogue: dict[str, int]
) -> None:
    """ASVS 3.4.3: the strict CSP breaks nothing: no page has an inline script, an event
    handler attribute, a style attribute or element, or a javascript: URL."""
    offending = []
    for label, response in _every_response(app, catalogue["Muse"]):
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, INLINE_STYLE, JAVASCRIPT_URL):
            found = pattern.search(page)
            if found:
                offending.append((label, found.group(0)))
    assert not offending


def test_asvs_3_4_personal_responses_are_not_cached(app: Flask, catalogue: dict[str, int]) -> None:
    """ASVS 14.3.2: pages and API answers carrying personal data say Cache-Control: no-store."""
    browser = app.test_client()
    page_signup(browser)
    _user, token = api_signup(app.test_client())
    responses = [browser.get(p) for p in ("/", "/rate", "/ratings", "/recommendations", "/account")]
    responses += [
        app.test_client().get(p, headers=bearer(token))
        for p in ("/api/v1/me", "/api/v1/me/ratings", "/api/v1/me/recommendations")
    ]
    for response in responses:
        assert response.status_code == 200
        assert "no-store" in response.headers.get("Cache-Control", ""), response.request.path


# -- cookies -------------------------------------------------------------------------------------


def _cookies(response: TestResponse) -> dict[str, set[str]]:
    """name -> lower-cased attributes, for every cookie the response sets to a value."""
    found: dict[str, set[str]] = {}
    for header in response.headers.getlist("Set-Cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = first.partition("=")
        if value.strip('"'):
            found[name] = {attribute.lower() for attribute in attributes}
    return found


def _collect_cookies(app: Flask) -> dict[str, set[str]]:
    """Every cookie the app sets on sign-up and log-in (page form and browser API use)."""
    browser = app.test_client()
    seen: dict[str, set[str]] = {}
    seen.update(_cookies(browser.get("/signup")))
    username = page_signup(browser)
    post_form(browser, "/logout", {}, page="/")
    response = page_login(browser, username)
    seen.update(_cookies(response))
    assert token_cookie(browser)
    return seen


def _assert_cookie_flags(cookies: dict[str, set[str]], secure: bool) -> None:
    assert "musicrec_token" in cookies
    for name, attributes in cookies.items():
        assert "httponly" in attributes, name
        assert "samesite=lax" in attributes or "samesite=strict" in attributes, name
        assert ("secure" in attributes) is secure, name
        assert "path=/" in attributes, name
        assert not any(a.startswith("domain=") for a in attributes), name  # host-only


def test_asvs_3_3_cookies_are_httponly_and_samesite_lax_in_development(app: Flask) -> None:
    """ASVS 3.3.2/3.3.4: the session cookie (and Flask's CSRF session cookie) are HttpOnly
    and SameSite=Lax; not Secure in development (plain http on localhost)."""
    _assert_cookie_flags(_collect_cookies(app), secure=False)


@pytest.mark.parametrize("env", ["production", "staging"])
def test_asvs_3_3_1_cookies_are_secure_outside_development(
    app_settings: Settings, db_engine: Engine, env: str
) -> None:
    """ASVS 3.3.1: outside development every cookie is Secure as well."""
    with built_app(app_settings, env=env, public_url=PUBLIC_URL) as app:
        cookies = _collect_cookies(app)
    _assert_cookie_flags(cookies, secure=True)


def test_asvs_3_3_the_session_token_never_travels_in_a_url_or_body(
    app: Flask, client: FlaskClient
) -> None:
    """ASVS 7.2.x / 3.3: the page flow never puts the session token in a URL or a page."""
    browser = app.test_client()
    username = page_signup(browser)
    response = page_login(browser, username, next_path="/ratings")
    token = token_cookie(browser)
    assert token

    assert token not in response.headers.get("Location", "")
    for path in ("/", "/rate", "/ratings", "/recommendations", "/account"):
        assert token not in browser.get(path).get_data(as_text=True), path
