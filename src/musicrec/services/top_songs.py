"""A few top songs of each recommended artist, with links, cached.

Names come from Last.fm's ``artist.getTopTracks`` when a key is set; for a user connected to
Spotify each is matched to a Spotify track through search (``track:`` and ``artist:``
filters), so the playlist export can use it. Without a Last.fm key, a connected user gets the
artist's Spotify top tracks where that retired endpoint still answers. With neither, nothing
(and the page hides the section).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import artists as artist_rows
from musicrec.db import song_cache
from musicrec.db.song_cache import CachedSong
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import UpstreamError
from musicrec.integrations.lastfm_tracks import LastfmTopTracks
from musicrec.integrations.spotify.web_api import SpotifyWebApi
from musicrec.services.spotify_connection import SpotifyNotConnected, status, web_api

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
    session: Session,
    settings: Settings,
    artist_id: int,
    user_id: int | None,
    lastfm: LastfmTopTracks | None = None,
) -> list[Song] | None:
    """The artist's top songs (None when no source is available, [] when none are known)."""
    if not available(settings, session, user_id):
        return None
    artist = artist_rows.get_artist(session, artist_id)
    if artist is None:
        return []
    api = _spotify_for(session, settings, user_id)
    cached = song_cache.cached_songs(session, [artist_id], utcnow() - CACHE_FOR).get(artist_id)
    songs = cached
    if songs is None or (api is not None and not any(song.spotify_uri for song in songs)):
        songs = _fetch(settings, artist.name, artist.spotify_id, api, lastfm)
        _cache(session, artist_id, songs)
    return [Song(song.title, song.url, song.spotify_uri) for song in songs]


def _spotify_for(session: Session, settings: Settings, user_id: int | None) -> SpotifyWebApi | None:
    if user_id is None or not settings.spotify.enabled:
        return None
    try:
        return web_api(session, settings.spotify, user_id)
    except SpotifyNotConnected:
        return None


def _fetch(
    settings: Settings,
    name: str,
    spotify_id: str | None,
    api: SpotifyWebApi | None,
    lastfm: LastfmTopTracks | None,
) -> list[CachedSong]:
    try:
        if settings.lastfm_api_key:
            client = lastfm or LastfmTopTracks(settings.lastfm_api_url, settings.lastfm_api_key)
            found = client.top_tracks(name, SONGS_PER_ARTIST)
            songs = [CachedSong(track.name, track.url, None) for track in found]
            return [_matched(api, name, song) for song in songs] if api else songs
        if api is not None and spotify_id:
            tracks = api.artist_top_tracks(spotify_id) or []
            return [
                CachedSong(track.name, track.url, track.uri) for track in tracks[:SONGS_PER_ARTIST]
            ]
    except UpstreamError as error:
        log.warning("top songs of %r not fetched: %s", name, error)
    return []


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


def _cache(session: Session, artist_id: int, songs: list[CachedSong]) -> None:
    """Keep the songs; a write the database refuses now (busy) only costs a later refetch."""
    try:
        with session.begin_nested():
            song_cache.replace_songs(session, artist_id, songs)
    except DBAPIError as error:
        log.info("top songs of artist %s not cached: %s", artist_id, type(error.orig).__name__)
