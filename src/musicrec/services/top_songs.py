"""A few top songs of each recommended artist, with links, cached.

Two sources, either enough alone:

- Last.fm, when ``LASTFM_API_KEY`` is set: the names come from ``artist.getTopTracks`` (what
  listeners play most, the population the model learns from, and shown to everyone, connected
  to Spotify or not); for a user connected to Spotify each is matched to a Spotify track
  through search (``track:`` and ``artist:`` filters), so the playlist export can use it.
- Spotify alone, for a connected user when no Last.fm key is set: one search with the
  ``artist:`` filter (what a new Spotify app may call; the artist top-tracks endpoint is
  retired), kept to the tracks of this artist (its Spotify id when the catalogue has it,
  else the same folded name), most popular first, one per title.

With neither, nothing (and the page hides the section). While the source fails, the songs
cached last are shown however old, and kept for when it answers again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import artists as artist_rows
from musicrec.db import song_cache
from musicrec.db.session import read_transaction, transaction
from musicrec.db.song_cache import CachedSong
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import UpstreamError
from musicrec.integrations.lastfm_tracks import LastfmTopTracks
from musicrec.integrations.spotify.web_api import SpotifyTrack, SpotifyWebApi
from musicrec.names import fold_name
from musicrec.services.spotify_connection import EngineTokens, status

log = logging.getLogger("musicrec.spotify")

SONGS_PER_ARTIST = 3
CACHE_FOR = timedelta(days=7)


@dataclass(frozen=True)
class Song:
    title: str
    url: str | None
    spotify_uri: str | None


def available(settings: Settings, session: Session, user_id: int | None) -> bool:
    """Whether top songs can be shown to this user at all."""
    if settings.lastfm_api_key:
        return True
    return bool(settings.spotify.enabled and user_id and status(session, user_id).connected)


def top_songs(
    engine: Engine,
    settings: Settings,
    artist_id: int,
    user_id: int | None,
    lastfm: LastfmTopTracks | None = None,
) -> list[Song] | None:
    """The artist's top songs (None when no source is available, [] when none are known).

    No transaction is open while Last.fm or Spotify answer: what is needed is read in one
    short transaction, the songs fetched, and the cache written in another."""
    with read_transaction(engine) as session:
        if not available(settings, session, user_id):
            return None
        artist = artist_rows.get_artist(session, artist_id)
        if artist is None:
            return []
        name, spotify_id = artist.name, artist.spotify_id
        connected = _connected(session, settings, user_id)
        fresh = song_cache.cached_songs(session, [artist_id], utcnow() - CACHE_FOR)
    api = (
        SpotifyWebApi(settings.spotify.api_url, EngineTokens(engine, settings.spotify, user_id))
        if connected and user_id is not None
        else None
    )
    songs = fresh.get(artist_id)
    unmatched = bool(api and songs and not any(song.spotify_uri for song in songs))
    if songs is None or unmatched:  # (none found when last looked: not asked again meanwhile)
        fetched = _fetch(settings, name, spotify_id, api, lastfm)
        if fetched is not None:
            songs = fetched
            _cache(engine, artist_id, songs)
        elif songs is None:  # the source is down: the stale songs, if any, kept as they are
            with read_transaction(engine) as session:
                songs = song_cache.cached_songs(session, [artist_id], None).get(artist_id, [])
    return [Song(song.title, song.url, song.spotify_uri) for song in songs]


def _connected(session: Session, settings: Settings, user_id: int | None) -> bool:
    return bool(
        user_id is not None and settings.spotify.enabled and status(session, user_id).connected
    )


def _fetch(
    settings: Settings,
    name: str,
    spotify_id: str | None,
    api: SpotifyWebApi | None,
    lastfm: LastfmTopTracks | None,
) -> list[CachedSong] | None:
    """The artist's songs from the source; None when the source failed (not the same as
    knowing no songs: the cache is kept)."""
    try:
        if settings.lastfm_api_key:
            client = lastfm or LastfmTopTracks(settings.lastfm_api_url, settings.lastfm_api_key)
            found = client.top_tracks(name, SONGS_PER_ARTIST)
            songs = [CachedSong(track.name, track.url, None) for track in found]
            return [_matched(api, name, song) for song in songs] if api else songs
        if api is not None:
            tracks = own_tracks(api.search_artist_tracks(name), name, spotify_id)
            return [CachedSong(track.name, track.url, track.uri) for track in tracks]
    except UpstreamError as error:
        log.warning("top songs of %r not fetched (cached ones kept): %s", name, error)
        return None
    return []


def own_tracks(
    found: list[SpotifyTrack], name: str, spotify_id: str | None, n: int = SONGS_PER_ARTIST
) -> list[SpotifyTrack]:
    """The artist's ``n`` most popular tracks among search results, one per title: those
    crediting its Spotify id when known, else an artist of the same folded name (a search
    by artist also finds other artists whose names contain it)."""
    key = fold_name(name)

    def theirs(track: SpotifyTrack) -> bool:
        if spotify_id:
            return any(artist.id == spotify_id for artist in track.artists)
        return any(fold_name(artist.name) == key for artist in track.artists)

    chosen: list[SpotifyTrack] = []
    titles: set[str] = set()
    for track in sorted(filter(theirs, found), key=lambda track: -track.popularity):
        title = fold_name(track.name)
        if title not in titles:  # the same song on an album and a best-of
            titles.add(title)
            chosen.append(track)
    return chosen[:n]


def _matched(api: SpotifyWebApi, artist: str, song: CachedSong) -> CachedSong:
    """The song with its Spotify track, when search finds one."""
    try:
        track = api.search_track(artist, song.title)
    except UpstreamError as error:
        log.info("no Spotify match for %r: %s", song.title, error)
        return song
    if track is None:
        return song
    return CachedSong(song.title, track.url or song.url, track.uri)


def _cache(engine: Engine, artist_id: int, songs: list[CachedSong]) -> None:
    """Keep the songs; a write the database refuses now (busy, or the artist was deleted
    meanwhile) only costs a later refetch."""
    try:
        with transaction(engine) as session:
            song_cache.replace_songs(session, artist_id, songs)
    except DBAPIError as error:
        log.info("top songs of artist %s not cached: %s", artist_id, type(error.orig).__name__)
