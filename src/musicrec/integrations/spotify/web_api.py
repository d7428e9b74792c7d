"""A thin client of the Spotify Web API, as its 2026 contract stands.

Only current endpoints, those a new app may call: ``POST /me/playlists`` creates a playlist,
``POST /playlists/{id}/items`` adds at most 100 ``{"uris": [...]}`` a request, search pages
hold at most 10; an artist's songs come from search (``GET /artists/{id}/top-tracks`` is
deprecated and refused to new apps). Both kinds of
pagination (offset and cursor) are followed to the end, bounded by ``max_pages`` and by a cursor
that repeats. The access token comes from a ``TokenSource``: refreshed before it expires, and
once more after a 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urljoin

from musicrec.integrations.http_retries import RetryingHttp, UpstreamError

PAGE_SIZE = 50  # the most Spotify gives per page of artists and tracks
SEARCH_LIMIT = 10  # the most a search page may ask for since March 2026
PLAYLIST_CHUNK = 100  # the most tracks one request may add to a playlist
MAX_PAGES = 200
PREFERRED_IMAGE_WIDTH = 160
TIME_RANGES = ("short_term", "medium_term", "long_term")


class TokenSource(Protocol):
    """Access tokens for one user's calls."""

    def access_token(self) -> str:
        """A token that is valid now (refreshed first when it is about to expire)."""
        ...

    def refreshed_token(self) -> str:
        """A new token, after the API refused the current one (401)."""
        ...


class SpotifyApiError(UpstreamError):
    """The Web API refused a request (4xx other than a handled 401 or 429)."""


@dataclass(frozen=True)
class SpotifyArtist:
    id: str
    name: str
    image_url: str | None = None


@dataclass(frozen=True)
class SpotifyTrack:
    id: str
    uri: str
    name: str
    url: str | None
    artists: tuple[SpotifyArtist, ...]
    popularity: int = 0  # Spotify's 0..100, from recent plays


@dataclass(frozen=True)
class SpotifyPlaylist:
    id: str
    url: str | None


