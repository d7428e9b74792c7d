"""Save recommendations as a private Spotify playlist, named with the date."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from musicrec.config import Settings
from musicrec.db import recommendations as stored
from musicrec.db.session import read_transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp
from musicrec.integrations.spotify.web_api import SpotifyWebApi
from musicrec.services.errors import ServiceError
from musicrec.services.spotify_connection import (
    EngineTokens,
    SpotifyDisabled,
    SpotifyNotConnected,
    status,
)
from musicrec.services.top_songs import top_songs

NEWEST_RECOMMENDATIONS = 10  # the batch the recommendations page shows as new


class NothingToSave(ServiceError):
    """No track of the recommendations could be found on Spotify."""


@dataclass(frozen=True)
class SavedPlaylist:
    id: str
    url: str | None
    tracks: int


def save_playlist(
    engine: Engine, settings: Settings, user_id: int, http: RetryingHttp | None = None
) -> SavedPlaylist:
    """A private playlist of the top songs of the user's newest recommendations.

    No transaction is open while Spotify or Last.fm answer (they may take seconds, retries
    included): each read and write of the database is its own short transaction."""
    if not settings.spotify.enabled:
        raise SpotifyDisabled("Spotify is not configured on this server.")
    with read_transaction(engine) as session:
        if not status(session, user_id).connected:
            raise SpotifyNotConnected()
        artist_ids = stored.newest_artist_ids(session, user_id, NEWEST_RECOMMENDATIONS)
    api = SpotifyWebApi(
        settings.spotify.api_url, EngineTokens(engine, settings.spotify, user_id), http
    )
    api.tokens.access_token()  # a connection Spotify dropped is reported before anything else
    uris: list[str] = []
    for artist_id in artist_ids:
        for song in top_songs(engine, settings, artist_id, user_id) or []:
            if song.spotify_uri and song.spotify_uri not in uris:
                uris.append(song.spotify_uri)
    if not uris:
        raise NothingToSave("None of your new recommendations' songs were found on Spotify.")
    today = utcnow().strftime("%d %b %Y")
    playlist = api.create_playlist(
        f"musicrec recommendations, {today}", "Top songs of the artists musicrec recommended."
    )
    api.add_to_playlist(playlist.id, uris)
    return SavedPlaylist(id=playlist.id, url=playlist.url, tracks=len(uris))
