"""Laundering Spotify ratings through export and import on a live server (issue 18, defect 7).

Spotify's terms forbid training on Spotify-derived ratings. The probe gives an account three
ratings as a finished Spotify import stores them (source ``spotify``, written into the server's
database: Spotify itself is unreachable here), then tries every edit of its own export that
could make them trainable: the source flipped to ``manual`` with and without the signature,
in JSON and CSV, imported over the ratings and after deleting them. None may end up in what
the shared model trains on.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
import requests
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from musicrec.db.models import Rating
from musicrec.db.ratings import all_ratings
from musicrec.db.session import make_engine
from security.conftest import Target, sign_up

pytestmark = pytest.mark.security


def _flipped_json(data: dict[str, Any], keep_signature: bool) -> dict[str, Any]:
    rows = []
    for row in data["ratings"]:
        flipped = {**row, "source": "manual"}
        if not keep_signature:
            flipped.pop("signature", None)
        rows.append(flipped)
    return {"ratings": rows, "dislikes": data["dislikes"]}


def _flipped_csv(text: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "source": "manual"} if row["kind"] == "rating" else row)
    return out.getvalue()


def test_no_edit_of_an_export_makes_spotify_ratings_trainable(target: Target, record) -> None:  # type: ignore[no-untyped-def]
    base = target.base_url
    token = sign_up(base, f"launderer_{uuid.uuid4().hex[:8]}")
    auth = {"Authorization": f"Bearer {token}"}
    me = requests.get(f"{base}/api/v1/me", headers=auth, timeout=30).json()
    user_id = int(me["user"]["id"])
    popular = requests.get(f"{base}/api/v1/artists?limit=20", timeout=30).json()["artists"]
    spotify_ids = [int(artist["id"]) for artist in popular[-3:]]
    engine = make_engine(target.env["MUSICREC_DATABASE_URL"])
    try:
        with engine.begin() as connection:
            for artist_id in spotify_ids:
                connection.execute(
                    insert(Rating).values(
                        user_id=user_id, artist_id=artist_id, rating=9, source="spotify"
                    )
                )
        as_json = requests.get(f"{base}/api/v1/me/export", headers=auth, timeout=30).json()
        as_csv = requests.get(f"{base}/api/v1/me/export?format=csv", headers=auth, timeout=30).text
        attempts = {
            "json, signature kept": (_flipped_json(as_json, True), "application/json"),
            "json, signature dropped": (_flipped_json(as_json, False), "application/json"),
            "csv": (_flipped_csv(as_csv), "text/csv"),
        }
        statuses: list[int] = []
        for body, kind in attempts.values():
            for delete_first in (False, True):
                if delete_first:
                    for artist_id in spotify_ids:
                        requests.delete(
                            f"{base}/api/v1/me/ratings/{artist_id}", headers=auth, timeout=30
                        )
                data = body if kind == "text/csv" else None
                answer = requests.post(
                    f"{base}/api/v1/me/import",
                    headers={**auth, "Content-Type": kind},
                    data=data,
                    json=None if data is not None else body,
                    timeout=30,
                )
                statuses.append(answer.status_code)
        with Session(engine) as session:
            trained = all_ratings(session)
            sources = dict(
                session.execute(
                    select(Rating.artist_id, Rating.source).where(Rating.user_id == user_id)
                ).all()
            )
    finally:
        engine.dispose()

    laundered = sorted(set(trained.artist_ids[trained.user_ids == user_id].tolist()))
    record(
        "import provenance probe",
        "-",
        f"{target.backend} {base}",
        f"trainable after import: {laundered}; sources {sources}" if laundered else "none",
    )
    assert statuses == [200] * 6
    assert laundered == []
    assert {sources[artist_id] for artist_id in spotify_ids} <= {"spotify", "file"}
