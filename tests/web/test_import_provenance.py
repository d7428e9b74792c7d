"""Importing my data over HTTP: the file never decides that a rating may train, an unchanged
re-import changes nothing, and any out-of-range number is a 400 naming the row and the field.

Spotify ratings are written straight into the database, as the Spotify import stores them
(Spotify itself is not reachable from these tests)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from musicrec.db.models import Rating, TrainingDataChange
from musicrec.db.ratings import all_ratings
from musicrec.db.types import utcnow
from musicrec.services.scheduling import RetrainPolicy, retrain_reason
from tests.factories import train_in_transaction
from tests.web.conftest import api_signup, bearer

SPOTIFY_RATED = ("Muse", "Keane")


def _signed_up_with_spotify_ratings(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> tuple[int, str]:
    user_id, token = api_signup(client)
    typed = client.put(
        f"/api/v1/me/ratings/{catalogue['Air']}", json={"rating": 8}, headers=bearer(token)
    )
    assert typed.status_code in (200, 201)
    with db_engine.begin() as connection:
        for name in SPOTIFY_RATED:
            connection.execute(
                insert(Rating).values(
                    user_id=user_id, artist_id=catalogue[name], rating=9, source="spotify"
                )
            )
    return user_id, token


def _sources(db_engine: Engine, user_id: int) -> dict[int, tuple[int, str]]:
    with db_engine.connect() as connection:
        rows = connection.execute(
            select(Rating.artist_id, Rating.rating, Rating.source).where(Rating.user_id == user_id)
        ).all()
    return {artist: (value, source) for artist, value, source in rows}


def _trained_artists(db_engine: Engine, user_id: int) -> set[int]:
    with Session(db_engine) as session:
        data = all_ratings(session)
    return set(data.artist_ids[data.user_ids == user_id].tolist())


def _delete_my_ratings(client: FlaskClient, token: str, artist_ids: list[int]) -> None:
    for artist_id in artist_ids:
        assert client.delete(
            f"/api/v1/me/ratings/{artist_id}", headers=bearer(token)
        ).status_code in (
            200,
            204,
        )


def _flipped_json(data: dict[str, Any], *, drop_signature: bool = False) -> dict[str, Any]:
    ratings = []
    for row in data["ratings"]:
        row = {**row, "source": "manual"}
        if drop_signature:
            row.pop("signature", None)
        ratings.append(row)
    return {**data, "ratings": ratings}


def _flipped_csv(text: str) -> str:
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.DictWriter(out, list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "source": "manual"} if row["kind"] == "rating" else row)
    return out.getvalue()


def _import(client: FlaskClient, token: str, body: Any, *, as_csv: bool = False):
    if as_csv:
        return client.post(
            "/api/v1/me/import", data=body, headers={**bearer(token), "Content-Type": "text/csv"}
        )
    return client.post("/api/v1/me/import", json=body, headers=bearer(token))


@pytest.mark.parametrize("how", ["json", "json without signatures", "csv"])
def test_a_flipped_source_never_makes_a_spotify_rating_trainable(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine, how: str
) -> None:
    user_id, token = _signed_up_with_spotify_ratings(client, catalogue, db_engine)
    spotify_ids = [catalogue[name] for name in SPOTIFY_RATED]
    if how == "csv":
        exported = client.get("/api/v1/me/export?format=csv", headers=bearer(token))
        body: Any = _flipped_csv(exported.get_data(as_text=True))
    else:
        exported = client.get("/api/v1/me/export", headers=bearer(token))
        body = _flipped_json(exported.get_json(), drop_signature=how != "json")

    over_existing = _import(client, token, body, as_csv=how == "csv")
    kept = _sources(db_engine, user_id)
    _delete_my_ratings(client, token, [catalogue["Air"], *spotify_ids])
    into_nothing = _import(client, token, body, as_csv=how == "csv")
    restored = _sources(db_engine, user_id)

    assert over_existing.status_code == 200, over_existing.get_json()
    assert {kept[a][1] for a in spotify_ids} == {"spotify"}
    assert into_nothing.status_code == 200, into_nothing.get_json()
    assert {restored[a][1] for a in spotify_ids} == {"file"}
    assert _trained_artists(db_engine, user_id) <= {catalogue["Air"]}
    assert into_nothing.get_json()["not_for_training"] >= len(spotify_ids)


def test_an_unedited_export_restores_every_rating_as_it_was(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    user_id, token = _signed_up_with_spotify_ratings(client, catalogue, db_engine)
    before = _sources(db_engine, user_id)
    exported = client.get("/api/v1/me/export", headers=bearer(token)).get_json()
    _delete_my_ratings(client, token, list(before))

    answer = _import(client, token, exported)

    assert answer.status_code == 200
    assert _sources(db_engine, user_id) == before
    assert _trained_artists(db_engine, user_id) == {catalogue["Air"]}


def test_an_edited_value_keeps_an_untrainable_source(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    user_id, token = _signed_up_with_spotify_ratings(client, catalogue, db_engine)
    exported = client.get("/api/v1/me/export", headers=bearer(token)).get_json()
    for row in exported["ratings"]:
        row["rating"] = 2  # edited: the signature no longer holds

    answer = _import(client, token, exported)

    after = _sources(db_engine, user_id)
    assert answer.status_code == 200
    assert after[catalogue["Air"]] == (2, "manual")  # a trainable rating, changed: as if typed
    assert {after[catalogue[name]] for name in SPOTIFY_RATED} == {(2, "spotify")}


def _changes(db_engine: Engine) -> int:
    with db_engine.connect() as connection:
        total = connection.execute(select(func.coalesce(func.sum(TrainingDataChange.changes), 0)))
        return int(total.scalar_one())


def test_importing_the_same_file_again_changes_nothing(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    user_id, token = api_signup(client)
    body = {"ratings": [{"artist_id": catalogue[name], "rating": 7} for name in ("Air", "Muse")]}
    first = _import(client, token, body)
    with db_engine.connect() as connection:
        stamps = connection.execute(
            select(Rating.artist_id, Rating.updated_at).where(Rating.user_id == user_id)
        ).all()
    changes = _changes(db_engine)

    again = [_import(client, token, body) for _ in range(3)]

    with db_engine.connect() as connection:
        after = connection.execute(
            select(Rating.artist_id, Rating.updated_at).where(Rating.user_id == user_id)
        ).all()
    assert first.status_code == 200
    assert [answer.get_json()["unchanged"] for answer in again] == [2, 2, 2]
    assert [answer.get_json()["ratings"] for answer in again] == [0, 0, 0]
    assert sorted(after) == sorted(stamps)
    assert _changes(db_engine) == changes


HUGE = 9223372036854775808  # 2**63: more than SQLite's and PostgreSQL's integers hold


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        ({"ratings": [{"artist_id": HUGE, "rating": 5}]}, "ratings[0]", "artist_id"),
        ({"ratings": [{"artist_id": 2**31, "rating": 5}]}, "ratings[0]", "artist_id"),
        ({"ratings": [{"artist_id": -HUGE, "rating": 5}]}, "ratings[0]", "artist_id"),
        ({"ratings": [{"artist_id": 0, "rating": 5}]}, "ratings[0]", "artist_id"),
        ({"ratings": [{"artist_id": 1, "rating": HUGE}]}, "ratings[0]", "rating"),
        ({"ratings": [{"artist_id": 1, "rating": 1e300}]}, "ratings[0]", "rating"),
        ({"dislikes": [{"artist_id": HUGE}]}, "dislikes[0]", "artist_id"),
        ({"dislikes": [{"artist_id": float(HUGE)}]}, "dislikes[0]", "artist_id"),
    ],
)
def test_an_out_of_range_number_in_json_is_a_400_naming_the_field(
    client: FlaskClient, body: dict[str, Any], field: str, named: str
) -> None:
    _user, token = api_signup(client)

    answer = _import(client, token, body)

    assert answer.status_code == 400, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["field"] == field and named in error["message"]


@pytest.mark.parametrize(
    ("line", "named"),
    [
        (f"rating,{HUGE},Air,5,manual,,,", "artist_id"),
        (f"rating,-{HUGE},Air,5,manual,,,", "artist_id"),
        (f"rating,{2**31},Air,5,manual,,,", "artist_id"),
        (f"rating,1,Air,{HUGE},manual,,,", "value"),
        (f"not_for_me,{HUGE},Air,,,,,", "artist_id"),
        ("rating,1_000,Air,5,manual,,,", "artist_id"),
    ],
)
def test_an_out_of_range_number_in_csv_is_a_400_naming_the_field(
    client: FlaskClient, line: str, named: str
) -> None:
    _user, token = api_signup(client)
    text = "kind,artist_id,artist,value,source,model_version,at,signature\n" + line + "\n"

    answer = _import(client, token, text, as_csv=True)

    assert answer.status_code == 400, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["field"] == "line 2" and named in error["message"]


def test_importing_my_export_again_never_queues_a_training(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine, tmp_path: Path
) -> None:
    _user, token = api_signup(client)
    for name in ("Air", "Muse", "Keane"):
        client.put(
            f"/api/v1/me/ratings/{catalogue[name]}", json={"rating": 6}, headers=bearer(token)
        )
    models = tmp_path / "import-models"
    train_in_transaction(db_engine, models, factors=4, iterations=2)
    exported = client.get("/api/v1/me/export", headers=bearer(token)).get_json()

    answers = [_import(client, token, exported) for _ in range(5)]

    assert [answer.get_json()["unchanged"] for answer in answers] == [3] * 5
    with Session(db_engine) as session:
        policy = RetrainPolicy(after_ratings=1, after=timedelta(hours=1))
        assert retrain_reason(session, models, policy, utcnow() + timedelta(days=1)) is None
