"""Last.fm's ``artist.getTopTracks``: the names of an artist's most played songs.

Last.fm asks clients to stay under about 5 requests a second: calls are spaced at least
``min_interval`` apart, across every client and thread of the process (each web worker process
keeps its own pace).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from musicrec.integrations.http_retries import RetryingHttp, UpstreamError

MIN_INTERVAL = 0.2  # seconds between requests: at most 5 a second


@dataclass(frozen=True)
class LastfmTrack:
    name: str
    url: str | None


class _Pace:
    """Spaces calls at least ``interval`` apart, whichever thread makes them."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last = float("-inf")

    def wait_turn(self) -> None:
        with self._lock:
            wait = self._last + self.interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self._last = time.monotonic()


# One pace per API URL and interval in this process: every client (one per request) shares it.
_paces: dict[tuple[str, float], _Pace] = {}
_paces_lock = threading.Lock()


def _pace_for(api_url: str, interval: float) -> _Pace:
    with _paces_lock:
        return _paces.setdefault((api_url, interval), _Pace(interval))


class LastfmTopTracks:
    """A thin client of Last.fm's API for one method; clients of one API URL in one process
    share their pace."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        http: RetryingHttp | None = None,
        min_interval: float = MIN_INTERVAL,
    ) -> None:
        self.api_url, self.api_key = api_url, api_key
        self.http = http or RetryingHttp()
        self._pace = _pace_for(api_url, min_interval)

    def top_tracks(self, artist: str, limit: int = 5) -> list[LastfmTrack]:
        """The artist's top songs, most played first; [] for an artist Last.fm does not know."""
        self._pace.wait_turn()
        response = self.http.send(
            "GET",
            self.api_url,
            params={
                "method": "artist.gettoptracks",
                "artist": artist,
                "autocorrect": 1,
                "limit": limit,
                "api_key": self.api_key,
                "format": "json",
            },
        )
        try:
            payload = response.json()
        except ValueError as error:
            raise UpstreamError("Last.fm answered something other than JSON") from error
        if not isinstance(payload, dict):
            raise UpstreamError("Last.fm answered an unexpected document")
        if "error" in payload:
            if payload.get("error") == 6:  # "The artist you supplied could not be found"
                return []
            raise UpstreamError(f"Last.fm error {payload.get('error')}: {payload.get('message')}")
        tracks = (payload.get("toptracks") or {}).get("track") or []
        if isinstance(tracks, dict):  # a single track comes as an object
            tracks = [tracks]
        found = []
        for track in tracks[:limit]:
            if isinstance(track, dict) and isinstance(track.get("name"), str) and track["name"]:
                url = track.get("url")
                found.append(LastfmTrack(track["name"], url if isinstance(url, str) else None))
        return found
