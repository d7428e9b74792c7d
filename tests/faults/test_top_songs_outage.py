"""Top songs while Last.fm is down (issue 19): the songs cached last are shown, however old,
and kept for when it answers again; an outage never empties the cache."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, insert, update

from musicrec.config import Settings
from musicrec.db.models import Artist, TopSong
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp, RetryPolicy
from musicrec.integrations.lastfm_tracks import LastfmTopTracks
from musicrec.services.top_songs import CACHE_FOR, top_songs
from tests.spotify_fixtures import LastfmStandIn

pytestmark = [pytest.mark.fault]


def _closed_port_url() -> str:
    """A loopback URL nothing listens on: every request is refused, as in an outage."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/2.0/"


def test_an_outage_keeps_and_shows_the_stale_songs(
    db_engine: Engine, settings: Settings, lastfm_standin: LastfmStandIn
) -> None:
    settings = replace(settings, lastfm_api_key="key", lastfm_api_url=lastfm_standin.url)
    no_retries = RetryingHttp(policy=RetryPolicy(attempts=1), sleep=lambda _s: None)
    with db_engine.begin() as connection:
        artist = connection.execute(
            insert(Artist).values(name="Portishead", name_key="portishead").returning(Artist.id)
        ).scalar_one()
    fresh = top_songs(
        db_engine, settings, artist, None, LastfmTopTracks(settings.lastfm_api_url, "key")
    )
    with db_engine.begin() as connection:  # a week and a day later: stale
        connection.execute(
            update(TopSong).values(fetched_at=utcnow() - CACHE_FOR - timedelta(days=1))
        )

    down = LastfmTopTracks(_closed_port_url(), "key", no_retries)
    during_outage = top_songs(db_engine, settings, artist, None, down)
    after_outage = top_songs(db_engine, settings, artist, None, down)

    assert fresh and [song.title for song in fresh][0] == "Portishead song 1"
    assert during_outage == fresh
    assert after_outage == fresh  # still cached: the outage emptied nothing
