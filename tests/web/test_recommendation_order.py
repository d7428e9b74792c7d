"""One order for a batch of recommendations: the order it is shown in when made (ranked with
the user's discovery penalty) is the order the history, the API and the page give it after a
reload, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from musicrec.db.models import Artist, Rating, User
from tests.factories import train_in_transaction
from tests.web.conftest import csrf_from, page_signup

ARTISTS = 12
LISTENERS = 40
BATCH = 8
_CARD = re.compile(r'<li class="card" data-artist-id="(\d+)"')


def _seed_one_taste(engine: Engine) -> list[int]:
    """One group of artists that every listener shares, some far more listened to than
    others (artist k by about LISTENERS * (ARTISTS - k) / ARTISTS listeners): the raw scores
    follow taste, the discovery penalty follows popularity, so a high setting reorders."""
    with engine.begin() as connection:
        ids = [
            connection.execute(
                insert(Artist)
                .values(name=f"Order artist {k}", name_key=f"order artist {k}")
                .returning(Artist.id)
            ).scalar_one()
            for k in range(ARTISTS)
        ]
        for listener in range(LISTENERS):
            name = f"listener:{listener}"
            user_id = connection.execute(
                insert(User).values(username=name, username_key=name).returning(User.id)
            ).scalar_one()
            rows = [
                {
                    "user_id": user_id,
                    "artist_id": artist,
                    "rating": 4 + (listener * 7 + k * 3) % 7,
                    "source": "lastfm",
                }
                for k, artist in enumerate(ids)
                if k == 0 or (listener * 5 + k) % ARTISTS < ARTISTS - k
            ]
            connection.execute(insert(Rating), rows)
    return ids


def _page_order(client: FlaskClient) -> list[list[int]]:
    """The artist ids of each batch on the recommendations page, in the page's order."""
    page = client.get("/recommendations").get_data(as_text=True)
    batches = page.split('<li class="batch">')[1:]
    return [[int(i) for i in _CARD.findall(batch)] for batch in batches]


def test_a_batch_keeps_its_live_order_in_the_history_the_api_and_the_page(
    app: Flask, client: FlaskClient, db_engine: Engine
) -> None:
    artists = _seed_one_taste(db_engine)
    train_in_transaction(
        db_engine, app.config["MUSICREC_SETTINGS"].model_dir, factors=4, iterations=10
    )
    page_signup(client)
    headers = {"X-CSRFToken": csrf_from(client, "/recommendations")}
    rated = client.put(f"/api/v1/me/ratings/{artists[0]}", json={"rating": 9}, headers=headers)
    assert rated.status_code in (200, 201), rated.get_json()
    setting = client.put("/api/v1/me/settings", json={"discovery": 1}, headers=headers)
    assert setting.status_code == 200, setting.get_json()

    made = client.post(f"/api/v1/me/recommendations?n={BATCH}", headers=headers)

    assert made.status_code == 201, made.get_json()
    live = made.get_json()["recommendations"]
    live_ids = [item["artist"]["id"] for item in live]
    scores = [item["score"] for item in live]
    assert len(live_ids) == BATCH
    # The discovery setting reordered the batch: its order is not the raw scores'.
    assert scores != sorted(scores, reverse=True), scores

    history = client.get("/api/v1/me/recommendations").get_json()["recommendations"]
    assert [item["artist"]["id"] for item in history] == live_ids
    assert _page_order(client) == [live_ids]
