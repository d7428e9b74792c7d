"""Last.fm's artist.getTopTracks client against the stand-in, and its pace."""

from __future__ import annotations

import time

from musicrec.integrations.lastfm_tracks import LastfmTopTracks
from tests.spotify_fixtures import LastfmStandIn


def test_top_tracks_are_read_with_the_key(lastfm_standin: LastfmStandIn) -> None:
    client = LastfmTopTracks(lastfm_standin.url, "key", min_interval=0)

    found = client.top_tracks("Radiohead", 3)

    assert [track.name for track in found] == [f"Radiohead song {n}" for n in (1, 2, 3)]
    assert lastfm_standin.requests[0]["api_key"] == "key"


def test_an_unknown_artist_has_no_songs(lastfm_standin: LastfmStandIn) -> None:
    assert LastfmTopTracks(lastfm_standin.url, "key", min_interval=0).top_tracks("Nobody") == []


def test_requests_are_spaced_to_at_most_5_a_second(lastfm_standin: LastfmStandIn) -> None:
    client = LastfmTopTracks(lastfm_standin.url, "key")
    start = time.monotonic()

    for _ in range(6):
        client.top_tracks("Air", 1)

    assert time.monotonic() - start >= 5 * 0.2 - 0.01
