"""Issue 13's page defects and looks, as a browser without JavaScript sees them: the app's own
404 and 500 pages, the log-in form keeping the username, past recommendations in batches with
pages, My ratings' sources and sort orders, the current page in the navigation, avatars."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert

from musicrec.db.models import Rating
from tests.web.conftest import api_signup, bearer, csrf_from, page_login, page_signup


def test_an_unknown_artist_gets_the_apps_own_404_page(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    response = client.get("/artists/999999")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "We could not find that page" in page
    assert "requested URL was not found" not in page  # Werkzeug's own text
    assert '<header class="site">' in page


def test_an_unknown_api_path_answers_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/artists/999999")

    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    def boom() -> str:
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    return app


def test_an_unexpected_error_gets_the_apps_own_500_page_and_json_for_the_api(
    failing_app: Flask,
) -> None:
    client = failing_app.test_client()

    page = client.get("/boom")
    api = client.get("/api/v1/boom")

    assert page.status_code == 500
    assert "Something went wrong on our side" in page.get_data(as_text=True)
    assert "a bug" not in page.get_data(as_text=True)
    assert api.status_code == 500
    assert api.get_json()["error"]["code"]


def test_a_failed_log_in_keeps_the_username(client: FlaskClient) -> None:
    response = page_login(client, "someone.typed.this", password="wrong password here")

    assert response.status_code == 401
    assert 'value="someone.typed.this"' in response.get_data(as_text=True)


def test_the_search_box_has_a_maxlength(client: FlaskClient) -> None:
    page_signup(client)

    assert 'maxlength="200"' in client.get("/rate").get_data(as_text=True)


def test_navigation_marks_the_current_page(client: FlaskClient) -> None:
    page_signup(client)

    for path in ("/rate", "/ratings", "/recommendations", "/account"):
        page = client.get(path).get_data(as_text=True)
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', page)
        assert current == [path], path


def test_past_recommendations_come_in_batches_newest_first_with_pages(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    from musicrec.services.past_batches import BATCHES_PER_PAGE

    page_signup(client)
    token = csrf_from(client, "/recommendations")
    rated = client.put(  # recommendations need a rating first (issue 13: no starter picks used up)
        f"/api/v1/me/ratings/{catalogue['Radiohead']}",
        json={"rating": 9},
        headers={"X-CSRFToken": token},
    )
    assert rated.status_code in (200, 201)
    batches = []
    for _ in range(BATCHES_PER_PAGE + 1):
        answer = client.post("/api/v1/me/recommendations?n=2", headers={"X-CSRFToken": token})
        batches.append([item["artist"]["id"] for item in answer.get_json()["recommendations"]])

    first = client.get("/recommendations").get_data(as_text=True)
    second = client.get("/recommendations?page=2").get_data(as_text=True)

    assert first.count('<li class="batch">') == BATCHES_PER_PAGE
    assert second.count('<li class="batch">') == 1
    assert "Page 1 of 2" in first and 'rel="next" href="/recommendations?page=2' in first
    # Newest batch first and open; the oldest alone on page 2.
    shown = [int(i) for i in re.findall(r'<li class="card" data-artist-id="(\d+)"', first)]
    assert shown[:2] == sorted(batches[-1], key=shown.index)
    assert set(shown[:2]) == set(batches[-1])
    assert first.count("<details open>") == 1
    assert set(map(int, re.findall(r'data-artist-id="(\d+)"', second))) == set(batches[0])
    # The date is the batch's heading, never a line on a card.
    assert 'class="when"' not in first


def test_my_ratings_says_where_a_rating_came_from_only_when_it_helps(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    user_id, token = api_signup(client)
    client.put(f"/api/v1/me/ratings/{catalogue['Muse']}", json={"rating": 4}, headers=bearer(token))
    with db_engine.begin() as connection:
        connection.execute(
            insert(Rating).values(
                user_id=user_id, artist_id=catalogue["Air"], rating=8, source="spotify"
            )
        )

    page = client.get("/ratings", headers=bearer(token)).get_data(as_text=True)

    assert "manual" not in page
    assert page.count("From Spotify") == 1


def test_my_ratings_sort_by_rating_name_and_date(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _user_id, token = api_signup(client)
    for name, value in (("Muse", 4), ("Air", 9), ("Radiohead", 6)):
        client.put(
            f"/api/v1/me/ratings/{catalogue[name]}", json={"rating": value}, headers=bearer(token)
        )

    def order(sort: str) -> list[str]:
        page = client.get(f"/ratings?sort={sort}", headers=bearer(token)).get_data(as_text=True)
        return re.findall(r'<a class="name" href="/artists/\d+">([^<]+)</a>', page)

    assert order("rating") == ["Air", "Radiohead", "Muse"]
    assert order("name") == ["Air", "Muse", "Radiohead"]
    assert order("date") == ["Radiohead", "Air", "Muse"]
    assert order("nonsense") == order("date")


def test_artist_cards_have_a_generated_avatar(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    from musicrec.web.avatars import avatar_colour

    page = client.get(f"/artists/{catalogue['Pink Floyd']}").get_data(as_text=True)

    assert (
        f'<span class="avatar avatar-{avatar_colour("Pink Floyd")}" aria-hidden="true">PF</span>'
        in page
    )
