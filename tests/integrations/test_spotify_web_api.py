"""The Spotify Web API client: pagination, 429, retries, refresh after 401 (per-test fakes),
and every request it makes checked against Spotify's contract by Prism."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from musicrec.integrations.http_retries import RetryingHttp, RetryPolicy, UpstreamError
from musicrec.integrations.spotify.web_api import SpotifyApiError, SpotifyWebApi
from tests.integrations.fake_http import FakeSession

API = "https://api.example.test/v1/"


class FixedTokens:
    def __init__(self) -> None:
        self.token, self.refreshes = "first", 0

    def access_token(self) -> str:
        return self.token

    def refreshed_token(self) -> str:
        self.refreshes += 1
        self.token = f"refreshed-{self.refreshes}"
        return self.token


def client(session: FakeSession, **policy: Any) -> tuple[SpotifyWebApi, list[float], FixedTokens]:
    slept: list[float] = []
    http = RetryingHttp(policy=RetryPolicy(**policy), sleep=slept.append, session=session)  # type: ignore[arg-type]
    tokens = FixedTokens()
    return SpotifyWebApi(API, tokens, http), slept, tokens


def artist(n: int) -> dict[str, Any]:
    return {"id": f"a{n}", "name": f"Artist {n}", "images": []}


def test_offset_pagination_is_followed_to_the_total() -> None:
    def page(_method: str, url: str, _kwargs: dict[str, Any]) -> tuple[int, Any]:
        offset = int(parse_qs(urlsplit(url).query).get("offset", ["0"])[0])
        params = _kwargs["params"]
        offset = int(params["offset"])
        items = [artist(n) for n in range(offset, min(offset + 50, 120))]
        following = "more" if offset + 50 < 120 else None
        return 200, {"items": items, "total": 120, "next": following, "offset": offset}

    session = FakeSession({"GET /v1/me/top/artists": page})
    api, _, _ = client(session)

    found = api.top_artists("long_term")

    assert [a.id for a in found] == [f"a{n}" for n in range(120)]
    assert [call[2]["params"]["offset"] for call in session.sent] == [0, 50, 100]
    assert all(call[2]["params"]["limit"] == 50 for call in session.sent)


def test_cursor_pagination_follows_after_and_stops_on_a_repeated_cursor() -> None:
    pages = [
        (200, {"artists": {"items": [artist(1)], "next": "n", "cursors": {"after": "c1"}}}),
        (200, {"artists": {"items": [artist(2)], "next": "n", "cursors": {"after": "c2"}}}),
        (200, {"artists": {"items": [artist(3)], "next": "n", "cursors": {"after": "c2"}}}),
        (200, {"artists": {"items": [artist(4)], "next": None, "cursors": {"after": None}}}),
    ]
    session = FakeSession({"GET /v1/me/following": pages})
    api, _, _ = client(session)

    found = api.followed_artists()

    assert [a.id for a in found] == ["a1", "a2", "a3"]  # c2 came back: a loop, stopped
    assert [call[2]["params"].get("after") for call in session.sent] == [None, "c1", "c2"]


def test_a_429_waits_the_retry_after_it_was_given() -> None:
    session = FakeSession(
        {"GET /v1/me": [(429, None, {"Retry-After": "3"}), (200, {"id": "u", "display_name": "U"})]}
    )
    api, slept, _ = client(session)

    assert api.current_user()["id"] == "u"
    assert slept == [3.0]


def test_a_retry_after_beyond_the_cap_gives_up_at_once() -> None:
    session = FakeSession({"GET /v1/me": [(429, None, {"Retry-After": "7200"})]})
    api, slept, _ = client(session, max_wait=30)

    with pytest.raises(UpstreamError, match="rate limited") as raised:
        api.current_user()

    assert raised.value.status == 429
    assert slept == []  # never waits two hours


def test_5xx_and_timeouts_are_retried_with_backoff_a_bounded_number_of_times() -> None:
    session = FakeSession(
        {"GET /v1/me": [(502, None), requests.Timeout("slow"), (200, {"id": "u"})]}  # type: ignore[list-item]
    )
    api, slept, _ = client(session, attempts=3, backoff=0.5)
    assert api.current_user()["id"] == "u"
    assert slept == [0.5, 1.0]

    failing = FakeSession({"GET /v1/me": [(503, None)] * 5})
    api, slept, _ = client(failing, attempts=3, backoff=0.5)
    with pytest.raises(UpstreamError, match="503"):
        api.current_user()
    assert len(failing.sent) == 3


def test_a_401_refreshes_the_token_once_and_retries() -> None:
    session = FakeSession({"GET /v1/me": [(401, None), (200, {"id": "u"})]})
    api, _, tokens = client(session)

    assert api.current_user()["id"] == "u"
    assert tokens.refreshes == 1
    assert [call[2]["headers"]["Authorization"] for call in session.sent] == [
        "Bearer first",
        "Bearer refreshed-1",
    ]

    refused = FakeSession({"GET /v1/me": [(401, None), (401, None)]})
    api, _, tokens = client(refused)
    with pytest.raises(SpotifyApiError):
        api.current_user()
    assert tokens.refreshes == 1  # once, not in a loop


def test_playlist_items_go_in_requests_of_at_most_100_as_an_object() -> None:
    session = FakeSession({"POST /v1/playlists/p1/items": lambda *_: (201, {"snapshot_id": "s"})})
    api, _, _ = client(session)

    calls = api.add_to_playlist("p1", [f"spotify:track:{n}" for n in range(250)])

    assert calls == 3
    bodies = [call[2]["json"] for call in session.sent]
    assert [len(body["uris"]) for body in bodies] == [100, 100, 50]


def test_search_asks_for_a_track_with_artist_and_track_filters_within_the_limit() -> None:
    track = {
        "id": "t1",
        "uri": "spotify:track:t1",
        "name": "Song",
        "external_urls": {"spotify": "https://open.spotify.com/track/t1"},
        "artists": [artist(1)],
    }
    session = FakeSession({"GET /v1/search": lambda *_: (200, {"tracks": {"items": [track]}})})
    api, _, _ = client(session)

    found = api.search_track('Artist "1"', "Song")

    params = session.sent[0][2]["params"]
    assert params["type"] == "track" and params["limit"] <= 10
    assert 'artist:"Artist  1"' in params["q"] and 'track:"Song"' in params["q"]
    assert found is not None and found.uri == "spotify:track:t1"


def test_an_artists_songs_are_one_search_page_with_the_artist_filter() -> None:
    tracks = [
        {"id": f"t{n}", "uri": f"spotify:track:t{n}", "name": f"Song {n}", "popularity": 10 * n}
        | {"artists": [artist(1)]}
        for n in range(3)
    ]
    session = FakeSession({"GET /v1/search": lambda *_: (200, {"tracks": {"items": tracks}})})
    api, _, _ = client(session)

    found = api.search_artist_tracks('Sigur "Rós"')

    assert len(session.sent) == 1
    params = session.sent[0][2]["params"]
    assert params == {"q": 'artist:"Sigur  Rós"', "type": "track", "limit": 10}
    assert [(t.uri, t.popularity, t.artists[0].id) for t in found] == [
        ("spotify:track:t0", 0, "a1"),
        ("spotify:track:t1", 10, "a1"),
        ("spotify:track:t2", 20, "a1"),
    ]


# --- against the contract (Prism) -------------------------------------------------------


class StaticTokens:
    def access_token(self) -> str:
        return "prism-token"

    def refreshed_token(self) -> str:
        return "prism-token"


def test_every_library_read_keeps_to_the_contract(prism_url: str) -> None:
    api = SpotifyWebApi(prism_url, StaticTokens(), max_pages=5)

    for time_range in ("short_term", "medium_term", "long_term"):
        api.top_artists(time_range)
    api.followed_artists()
    api.saved_tracks()
    api.recently_played()
    assert isinstance(api.current_user(), dict)


def test_search_and_playlist_calls_keep_to_the_contract(prism_url: str) -> None:
    api = SpotifyWebApi(prism_url, StaticTokens())

    api.search_track("Radiohead", "Creep")
    found = api.search_artist_tracks("Radiohead")
    assert found and all(track.uri and track.artists for track in found)
    playlist = api.create_playlist("musicrec test", "a test")
    assert playlist.id
    assert api.add_to_playlist(playlist.id, [f"spotify:track:{n:022d}" for n in range(150)]) == 2


def test_prism_refuses_a_request_that_breaks_the_contract(prism_url: str) -> None:
    api = SpotifyWebApi(prism_url, StaticTokens())

    with pytest.raises(SpotifyApiError) as refused:
        api.call("GET", "search", {"q": "x", "type": "track", "limit": 50})

    assert refused.value.status == 422