class SpotifyWebApi:
    """One user's view of the Web API at ``api_url`` (``https://api.spotify.com/v1/``)."""

    def __init__(
        self,
        api_url: str,
        tokens: TokenSource,
        http: RetryingHttp | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.base = api_url if api_url.endswith("/") else api_url + "/"
        self.tokens = tokens
        self.http = http or RetryingHttp()
        self.max_pages = max_pages

    @property
    def requests(self) -> int:
        return self.http.sent

    def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        """The JSON answer of ``method path`` (None for an empty answer)."""
        url = urljoin(self.base, path)
        response = self._send(method, url, self.tokens.access_token(), params, body)
        if response.status_code == 401:
            response = self._send(method, url, self.tokens.refreshed_token(), params, body)
        if response.status_code >= 400:
            raise SpotifyApiError(
                f"Spotify refused {method} /{path}: {response.status_code} {_message(response)}",
                response.status_code,
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as error:
            raise UpstreamError(f"Spotify answered {method} /{path} with no JSON") from error

    def _send(
        self, method: str, url: str, token: str, params: dict[str, Any] | None, body: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return self.http.send(method, url, params=params, json=body, headers=headers)

    # --- reading the library -------------------------------------------------------------

    def current_user(self) -> dict[str, Any]:
        answer = self.call("GET", "me")
        return answer if isinstance(answer, dict) else {}

    def top_artists(self, time_range: str) -> list[SpotifyArtist]:
        """The user's top artists over ``time_range``, best first."""
        items = self._offset_items("me/top/artists", {"time_range": time_range})
        return [artist for item in items if (artist := _artist(item)) is not None]

    def followed_artists(self) -> list[SpotifyArtist]:
        items = self._cursor_items("me/following", {"type": "artist"}, "after", key="artists")
        return [artist for item in items if (artist := _artist(item)) is not None]

    def saved_tracks(self) -> list[SpotifyTrack]:
        items = self._offset_items("me/tracks", {})
        return [track for item in items if (track := _track(item.get("track"))) is not None]

    def recently_played(self) -> list[SpotifyTrack]:
        items = self._cursor_items("me/player/recently-played", {}, "before", numeric=True)
        return [track for item in items if (track := _track(item.get("track"))) is not None]

    # --- songs ---------------------------------------------------------------------------

    def search_track(self, artist: str, title: str) -> SpotifyTrack | None:
        """The best match of a song by name, with the ``artist:`` and ``track:`` filters."""
        query = f'track:"{_quoted(title)}" artist:"{_quoted(artist)}"'
        answer = self.call("GET", "search", {"q": query, "type": "track", "limit": 1})
        items = ((answer or {}).get("tracks") or {}).get("items") or []
        return next((track for item in items if (track := _track(item)) is not None), None)

    def search_artist_tracks(self, artist: str) -> list[SpotifyTrack]:
        """One search page (the most allowed) of tracks with the ``artist:`` filter, in
        Spotify's order: tracks of other artists of a like name may be among them."""
        query = f'artist:"{_quoted(artist)}"'
        answer = self.call("GET", "search", {"q": query, "type": "track", "limit": SEARCH_LIMIT})
        items = ((answer or {}).get("tracks") or {}).get("items") or []
        return [track for item in items if (track := _track(item)) is not None]

    # --- playlists -----------------------------------------------------------------------

    def create_playlist(self, name: str, description: str) -> SpotifyPlaylist:
        """A new private playlist of the current user."""
        answer = self.call(
            "POST", "me/playlists", body={"name": name, "public": False, "description": description}
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            raise UpstreamError("Spotify created a playlist but did not say which")
        url = (answer.get("external_urls") or {}).get("spotify")
        return SpotifyPlaylist(id=answer["id"], url=url if isinstance(url, str) else None)

    def add_to_playlist(self, playlist_id: str, uris: list[str]) -> int:
        """Add the tracks in requests of at most 100; returns how many requests it took."""
        path = f"playlists/{quote(playlist_id, safe='')}/items"
        calls = 0
        for start in range(0, len(uris), PLAYLIST_CHUNK):
            self.call("POST", path, body={"uris": uris[start : start + PLAYLIST_CHUNK]})
            calls += 1
        return calls

    # --- pagination ----------------------------------------------------------------------

    def _offset_items(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Items of an offset-paginated list: ``offset`` moves on until ``total`` or no ``next``."""
        offset = 0
        for _ in range(self.max_pages):
            page = self.call("GET", path, {**params, "limit": PAGE_SIZE, "offset": offset}) or {}
            items = [item for item in page.get("items") or [] if isinstance(item, dict)]
            yield from items
            offset += len(items)
            total = page.get("total")
            if not items or not page.get("next"):
                return
            if isinstance(total, int) and offset >= total:
                return

    def _cursor_items(
        self,
        path: str,
        params: dict[str, Any],
        cursor: str,
        key: str | None = None,
        numeric: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Items of a cursor-paginated list: the page's ``cursors[cursor]`` asks for the next
        page, until there is no ``next`` (or a cursor comes back twice, or, where the contract
        wants a timestamp, ``numeric``, one that is not)."""
        position: str | None = None
        seen: set[str] = set()
        for _ in range(self.max_pages):
            query = {**params, "limit": PAGE_SIZE}
            if position is not None:
                query[cursor] = position
            page = self.call("GET", path, query) or {}
            if key is not None:
                page = page.get(key) or {}
            items = [item for item in page.get("items") or [] if isinstance(item, dict)]
            yield from items
            following = (page.get("cursors") or {}).get(cursor)
            if not items or not page.get("next") or following is None:
                return
            position = str(following)
            if position in seen or (numeric and not position.isdigit()):
                return
            seen.add(position)


def _artist(item: Any) -> SpotifyArtist | None:
    if not isinstance(item, dict):
        return None
    artist_id, name = item.get("id"), item.get("name")
    if not isinstance(artist_id, str) or not isinstance(name, str) or not name.strip():
        return None
    return SpotifyArtist(id=artist_id, name=name.strip(), image_url=_image(item.get("images")))


def _image(images: Any) -> str | None:
    """The smallest picture at least ``PREFERRED_IMAGE_WIDTH`` wide (Spotify lists the widest
    first), else the first one."""
    usable = [
        image
        for image in images or []
        if isinstance(image, dict) and isinstance(image.get("url"), str)
    ]
    if not usable:
        return None
    wide = [image for image in usable if (image.get("width") or 0) >= PREFERRED_IMAGE_WIDTH]
    chosen = min(wide, key=lambda image: image.get("width") or 0) if wide else usable[0]
    return str(chosen["url"])


def _track(item: Any) -> SpotifyTrack | None:
    if not isinstance(item, dict):
        return None
    track_id, uri, name = item.get("id"), item.get("uri"), item.get("name")
    if not all(isinstance(value, str) and value for value in (track_id, uri, name)):
        return None
    url = (item.get("external_urls") or {}).get("spotify")
    artists = tuple(
        artist for entry in item.get("artists") or [] if (artist := _artist(entry)) is not None
    )
    popularity = item.get("popularity")
    return SpotifyTrack(
        id=str(track_id),
        uri=str(uri),
        name=str(name),
        url=url if isinstance(url, str) else None,
        artists=artists,
        popularity=popularity if type(popularity) is int else 0,
    )


def _quoted(text: str) -> str:
    """A name inside a search filter's quotes: its own quotes dropped."""
    return text.replace('"', " ").strip()


def _message(response: Any) -> str:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    if isinstance(error, dict):
        return str(error.get("message") or "")
    return str(error or "")
