"""Save recommendations as a private Spotify playlist, named with the date."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.db import recommendations as stored
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp
from musicrec.services.errors import ServiceError
from musicrec.services.spotify_connection import web_api
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
    session: Session, settings: Settings, user_id: int, http: RetryingHttp | None = None
) -> SavedPlaylist:
    """A private playlist of the top songs of the user's newest recommendations."""
    api = web_api(session, settings.spotify, user_id, http)
    api.tokens.access_token()  # a connection Spotify dropped is reported before anything else
    artist_ids = stored.newest_artist_ids(session, user_id, NEWEST_RECOMMENDATIONS)
    uris: list[str] = []
    for artist_id in artist_ids:
        for song in top_songs(session, settings, artist_id, user_id) or []:
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
