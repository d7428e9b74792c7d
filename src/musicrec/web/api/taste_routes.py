"""API routes of the taste controls: "not for me", discover vs familiar, export and import."""

from __future__ import annotations

from flask import Response, jsonify, request

from musicrec.services import my_data, not_for_me, preferences
from musicrec.web.api import api, parse_body, parse_query, require_user
from musicrec.web.api.answers import (
    ArtistList,
    ImportReportOut,
    SettingsAnswer,
    answer,
)
from musicrec.web.api.error_answers import ApiError
from musicrec.web.api.schemas import ExportQuery, ImportBody, SettingsBody
from musicrec.web.api.spec import documented
from musicrec.web.auth.guard import current_user, settings
from musicrec.web.db import db_session, end_transaction

EXPORT_NAME = "musicrec-export"


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


@api.get("/me/dislikes")
@documented(
    "taste", {200: (ArtistList, "Not for me, newest first")}, errors=(401, 503), signed_in=True
)
@require_user
def my_dislikes() -> tuple[Response, int]:
    """Artists I marked "not for me": never recommended to me"""
    rows = not_for_me.my_dislikes(db_session(), _user_id())
    return answer(ArtistList.model_validate({"artists": [row.artist for row in rows]}))


@api.put("/me/dislikes/<id:artist_id>")
@documented("taste", {204: (None, "Marked")}, errors=(401, 403, 404, 503), signed_in=True)
@require_user
def put_dislike(artist_id: int) -> tuple[str, int]:
    """Mark an artist "not for me": never recommended again, and a signal against its kind"""
    session = db_session()
    not_for_me.dislike(session, _user_id(), artist_id)
    session.commit()
    return "", 204


@api.delete("/me/dislikes/<id:artist_id>")
@documented("taste", {204: (None, "No longer marked")}, errors=(401, 403, 404, 503), signed_in=True)
@require_user
def delete_dislike(artist_id: int) -> tuple[str, int]:
    """Undo "not for me" (answers 204 whether or not it was marked)"""
    session = db_session()
    not_for_me.undo(session, _user_id(), artist_id)
    session.commit()
    return "", 204


def _settings_answer(value: preferences.Preferences) -> tuple[Response, int]:
    return answer(SettingsAnswer.model_validate({"settings": value}))


@api.get("/me/settings")
@documented("taste", {200: (SettingsAnswer, "My settings")}, errors=(401, 503), signed_in=True)
@require_user
def my_settings() -> tuple[Response, int]:
    """My recommendation settings (discovery: 0 = familiar, 1 = discover)"""
    return _settings_answer(preferences.preferences_of(db_session(), _user_id()))


@api.put("/me/settings")
@documented(
    "taste",
    {200: (SettingsAnswer, "Saved")},
    errors=(400, 401, 403, 503),
    body=SettingsBody,
    signed_in=True,
)
@require_user
def put_settings() -> tuple[Response, int]:
    """Change my recommendation settings; they apply from the next recommendations on"""
    body = parse_body(SettingsBody)
    session = db_session()
    saved = preferences.set_discovery(session, _user_id(), body.discovery)
    session.commit()
    return _settings_answer(saved)


@api.get("/me/export")
@documented(
    "taste",
    {200: (None, "My ratings, dislikes, recommendations and settings (JSON or CSV download)")},
    errors=(400, 401, 503),
    query=ExportQuery,
    signed_in=True,
)
@require_user
def export_mine() -> Response:
    """Download my data: {"ratings", "dislikes", "recommendations", "settings"}, or as CSV

    Each rating carries a ``signature`` over this account, the artist, the value and the
    source: importing the file unedited into this account restores each rating as it was."""
    params = parse_query(ExportQuery)
    if params.format not in ("json", "csv"):
        raise ApiError(400, "invalid_input", "format must be json or csv.", "format")
    data = my_data.export_data(db_session(), _user_id(), settings().secret_key)
    if params.format == "csv":
        response = Response(my_data.export_csv(data), mimetype="text/csv")
    else:
        response = jsonify(data)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{EXPORT_NAME}.{params.format}"'
    )
    return response


@api.post("/me/import")
@documented(
    "taste",
    {200: (ImportReportOut, "Imported (all rows, or none on an error)")},
    errors=(400, 401, 403, 404, 503),
    body=ImportBody,
    signed_in=True,
)
@require_user
def import_mine() -> tuple[Response, int]:
    """Import ratings and dislikes: an export's JSON, or its CSV (Content-Type: text/csv);
    idempotent, all or nothing, errors name the line and the field

    The server, not the file, decides where each rating came from, and so whether it may train
    the shared model: a row signed by this account's export and unedited is restored as
    exported (source included); any other row for an artist you have not rated gets the source
    "file", which never trains (it could be an edited export of Spotify ratings); for an
    artist you rated, a stored source that cannot train (spotify, file) stays, an unchanged
    value changes nothing (not even updated_at), and a new value for a trainable rating becomes
    "manual", as if typed in. The answer counts ratings set, unchanged, and not for training.
    Ids run from 1 to 2147483647; anything else is a 400 naming the row and the field."""
    session = db_session()
    end_transaction()  # the import's own short transactions must not wait on this one's lock
    if request.mimetype == "text/csv":
        try:
            text = request.get_data().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ApiError(400, "invalid_body", "Send the CSV as UTF-8 text.") from None
        report = my_data.import_csv(session, _user_id(), text, settings().secret_key)
    elif request.is_json:
        payload = request.get_json(silent=True)
        if payload is None:
            raise ApiError(400, "invalid_body", "The body is not valid JSON.")
        report = my_data.import_json(session, _user_id(), payload, settings().secret_key)
    else:
        raise ApiError(
            400, "invalid_body", "Send an export: JSON (application/json) or CSV (text/csv)."
        )
    session.commit()
    return answer(ImportReportOut.model_validate(report))
