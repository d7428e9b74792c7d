"""Connecting Spotify changes the account, so it is a POST with the page's CSRF token (issue 18,
defect 12): a link or redirect from any other site (a GET, with the SameSite=Lax cookie sent)
used to start the authorisation and, as Spotify remembers its consent, silently re-connect a
user who had disconnected."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask.testing import FlaskClient

from musicrec.config import Settings
from tests.spotify_fixtures import AccountsStandIn, spotify_on
from tests.web.conftest import csrf_from, page_signup


@pytest.fixture
def app_settings(settings: Settings, accounts_standin: AccountsStandIn, prism_url: str) -> Settings:
    return replace(
        settings,
        rate_limits="off",
        spotify=spotify_on(accounts_standin.url, prism_url),
    )


def _connected(client: FlaskClient) -> bool:
    return bool(client.get("/api/v1/me/spotify").get_json()["connected"])


def _follow_to_the_callback(client: FlaskClient, start: str) -> int:
    """Through the stand-in's consent (already given) back to our callback; its status."""
    consent = requests.get(start, allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    return client.get(f"{back.path}?{back.query}").status_code


def test_the_account_page_connects_with_a_form_that_posts_the_token(client: FlaskClient) -> None:
    page_signup(client)

    page = client.get("/account").get_data(as_text=True)
    form = page[page.index('action="/spotify/connect"') - 40 : page.index('id="spotify-connect"')]
    assert 'method="post"' in form and 'name="csrf_token"' in form

    start = client.post("/spotify/connect", data={"csrf_token": csrf_from(client, "/account")})

    assert start.status_code == 302
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"]
    assert _follow_to_the_callback(client, start.headers["Location"]) == 302
    assert _connected(client)


def test_a_get_never_starts_the_authorisation(client: FlaskClient) -> None:
    """What another site's link or redirect does: the page offers the button, nothing more."""
    page_signup(client)
    token = csrf_from(client, "/account")
    start = client.post("/spotify/connect", data={"csrf_token": token})
    _follow_to_the_callback(client, start.headers["Location"])  # consent given once
    assert _connected(client)
    client.post("/spotify/disconnect", data={"csrf_token": token})

    answer = client.get("/spotify/connect")

    assert answer.status_code == 200 and "Location" not in answer.headers
    assert 'id="spotify-connect"' in answer.get_data(as_text=True)
    assert not _connected(client)


def test_a_post_without_the_token_is_refused(client: FlaskClient) -> None:
    page_signup(client)

    forged = client.post("/spotify/connect")
    assert forged.status_code == 400 and "Location" not in forged.headers
    wrong = client.post("/spotify/connect", data={"csrf_token": "forged"})
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    assert not _connected(client)


def test_an_anonymous_post_is_asked_to_sign_in(client: FlaskClient) -> None:
    token = csrf_from(client, "/login")

    answer = client.post("/spotify/connect", data={"csrf_token": token})

    assert answer.status_code in (302, 401)
    assert "accounts" not in answer.headers.get("Location", "")


def test_the_pages_with_the_form_let_it_reach_the_accounts_service_only(
    client: FlaskClient, accounts_standin: AccountsStandIn
) -> None:
    """Browsers hold the form's redirect to Spotify to the page's CSP form-action."""
    page_signup(client)
    origin = accounts_standin.url.rstrip("/")

    for path in ("/account", "/spotify/connect"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert f"form-action 'self' {origin};" in policy, path
    assert "form-action 'self';" in client.get("/ratings").headers["Content-Security-Policy"]
