"""With Spotify connected and no Last.fm key, top songs and "Save as playlist" work over HTTP
(issue 21, item 9): songs come from Spotify's search, served by Prism from the published
contract, never from the retired artist top-tracks endpoint."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, update

from musicrec.config import Settings
from musicrec.db.models import Artist
from musicrec.names import fold_name
from tests.services.test_top_songs_spotify import contract_track_artist
from tests.spotify_fixtures import AccountsStandIn, LastfmStandIn, spotify_on
from tests.web.conftest import csrf_from, page_signup
from tests.web.test_spotify import connect


@pytest.fixture
def app_settings(settings: Settings, accounts_standin: AccountsStandIn, prism_url: str) -> Settings:
    """Spotify configured (accounts stand-in, Prism); no Last.fm key."""
    return replace(settings, rate_limits="off", spotify=spotify_on(accounts_standin.url, prism_url))


def test_top_songs_and_the_playlist_need_no_lastfm_key(
    client: FlaskClient,
    app_settings: Settings,
    catalogue: dict[str, int],
    db_engine: Engine,
    prism_url: str,
    lastfm_standin: LastfmStandIn,
) -> None:
    assert not app_settings.lastfm_api_key
    page_signup(client)
    connect(client)
    headers = {"X-CSRFToken": csrf_from(client, "/account")}
    rated = client.put(
        f"/api/v1/me/ratings/{catalogue['Radiohead']}", json={"rating": 9}, headers=headers
    )
    assert rated.status_code in (200, 201), rated.get_json()
    made = client.post("/api/v1/me/recommendations?n=3", headers=headers)
    assert made.status_code == 201, made.get_json()
    first = made.get_json()["recommendations"][0]["artist"]["id"]
    # Not linked to Spotify (no import ever saw it), and named as Spotify credits the tracks
    # of the contract's search example: found by its name.
    credited = contract_track_artist(prism_url).name
    with db_engine.begin() as connection:
        connection.execute(
            update(Artist)
            .where(Artist.id == first)
            .values(name=credited, name_key=fold_name(credited), spotify_id=None)
        )

    songs = client.get(f"/api/v1/artists/{first}/top-songs")
    saved = client.post("/api/v1/me/spotify/playlist", headers=headers)

    assert songs.status_code == 200, songs.get_json()
    found = songs.get_json()["songs"]
    assert found and all(song["spotify_uri"] for song in found)
    assert saved.status_code == 201, saved.get_json()
    assert saved.get_json()["playlist"]["tracks"] >= 1
    assert lastfm_standin.requests == []
