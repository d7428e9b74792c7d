"""A user's own data, to take away and bring back: ratings, "not for me" list, history, settings.

The export is one JSON object, ``{"ratings", "dislikes", "recommendations", "settings"}``, or
the same rows as one CSV table with the columns ``CSV_COLUMNS``, a row per item:
``kind`` is ``rating``, ``not_for_me``, ``recommendation`` or ``setting`` (``artist`` then holds
the setting's name and ``value`` its value).

An import takes the same JSON (its ``ratings`` and ``dislikes``) or the same CSV (its
``rating`` and ``not_for_me`` rows; other kinds are skipped). It is idempotent (ratings are
set, not added; a rating already at the imported value is left as it is, ``updated_at``
included; a dislike already there stays one) and all or nothing: every row is checked before
anything is written, and the first bad row is named (a CSV line number, or ``ratings[3]`` in
JSON) with the field at fault (``artist_id``, ``rating`` or the CSV's ``value``). Ids are
whole numbers from 1 to ``LARGEST_ID`` (what an INTEGER column holds on PostgreSQL).

Each exported rating carries a ``signature``; which source an imported rating gets, and so
whether it may train the shared model, is decided by ``services.provenance``, never by the
file's ``source`` column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from musicrec.db import artists, dislikes, rating_import, ratings
from musicrec.db import recommendations as stored
from musicrec.db.models import RATING_MAX, RATING_MIN
from musicrec.db.session import read_transaction
from musicrec.db.trainable import is_trainable_source
from musicrec.db.types import utcnow
from musicrec.services import provenance
from musicrec.services.errors import InvalidInput, UnknownReference
from musicrec.services.preferences import preferences_of

CSV_COLUMNS = (
    "kind",
    "artist_id",
    "artist",
    "value",
    "source",
    "model_version",
    "at",
    "signature",
)
LARGEST_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL's int4 holds no more
WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")
# A cell starting with one of these is a formula to a spreadsheet (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_IMPORT_ROWS = 20_000
RATING_KIND, DISLIKE_KIND = "rating", "not_for_me"


def export_data(session: Session, user_id: int, secret_key: str) -> dict[str, Any]:
    """Everything the user told us and was told, as plain JSON values; each rating signed
    for this user (``services.provenance``)."""
    return {
        "ratings": [
            {
                "artist_id": row.artist_id,
                "artist": row.artist.name,
                "rating": row.rating,
                "source": row.source,
                "updated_at": row.updated_at.isoformat(),
                "signature": provenance.sign(
                    secret_key, user_id, row.artist_id, row.rating, row.source
                ),
            }
            for row in ratings.user_ratings(session, user_id)
        ],
        "dislikes": [
            {
                "artist_id": row.artist_id,
                "artist": row.artist.name,
                "created_at": row.created_at.isoformat(),
            }
            for row in dislikes.user_dislikes(session, user_id)
        ],
        "recommendations": [
            {
                "artist_id": row.artist_id,
                "artist": row.artist.name,
                "score": row.score,
                "model_version": row.model_version,
                "created_at": row.created_at.isoformat(),
            }
            for row in stored.user_recommendations(session, user_id)
        ],
        "settings": {"discovery": preferences_of(session, user_id).discovery},
    }


def export_csv(data: dict[str, Any]) -> str:
    """The export as one CSV table (module docstring)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in data["ratings"]:
        writer.writerow(
            {
                "kind": RATING_KIND,
                "artist_id": row["artist_id"],
                "artist": as_text_cell(row["artist"]),
                "value": row["rating"],
                "source": row["source"],
                "at": row["updated_at"],
                "signature": row.get("signature", ""),
            }
        )
    for row in data["dislikes"]:
        writer.writerow(
            {
                "kind": DISLIKE_KIND,
                "artist_id": row["artist_id"],
                "artist": as_text_cell(row["artist"]),
                "at": row["created_at"],
            }
        )
    for row in data["recommendations"]:
        writer.writerow(
            {
                "kind": "recommendation",
                "artist_id": row["artist_id"],
                "artist": as_text_cell(row["artist"]),
                "value": row["score"],
                "model_version": row["model_version"],
                "at": row["created_at"],
            }
        )
    for name, value in data["settings"].items():
        writer.writerow({"kind": "setting", "artist": name, "value": value})
    return out.getvalue()


def as_text_cell(text: str) -> str:
    """Text a spreadsheet shows as text: one that would start a formula (an artist named
    ``=HYPERLINK(...)``) gets a leading apostrophe. Only names are text here, and an import
    reads artists by id, so the round trip is unchanged."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass(frozen=True)
class _Row:
    where: str  # "line 3" or "ratings[2]": how an error names the row
    artist_id: object
    rating: object = None
    source: object = None
    signature: object = None
    rating_field: str = "rating"  # the CSV holds it in "value"


@dataclass(frozen=True)
class ImportReport:
    ratings: int  # set: new, or changed to the imported value
    dislikes: int
    unchanged: int = 0  # already at the imported value (and source): left as they were
    not_for_training: int = 0  # of the file's ratings, those that never train the shared model


def import_json(session: Session, user_id: int, payload: object, secret_key: str) -> ImportReport:
    """Import the ``ratings`` and ``dislikes`` of an export's JSON (transactions: ``_write``)."""
    if not isinstance(payload, dict):
        raise InvalidInput({"body": "Send the JSON object of an export."})
    unknown = set(payload) - {"ratings", "dislikes", "recommendations", "settings"}
    if unknown:
        raise InvalidInput({sorted(unknown)[0]: "Unknown field."})
    rows: dict[str, list[_Row]] = {"ratings": [], "dislikes": []}
    for name in rows:
        items = payload.get(name, [])
        if not isinstance(items, list):
            raise InvalidInput({name: "Give a list."})
        for position, item in enumerate(items):
            where = f"{name}[{position}]"
            if not isinstance(item, dict):
                raise InvalidInput({where: "Give an object with an artist_id."})
            rows[name].append(
                _Row(
                    where,
                    item.get("artist_id"),
                    item.get("rating"),
                    item.get("source"),
                    item.get("signature"),
                )
            )
    return _write(session, user_id, rows["ratings"], rows["dislikes"], secret_key)


