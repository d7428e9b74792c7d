"""Spotify in API version 1: the connection, the library import (a job), the playlist export
and artists' top songs. 409 when the user is not connected; 404 when the server has no Spotify
client credentials (the features are hidden)."""

from __future__ import annotations

import logging

from flask import Response, jsonify

from musicrec.integrations.http_retries import UpstreamError
from musicrec.services import jobs, spotify_connection, top_songs
from musicrec.services.playlists import NothingToSave, save_playlist
from musicrec.web.api import api, require_user
from musicrec.web.api.answers import (
    JobAnswer,
    JobOut,
    PlaylistAnswer,
    PlaylistOut,
    SongOut,
    SpotifyStatus,
    TopSongs,
    answer,
)
from musicrec.web.api.error_answers import ApiError, error_response
from musicrec.web.api.spec import documented
from musicrec.web.auth.guard import current_user, settings
from musicrec.web.db import database, db_session, end_transaction
from musicrec.web.extensions import job_queue

log = logging.getLogger("musicrec.api")


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


def _enabled() -> None:
    if not settings().spotify.enabled:
        raise ApiError(404, "not_found", "Spotify is not configured on this server.")


@api.errorhandler(spotify_connection.SpotifyDisconnected)
def spotify_disconnected(error: spotify_connection.SpotifyDisconnected) -> tuple[Response, int]:
    """Spotify rejected the refresh token: keep the disconnection, ask to connect again."""
    db_session().commit()
    log.warning("spotify connection lost: refresh token rejected")
    return error_response(409, "spotify_disconnected", error.message, error.field)


@api.errorhandler(UpstreamError)
def upstream_error(error: UpstreamError) -> tuple[Response, int]:
    log.warning("spotify or last.fm failed: %s", error)
    return error_response(502, "upstream_unavailable", "Spotify did not answer; try again later.")


@api.errorhandler(NothingToSave)
def nothing_to_save(error: NothingToSave) -> tuple[Response, int]:
    return error_response(409, "nothing_to_save", str(error))


@api.get("/me/spotify")
@documented("spotify", {200: (SpotifyStatus, "The connection")}, errors=(401, 404), signed_in=True)
@require_user
def my_spotify() -> tuple[Response, int]:
    """Whether my Spotify account is connected, and as whom"""
    _enabled()
    view = spotify_connection.status(db_session(), _user_id())
    body = SpotifyStatus(connected=view.connected, display_name=view.display_name)
    return jsonify(body.model_dump(mode="json", exclude_none=True)), 200


@api.delete("/me/spotify")
@documented("spotify", {204: (None, "Disconnected")}, errors=(401, 403, 404), signed_in=True)
@require_user
def disconnect_spotify() -> tuple[str, int]:
    """Disconnect my Spotify account: its tokens are deleted"""
    _enabled()
    session = db_session()
    spotify_connection.disconnect(session, _user_id())
    session.commit()
    return "", 204


@api.post("/me/spotify/import")
@documented(
    "spotify",
    {202: (JobAnswer, "Queued: follow it at /api/v1/me/jobs/{id}")},
    errors=(401, 403, 404, 409, 503),
    signed_in=True,
)
@require_user
def import_spotify() -> tuple[Response, int]:
    """Import my Spotify library as ratings (a job; its result counts added, rated,
    kept_manual, skipped, refused, over_limit and requests)"""
    _enabled()
    session = db_session()
    if not spotify_connection.status(session, _user_id()).connected:
        raise spotify_connection.SpotifyNotConnected()
    job = jobs.queue_spotify_import(session, job_queue(), user_id=_user_id())
    log.info("spotify import queued by user_id=%s: job %s", _user_id(), job.id)
    return answer(JobAnswer(job=JobOut.model_validate(job)), 202)


@api.post("/me/spotify/playlist")
@documented(
    "spotify",
    {201: (PlaylistAnswer, "Created on Spotify")},
    errors=(401, 403, 404, 409, 502),
    signed_in=True,
)
@require_user
def save_spotify_playlist() -> tuple[Response, int]:
    """Save my newest recommendations' top songs as a private Spotify playlist"""
    _enabled()
    end_transaction()
    saved = save_playlist(database(), settings(), _user_id())
    return answer(PlaylistAnswer(playlist=PlaylistOut.model_validate(saved)), 201)


@api.get("/artists/<id:artist_id>/top-songs")
@documented(
    "artists",
    {200: (TopSongs, "A few top songs with links")},
    errors=(404,),
)
def artist_top_songs(artist_id: int) -> tuple[Response, int]:
    """A few of the artist's top songs (404 when no source of songs is configured)"""
    user = current_user()
    end_transaction()
    songs = top_songs.top_songs(database(), settings(), artist_id, user.id if user else None)
    if songs is None:
        raise ApiError(404, "not_found", "Top songs are not available on this server.")
    return answer(TopSongs(songs=[SongOut.model_validate(song) for song in songs]))
