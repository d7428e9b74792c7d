"""Spotify through the pages and the API: connecting through the accounts stand-in (declined,
state mismatch), the connection's API, the import as a job and the playlist against Prism,
top songs from the Last.fm stand-in, and everything hidden without client credentials."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update

from musicrec import create_app
from musicrec.config import Settings
from musicrec.db.models import Rating, SpotifyLink
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.services.job_running import run_job
from tests.spotify_fixtures import (
    AccountsStandIn,
    LastfmStandIn,
    spotify_on,
)
from tests.web.conftest import api_signup, bearer, csrf_from, page_signup


@pytest.fixture
def app_settings(
    settings: Settings,
    accounts_standin: AccountsStandIn,
    lastfm_standin: LastfmStandIn,
    prism_url: str,
) -> Settings:
    return replace(
        settings,
        rate_limits="off",
        spotify=spotify_on(accounts_standin.url, prism_url),
        lastfm_api_key="test-key",
        lastfm_api_url=lastfm_standin.url,
    )


def start_connecting(client: FlaskClient):  # type: ignore[no-untyped-def]
    """The account page's Connect Spotify button: a POST with the page's CSRF token."""
    return client.post("/spotify/connect", data={"csrf_token": csrf_from(client, "/account")})


def connect(client: FlaskClient) -> requests.Response:
    """Follow /spotify/connect through the stand-in's consent page back to the callback."""
    start = start_connecting(client)
    assert start.status_code == 302
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


def test_connecting_shows_the_account_on_the_account_page(client: FlaskClient) -> None:
    page_signup(client)
    start = start_connecting(client)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"]

    done = connect(client)

    assert done.status_code == 302 and done.headers["Location"].endswith("/account")
    page = client.get("/account").get_data(as_text=True)
    assert 'id="spotify-disconnect"' in page and "Connected as" in page
    assert client.get("/api/v1/me/spotify").get_json()["connected"] is True


def test_declining_shows_a_clear_page(client: FlaskClient, accounts_standin) -> None:  # type: ignore[no-untyped-def]
    page_signup(client)
    accounts_standin.decline = True

    answer = connect(client)

    assert answer.status_code == 200
    assert "You declined to connect" in answer.get_data(as_text=True)
    assert client.get("/api/v1/me/spotify").get_json() == {"connected": False}


def test_a_mismatched_state_is_refused(client: FlaskClient) -> None:
    page_signup(client)
    start = start_connecting(client)
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]

    answer = client.get(f"/spotify/callback?code={code}&state=forged")

    assert answer.status_code == 400
    assert client.get("/api/v1/me/spotify").get_json() == {"connected": False}


def test_the_api_answers_409_until_connected_and_204_on_disconnect(client: FlaskClient) -> None:
    _user, token = api_signup(client)

    assert client.get("/api/v1/me/spotify", headers=bearer(token)).get_json() == {
        "connected": False
    }
    for path in ("/api/v1/me/spotify/import", "/api/v1/me/spotify/playlist"):
        refused = client.post(path, headers=bearer(token))
        assert refused.status_code == 409, refused.get_json()
    assert client.delete("/api/v1/me/spotify", headers=bearer(token)).status_code == 204


def test_import_job_playlist_and_disconnect(
    client: FlaskClient, app: Flask, app_settings: Settings, db_engine: Engine, catalogue
) -> None:  # type: ignore[no-untyped-def]
    page_signup(client)
    connect(client)
    headers = {"X-CSRFToken": csrf_from(client, "/account")}

    queued = client.post("/api/v1/me/spotify/import", headers=headers)
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()["job"]
    assert job["kind"] == "import" and job["state"] == "queued"
    assert run_job(db_engine, app_settings, job["id"]) == "done"
    done = client.get(f"/api/v1/me/jobs/{job['id']}").get_json()["job"]
    assert set(done["result"]) >= {"added", "rated", "kept_manual", "skipped", "requests"}
    assert done["result"]["rated"] >= 1 and done["result"]["requests"] >= 7
    assert "ratings imported" in client.get("/account").get_data(as_text=True)
    with transaction(db_engine) as session:
        sources = set(session.execute(select(Rating.source)).scalars())
    assert "spotify" in sources
    mine = client.get("/api/v1/me/ratings").get_json()["ratings"]
    assert mine and all(row["source"] == "spotify" for row in mine)

    recs = client.post("/api/v1/me/recommendations?n=3", headers=headers)
    assert recs.status_code == 201
    first = recs.get_json()["recommendations"][0]["artist"]["id"]
    songs = client.get(f"/api/v1/artists/{first}/top-songs").get_json()["songs"]
    assert songs and songs[0]["spotify_uri"]  # matched through search (Prism)

    saved = client.post("/api/v1/me/spotify/playlist", headers=headers)
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["playlist"]["tracks"] >= 1

    assert client.delete("/api/v1/me/spotify", headers=headers).status_code == 204
    assert client.get("/api/v1/me/spotify").get_json() == {"connected": False}


def test_without_client_credentials_the_features_are_hidden(
    settings: Settings, db_engine: Engine
) -> None:
    app = create_app(replace(settings, rate_limits="off"))
    app.config["TESTING"] = True
    client = app.test_client()
    page_signup(client)

    assert client.get("/spotify/connect").status_code == 404
    assert client.get("/api/v1/me/spotify").status_code == 404
    assert "Spotify" not in client.get("/account").get_data(as_text=True)
    page = client.get("/recommendations").get_data(as_text=True)
    assert "save-playlist" not in page and "data-top-songs" not in page
    app.extensions["musicrec.engine"].dispose()


def test_a_rejected_refresh_token_disconnects_and_asks_to_connect_again(
    client: FlaskClient, accounts_standin: AccountsStandIn, db_engine: Engine
) -> None:
    page_signup(client)
    connect(client)
    accounts_standin.refresh_tokens.clear()  # revoked on Spotify's side
    with transaction(db_engine) as session:  # the access token has expired
        session.execute(update(SpotifyLink).values(expires_at=utcnow() - timedelta(minutes=5)))
    headers = {"X-CSRFToken": csrf_from(client, "/account")}

    refused = client.post("/api/v1/me/spotify/playlist", headers=headers)

    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "spotify_disconnected"
    assert client.get("/api/v1/me/spotify").get_json() == {"connected": False}
    page = client.get("/account").get_data(as_text=True)
    assert 'id="spotify-lost"' in page and "connect again" in page
    assert 'id="spotify-connect"' in page


def test_a_second_import_waits_for_the_first(client: FlaskClient) -> None:
    page_signup(client)
    connect(client)
    headers = {"X-CSRFToken": csrf_from(client, "/account")}

    assert client.post("/api/v1/me/spotify/import", headers=headers).status_code == 202
    again = client.post("/api/v1/me/spotify/import", headers=headers)

    assert again.status_code == 409 and "already queued" in again.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me/spotify"),
        ("DELETE", "/api/v1/me/spotify"),
        ("POST", "/api/v1/me/spotify/import"),
        ("POST", "/api/v1/me/spotify/playlist"),
        ("GET", "/spotify/connect"),
        ("GET", "/spotify/callback?code=c&state=s"),
    ],
)
def test_with_spotify_configured_its_routes_are_401_when_anonymous(
    app: Flask, method: str, path: str
) -> None:
    assert app.test_client().open(path, method=method).status_code == 401