def import_csv(session: Session, user_id: int, text: str, secret_key: str) -> ImportReport:
    """Import the ``rating`` and ``not_for_me`` rows of an export's CSV (see ``_write``)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"kind", "artist_id"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(
            {"line 1": "The header must name the columns " + ", ".join(CSV_COLUMNS) + "."}
        )
    liked: list[_Row] = []
    against: list[_Row] = []
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            kind = (row.get("kind") or "").strip()
            if kind == RATING_KIND:
                liked.append(
                    _Row(
                        where,
                        _whole(row.get("artist_id")),
                        _whole(row.get("value")),
                        row.get("source"),
                        row.get("signature"),
                        rating_field="value",
                    )
                )
            elif kind == DISLIKE_KIND:
                against.append(_Row(where, _whole(row.get("artist_id"))))
            elif kind not in ("recommendation", "setting"):
                raise InvalidInput(
                    {where: f"Unknown kind {kind!r}: use {RATING_KIND} or {DISLIKE_KIND}."}
                )
    except csv.Error as error:
        raise InvalidInput({f"line {reader.line_num}": f"Not valid CSV: {error}."}) from None
    return _write(session, user_id, liked, against, secret_key)


def _whole(text: str | None) -> object:
    """A CSV cell as a whole number when it is one (ASCII digits), else as given (refused
    later); any size: the range is checked with the field's name."""
    value = (text or "").strip()
    if WHOLE_NUMBER.fullmatch(value) is None:
        return value
    try:
        return int(value)
    except ValueError:  # more digits than Python converts
        return value


def _integral(value: object) -> object:
    """JSON Schema counts 7.0 as an integer: read it as 7 (7.5 stays refused)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _artist_id(row: _Row) -> int:
    artist_id = _integral(row.artist_id)
    if isinstance(artist_id, bool) or not isinstance(artist_id, int):
        raise InvalidInput({row.where: "artist_id must be a whole number."})
    if not 1 <= artist_id <= LARGEST_ID:
        raise InvalidInput({row.where: f"artist_id must be from 1 to {LARGEST_ID}."})
    return artist_id


def _rating(row: _Row) -> int:
    rating = _integral(row.rating)
    field = row.rating_field
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise InvalidInput(
            {row.where: f"{field}: give a whole rating from {RATING_MIN} to {RATING_MAX}."}
        )
    if not RATING_MIN <= rating <= RATING_MAX:
        raise InvalidInput(
            {row.where: f"{field}: the rating must be from {RATING_MIN} to {RATING_MAX}."}
        )
    return rating


def _write(
    session: Session, user_id: int, liked: list[_Row], against: list[_Row], secret_key: str
) -> ImportReport:
    """Check every row, then write them all at once, holding no lock while checking.

    The import runs its own transactions: the caller has ended its session's transaction (on
    SQLite a POST's session holds the write lock from its first query), it reads what it
    needs in a read-only transaction, and writes everything in one short transaction
    (``db.rating_import``), so the import is all or nothing and another user's request never
    waits for 20,000 rows to be checked. A later row for the same artist wins; a rating at
    the imported value and source is not written at all."""
    if len(liked) + len(against) > MAX_IMPORT_ROWS:
        raise InvalidInput({"body": f"At most {MAX_IMPORT_ROWS} rows at a time."})
    rated = [(row, _artist_id(row), _rating(row)) for row in liked]
    marked = [(row, _artist_id(row)) for row in against]
    latest = {artist_id: (row, value) for row, artist_id, value in rated}
    signed = {
        artist_id: provenance.signed_source(
            secret_key, user_id, artist_id, value, row.source, row.signature
        )
        for artist_id, (row, value) in latest.items()
    }
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    with read_transaction(engine) as reader:
        visible = artists.visible_among(
            reader, {a for _, a, _ in rated} | {a for _, a in marked}, user_id
        )
        for row, artist_id in [(row, a) for row, a, _ in rated] + marked:
            if artist_id not in visible:
                raise UnknownReference({row.where: f"No artist has the id {artist_id}."})
        stored = ratings.stored_ratings(reader, user_id, list(latest))
    new: list[rating_import.NewRating] = []
    changed: list[rating_import.ChangedRating] = []
    unchanged = not_for_training = 0
    for artist_id, (_row, value) in latest.items():
        before = stored.get(artist_id)
        source = provenance.imported_source(before, value, signed[artist_id])
        if not (is_trainable_source(source) and visible[artist_id]):
            not_for_training += 1
        if before is None:
            new.append((artist_id, value, source))
        elif (before.rating, before.source) != (value, source):
            changed.append((artist_id, before.id, value, source))
        else:
            unchanged += 1
    disliked = sorted({artist_id for _, artist_id in marked})
    rating_import.merge_import(engine, user_id, new, changed, disliked, utcnow())
    return ImportReport(
        ratings=len(new) + len(changed),
        dislikes=len(marked),
        unchanged=unchanged,
        not_for_training=not_for_training,
    )
