"""Response bodies of the JSON API, built from the services' objects and dumped to JSON.

They are the single description of what the API answers: routes serialise through them and the
OpenAPI document is generated from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from flask import Response
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from pydantic.json_schema import JsonDict, SkipJsonSchema

from musicrec.db.models import JOB_KINDS, JOB_STATES, RATING_MAX, RATING_MIN, RATING_SOURCES

# Written with isoformat() ("+00:00"), as the API always has; pydantic's default would write "Z".
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class _Answer(BaseModel):
    """Read from the services' dataclasses by attribute; attributes not listed are left out."""

    model_config = ConfigDict(from_attributes=True)


class ArtistOut(_Answer):
    id: int
    name: str
    lastfm_url: str | None = Field(description="The artist's Last.fm page")


class ArtistRef(_Answer):
    """An artist named as the reason for a recommendation."""

    id: int
    name: str


class UserOut(_Answer):
    id: int
    username: str


class SignedUp(_Answer):
    user: UserOut
    token: str = Field(description="A session token (JWT) for the Authorization: Bearer header")
    expires_at: Timestamp = Field(description="When the token stops being accepted")


class Token(_Answer):
    token: str = Field(description="A session token (JWT) for the Authorization: Bearer header")
    expires_at: Timestamp = Field(description="When the token stops being accepted")


class Me(_Answer):
    user: UserOut
    rated_count: int = Field(description="How many artists the user rated")


class ArtistAnswer(_Answer):
    artist: ArtistOut


class ArtistList(_Answer):
    artists: list[ArtistOut]


class RatingOut(_Answer):
    artist: ArtistOut
    rating: int = Field(ge=RATING_MIN, le=RATING_MAX)
    source: str = Field(
        description="Where the rating came from",
        json_schema_extra={"enum": list(RATING_SOURCES)},
    )
    updated_at: Timestamp


class RatingChange(RatingOut):
    """A rating just set, with the user's new number of rated artists."""

    rated_count: int


class RatingList(_Answer):
    ratings: list[RatingOut]


class RecommendationOut(_Answer):
    artist: ArtistOut
    score: float
    because: list[ArtistRef] = Field(description="The user's artists that led to this one")


class RecommendationBatch(_Answer):
    model_version: str = Field(description="The model version, or 'popularity' without one")
    degraded: bool = Field(
        description="True when no model could serve this user and popular artists were picked"
    )
    recommendations: list[RecommendationOut]


class PastRecommendationOut(RecommendationOut):
    model_version: str
    created_at: Timestamp


class RecommendationHistory(_Answer):
    recommendations: list[PastRecommendationOut]


class SettingsOut(_Answer):
    discovery: float = Field(
        ge=0, le=1, description="0 = familiar (popular artists), 1 = discover (less-played ones)"
    )


class SettingsAnswer(_Answer):
    settings: SettingsOut


class ImportReportOut(_Answer):
    ratings: int = Field(description="Ratings set (new or changed to the imported value)")
    dislikes: int = Field(description="Artists marked not for me")
    unchanged: int = Field(description="Ratings already at the imported value: left untouched")
    not_for_training: int = Field(
        description="Of the file's ratings, those that never train the shared model (source "
        "spotify or file, or an artist not confirmed): they shape only your recommendations"
    )


class Health(_Answer):
    status: str = Field(json_schema_extra={"enum": ["ok", "degraded"]})
    model_version: str | None = Field(description="The model being served, if any")
    database: str = Field(json_schema_extra={"enum": ["ok", "unavailable"]})
    model: str = Field(
        description="ok: a model is served; missing: none was trained yet; corrupt: the "
        "newest version failed to load and none serves (popular artists are picked instead)",
        json_schema_extra={"enum": ["ok", "missing", "corrupt"]},
    )


class JobOut(_Answer):
    """A background job (a training, a tuning run, an import) as the worker last wrote it."""

    id: int
    kind: str = Field(json_schema_extra={"enum": list(JOB_KINDS)})
    state: str = Field(json_schema_extra={"enum": list(JOB_STATES)})
    progress: float = Field(ge=0, le=1, description="0 when queued, 1 when done")
    result: dict[str, Any] | None = Field(description="What the job produced, once done")
    error: str | None = Field(description="Why the job failed, if it did")
    reason: str = Field(description="Why it was queued: admin, new ratings, schedule, ...")
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None


class JobAnswer(_Answer):
    job: JobOut


class JobList(_Answer):
    jobs: list[JobOut] = Field(description="Queued and running jobs first, then newest first")


def _without_default(schema: JsonDict) -> None:
    """An absent field is left out of the body, never sent as null: document no default."""
    schema.pop("default")


class ErrorDetail(_Answer):
    code: str = Field(description="Stable, machine-readable: invalid_input, not_found, ...")
    message: str = Field(description="For people; never a traceback")
    field: str | SkipJsonSchema[None] = Field(
        default=None,
        description="The offending field, on input errors; absent otherwise",
        json_schema_extra=_without_default,
    )


class Error(_Answer):
    error: ErrorDetail


def answer(body: BaseModel, status: int = 200) -> tuple[Response, int]:
    """``body`` as the JSON response with ``status``, written by pydantic's own serialiser
    (one pass in Rust: dumping to Python objects, then Flask's ``json``, took twice), ending
    with a newline as Flask's ``jsonify`` does."""
    return Response(body.model_dump_json() + "\n", mimetype="application/json"), status


class SpotifyStatus(_Answer):
    connected: bool
    display_name: str | SkipJsonSchema[None] = Field(
        default=None,
        description="The Spotify account's name, when connected",
        json_schema_extra=_without_default,
    )


class PlaylistOut(_Answer):
    id: str = Field(description="The Spotify playlist id")
    url: str | None = Field(description="The playlist on Spotify")
    tracks: int = Field(description="How many tracks were added")


class PlaylistAnswer(_Answer):
    playlist: PlaylistOut


class SongOut(_Answer):
    title: str
    url: str | None = Field(description="Where to listen: Spotify when matched, else Last.fm")
    spotify_uri: str | None


class TopSongs(_Answer):
    songs: list[SongOut] = Field(description="A few of the artist's top songs, best first")
