"""An account with 20,000 ratings (issue 19): importing them is quick and never keeps another
user waiting, and the ratings page stays small and quick however many there are.

Importing 20,000 rows ran one upsert per row in one write transaction: 16 s on SQLite, during
which another user's rating waited 15.9 s. ``GET /ratings`` rendered every rating: 4.9 s and
31 MiB. Time bounds marked ``REGRESSION FLOOR`` sit well above what we measure (see the
report's figures), clear of a loaded machine's noise, and far below the issue's numbers.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from dataclasses import replace
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, insert, select

from musicrec import create_app
from musicrec.config import Settings
from musicrec.db.models import Artist, Rating
from musicrec.names import fold_name
from tests.web.conftest import api_signup, bearer

ARTISTS = 20_000
IMPORT_SECONDS = 2.0  # the goal, on either database
OTHER_WRITER_WAIT_SECONDS = 0.2  # the goal: no other user's request waits longer
PAGE_SECONDS_REGRESSION_FLOOR = 1.0  # REGRESSION FLOOR: measured ~0.05 s; the 4.9 s
PAGE_BYTES_REGRESSION_FLOOR = 256 * 1024  # REGRESSION FLOOR: one page of cards; was 31 MiB


@pytest.fixture
def many_artists(db_engine: Engine) -> list[int]:
    """20,000 confirmed artists, inserted in bulk; their ids."""
    with db_engine.begin() as connection:
        connection.execute(
            insert(Artist),
            [
                {"name": f"Band {n}", "name_key": fold_name(f"Band {n}"), "confirmed": True}
                for n in range(ARTISTS)
            ],
        )
        return list(connection.execute(select(Artist.id).order_by(Artist.id)).scalars())


def _rating_count(db_engine: Engine, user_id: int) -> int:
    with db_engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(Rating).where(Rating.user_id == user_id)
        ).scalar_one()


def rate_meanwhile(
    settings: Settings, token: str, artist_ids: list[int], ready: Event, stop: Event, out: Queue
) -> None:
    """Another user rating artists again and again, in a process of its own (so only the
    database, not this process's interpreter lock, can make it wait); puts each wait on
    ``out``, then None."""
    application = create_app(replace(settings, rate_limits="off"))
    other = application.test_client()
    other.get("/api/v1/health")
    ready.set()
    round_ = 0
    while not stop.is_set():
        started = time.perf_counter()
        answer = other.put(
            f"/api/v1/me/ratings/{artist_ids[round_ % len(artist_ids)]}",
            json={"rating": 1 + round_ % 10},
            headers=bearer(token),
        )
        out.put((answer.status_code, time.perf_counter() - started))
        round_ += 1
        time.sleep(0.01)
    out.put(None)


def test_importing_20000_ratings_is_quick_and_another_writer_barely_waits(
    app: Flask, settings: Settings, db_engine: Engine, many_artists: list[int]
) -> None:
    client = app.test_client()
    importer, importer_token = api_signup(client)
    _, other_token = api_signup(client)
    payload = {
        "ratings": [
            {"artist_id": artist, "rating": 1 + n % 10} for n, artist in enumerate(many_artists)
        ]
    }
    spawn = multiprocessing.get_context("spawn")
    ready, stop, out = spawn.Event(), spawn.Event(), spawn.Queue()
    writer = spawn.Process(
        target=rate_meanwhile, args=(settings, other_token, many_artists[:50], ready, stop, out)
    )
    writer.start()
    try:
        assert ready.wait(60), "the other writer did not start"
        time.sleep(0.1)
        started = time.perf_counter()
        answer = client.post("/api/v1/me/import", json=payload, headers=bearer(importer_token))
        took = time.perf_counter() - started
    finally:
        stop.set()
        answers = list(iter(lambda: out.get(timeout=30), None))
        writer.join(timeout=30)

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["ratings"] == ARTISTS
    assert _rating_count(db_engine, importer) == ARTISTS
    assert took < IMPORT_SECONDS, f"the import took {took:.2f} s"
    assert {status for status, _ in answers} <= {200, 201}, answers
    waits = [wait for _, wait in answers]
    assert len(waits) >= 3, waits
    assert max(waits) < OTHER_WRITER_WAIT_SECONDS, f"another user waited {max(waits):.3f} s"


def _rate_every_artist(db_engine: Engine, user_id: int, artist_ids: list[int]) -> None:
    with db_engine.begin() as connection:
        connection.execute(
            insert(Rating),
            [
                {"user_id": user_id, "artist_id": a, "rating": 1 + a % 10, "source": "manual"}
                for a in artist_ids
            ],
        )


def test_the_ratings_page_of_20000_ratings_is_one_small_quick_page(
    client: FlaskClient, db_engine: Engine, many_artists: list[int]
) -> None:
    user_id, token = api_signup(client)
    _rate_every_artist(db_engine, user_id, many_artists)

    client.get("/ratings", headers=bearer(token))  # warm: templates compiled, pools filled
    started = time.perf_counter()
    answer = client.get("/ratings", headers=bearer(token))
    took = time.perf_counter() - started

    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"<strong data-rated-count>{ARTISTS:,}</strong>" in page  # "20,000"
    assert len(answer.data) < PAGE_BYTES_REGRESSION_FLOOR, len(answer.data)
    assert took < PAGE_SECONDS_REGRESSION_FLOOR, f"the page took {took:.2f} s"
    assert len(re.findall(r'<li class="card" data-artist-id=', page)) < ARTISTS


def test_the_api_lists_my_ratings_a_page_at_a_time_without_overlaps(
    client: FlaskClient, db_engine: Engine, many_artists: list[int]
) -> None:
    user_id, token = api_signup(client)
    _rate_every_artist(db_engine, user_id, many_artists[:250])  # one updated_at: ties on date

    seen: list[int] = []
    path: str | None = "/api/v1/me/ratings?per_page=100&sort=rating"
    while path:
        answer = client.get(path, headers=bearer(token))
        assert answer.status_code == 200
        assert answer.headers["X-Total-Count"] == "250"
        seen += [row["artist"]["id"] for row in answer.get_json()["ratings"]]
        links = dict(
            (rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', answer.headers["Link"])
        )
        path = links.get("next")
    assert sorted(seen) == sorted(many_artists[:250])  # every rating once: no overlap, no gap

    mine = client.get(
        f"/api/v1/me/ratings?artist_ids={many_artists[3]},{many_artists[400]}",
        headers=bearer(token),
    ).get_json()
    assert [row["artist"]["id"] for row in mine["ratings"]] == [many_artists[3]]
    bad = client.get("/api/v1/me/ratings?artist_ids=1,x", headers=bearer(token))
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "artist_ids"
