"""Issue 21's page changes as a browser without JavaScript sees them: the home page shows the
latest recommendations, numbers carry thousands separators, the artist page shows its listeners,
top songs and rateable similar artists, popular-artist cards match the others, times are ISO
for the browser (UTC text without JavaScript) and batches of one minute are told apart, the
footer's API link opens a page for people, and the "enough ratings" line is one short line."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from musicrec.db.models import Rating, Recommendation, User
from musicrec.web.api.spec import document
from musicrec.web.main.formatting import thousands
from tests.factories import seed_two_tastes, train_in_transaction
from tests.web.conftest import api_signup, bearer, page_signup
from tests.web.test_security_support import client_with_cookie, count_where

LISTENERS = 1_234  # more than a thousand: the count needs its separator


def _rate(client: FlaskClient, token: str, artist_id: int, value: int = 9) -> None:
    response = client.put(
        f"/api/v1/me/ratings/{artist_id}", json={"rating": value}, headers=bearer(token)
    )
    assert response.status_code in (200, 201), response.get_json()


def _add_listeners(engine: Engine, artist_id: int, how_many: int) -> None:
    """``how_many`` starter listeners who rated the artist (one statement each table)."""
    with engine.begin() as connection:
        names = [f"lastfm:many{n}" for n in range(how_many)]
        connection.execute(insert(User), [{"username": n, "username_key": n} for n in names])
        ids = connection.execute(User.__table__.select().where(User.username.in_(names))).all()
        connection.execute(
            insert(Rating),
            [
                {"user_id": row.id, "artist_id": artist_id, "rating": 7, "source": "lastfm"}
                for row in ids
            ],
        )


def test_thousands_separators_filter() -> None:
    assert thousands(83340) == "83,340"
    assert thousands(7) == "7"
    assert thousands(None) == ""


def test_the_home_page_after_log_in_shows_the_latest_recommendations(
    app: Flask, client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _user, token = api_signup(client)
    browser = client_with_cookie(app, token)
    before = browser.get("/").get_data(as_text=True)
    assert 'id="latest-recommendations"' not in before
    assert 'href="/rate"' in before  # nothing rated: a call to rate first

    _rate(client, token, catalogue["Radiohead"])
    first = client.post("/api/v1/me/recommendations?n=3", headers=bearer(token)).get_json()
    latest = client.post("/api/v1/me/recommendations?n=3", headers=bearer(token)).get_json()
    page = browser.get("/").get_data(as_text=True)

    cards = page.split('id="latest-recommendations"')[1].split("</ul>")[0]
    for item in latest["recommendations"]:
        assert f'data-artist-id="{item["artist"]["id"]}"' in cards
    for item in first["recommendations"]:  # only the newest batch
        assert f'data-artist-id="{item["artist"]["id"]}"' not in cards
    assert 'href="/recommendations"' in page and "Get new recommendations" in page


def test_numbers_have_thousands_separators(
    client: FlaskClient, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    _add_listeners(db_engine, catalogue["Iron Maiden"], LISTENERS)  # no starter listener had it

    artist = client.get(f"/artists/{catalogue['Iron Maiden']}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)

    assert f'id="listeners">{LISTENERS:,} listeners here' in artist
    assert re.search(r"learned from 1,\d{3} ratings of 20 artists by 1,\d{3} listeners", home)


def test_the_artist_page_shows_listeners_top_songs_and_rateable_similar_artists(
    app: Flask, client: FlaskClient, db_engine: Engine
) -> None:
    tastes = seed_two_tastes(db_engine)
    train_in_transaction(db_engine, app.config["MUSICREC_SETTINGS"].model_dir, factors=4)
    _user, token = api_signup(client)
    similar = client.get(f"/api/v1/artists/{tastes[0][0]}/similar?n=12").get_json()["artists"]
    _rate(client, token, similar[0]["id"], 6)
    browser = client_with_cookie(app, token)

    page = browser.get(f"/artists/{tastes[0][0]}").get_data(as_text=True)
    anonymous = client.get(f"/artists/{tastes[0][0]}").get_data(as_text=True)

    listeners = count_where(db_engine, Rating, artist_id=tastes[0][0])
    assert listeners > 1
    assert f'id="listeners">{listeners} listeners here' in page
    section = page.split('id="similar-artists"')[1].split("</ul>")[0]
    for other in similar:
        assert f'data-rate="{other["id"]}"' in section  # ten rating buttons on each
        assert f'data-not-for-me="{other["id"]}"' in section
    first = section.split(f'data-artist-id="{similar[0]["id"]}"')[1].split("</li>")[0]
    assert re.search(r'data-value="6" aria-pressed="true"', first)  # my rating shows
    # Without an account: the cards, without controls that need one.
    assert 'id="similar-artists"' in anonymous and "data-rate=" not in anonymous
    # No source of songs on this server: no top-songs section to fill.
    assert "data-top-songs-of" not in page


def test_the_artist_page_asks_for_top_songs_when_a_source_is_configured(
    app: Flask, client: FlaskClient, catalogue: dict[str, int], monkeypatch
) -> None:
    from dataclasses import replace

    settings = app.config["MUSICREC_SETTINGS"]
    monkeypatch.setitem(app.config, "MUSICREC_SETTINGS", replace(settings, lastfm_api_key="k"))

    page = client.get(f"/artists/{catalogue['Radiohead']}").get_data(as_text=True)

    assert f'data-top-songs-of="{catalogue["Radiohead"]}"' in page


def test_popular_artist_cards_have_the_lastfm_link_and_not_for_me(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page_signup(client)

    for path, list_id in (("/rate", "onboarding"), ("/recommendations", "starter-artists")):
        page = client.get(path).get_data(as_text=True)
        cards = page.split(f'id="{list_id}"')[1].split("</ul>")[0].split("<li")[1:]
        assert cards, path
        for card in cards:
            assert 'class="external"' in card and "last.fm/music/" in card, path
            assert "data-not-for-me=" in card and "data-rate=" in card, path


def test_remove_and_not_for_me_are_different_controls(
    app: Flask, client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _user, token = api_signup(client)
    _rate(client, token, catalogue["Radiohead"])
    page = client_with_cookie(app, token).get(f"/artists/{catalogue['Radiohead']}")
    text = page.get_data(as_text=True)

    remove = re.search(r'<button[^>]*data-unrate="\d+"[^>]*>([^<]*)</button>', text)
    assert remove is not None and remove.group(1) == "Remove rating"
    assert 'class="unrate"' in remove.group(0)
    assert 'class="remove' not in text  # no grey look-alike class shared with "Not for me"


def _batches_at(engine: Engine, user_id: int, batches: dict[int, datetime]) -> None:
    """One recommendation a batch: artist id -> when it was made."""
    with engine.begin() as connection:
        for n, (artist, moment) in enumerate(batches.items()):
            connection.execute(
                insert(Recommendation).values(
                    user_id=user_id,
                    artist_id=artist,
                    score=1.0 - n / 10,
                    model_version="test",
                    because=[],
                    created_at=moment,
                )
            )


def test_times_are_iso_for_the_browser_and_batches_of_one_minute_differ(
    app: Flask, client: FlaskClient, db_engine: Engine, catalogue: dict[str, int]
) -> None:
    user_id, token = api_signup(client)
    _rate(client, token, catalogue["Radiohead"])
    at = datetime(2026, 12, 4, 9, 58, 12, tzinfo=UTC)
    _batches_at(
        db_engine,
        user_id,
        {
            catalogue["Coldplay"]: at.replace(hour=8),  # alone in its minute
            catalogue["Muse"]: at,
            catalogue["Keane"]: at.replace(second=41),
            catalogue["Air"]: at.replace(second=41, microsecond=500_000),  # the same second
        },
    )

    page = client_with_cookie(app, token).get("/recommendations").get_data(as_text=True)
    summaries = re.findall(
        r'<time datetime="([^"]+)" data-local-time( data-seconds)?>([^<]+)</time>'
        r'(?:<span class="batch-number"> · batch (\d)</span>)?',
        page,
    )

    assert summaries == [  # newest first
        ("2026-12-04T09:58:41.500+00:00", " data-seconds", "04 Dec 2026, 09:58:41 UTC", "2"),
        ("2026-12-04T09:58:41.000+00:00", " data-seconds", "04 Dec 2026, 09:58:41 UTC", "1"),
        ("2026-12-04T09:58:12.000+00:00", " data-seconds", "04 Dec 2026, 09:58:12 UTC", ""),
        ("2026-12-04T08:58:12.000+00:00", "", "04 Dec 2026, 08:58 UTC", ""),
    ]


def test_the_footer_api_link_opens_a_page_listing_every_operation(client: FlaskClient) -> None:
    home = client.get("/").get_data(as_text=True)
    link = re.search(r'<footer class="site"><a href="([^"]+)">API</a>', home)
    assert link is not None

    answer = client.get(link.group(1))
    page = answer.get_data(as_text=True)

    assert answer.status_code == 200 and answer.mimetype == "text/html"
    for path, item in document()["paths"].items():
        for method in ("get", "post", "put", "delete"):
            if method in item:
                assert f'method-{method}">{method.upper()}</span> <code class="path">{path}' in page
    assert 'href="/api/openapi.json"' in page
    assert "<script" not in page.split("</head>")[1]  # readable without any script
