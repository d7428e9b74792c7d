"""The pages over HTTP, as a browser without JavaScript sees them."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.web.conftest import (
    PASSWORD,
    api_signup,
    csrf_from,
    page_login,
    page_signup,
    unique_name,
)


def test_home_welcomes_visitors_with_the_catalogue_size(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page = client.get("/").get_data(as_text=True)

    assert "20 artists" in page
    assert "Sign up" in page


def test_signup_logs_in_and_the_home_page_knows_the_user(client: FlaskClient) -> None:
    username = page_signup(client)

    page = client.get("/").get_data(as_text=True)

    assert f"Welcome back, {username}" in page
    assert "You have rated <strong data-rated-count>0</strong> artists" in page


def test_signup_shows_an_error_per_field_and_keeps_what_was_typed(client: FlaskClient) -> None:
    api_signup(client, "taken")
    token = csrf_from(client, "/signup")

    response = client.post(
        "/signup",
        data={
            "username": "TAKEN",
            "email": "not-an-email",
            "password": "short",
            "confirmation": "short",
            "csrf_token": token,
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This username is taken." in page
    assert 'id="email-error"' in page
    assert "Use at least 8 characters." in page
    assert 'value="TAKEN"' in page


def test_signup_refuses_a_mismatched_confirmation(client: FlaskClient) -> None:
    token = csrf_from(client, "/signup")
    name = unique_name()

    response = client.post(
        "/signup",
        data={
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "confirmation": PASSWORD + "!",
            "csrf_token": token,
        },
    )

    assert response.status_code == 400
    assert "The two passwords differ." in response.get_data(as_text=True)


def test_email_is_unique_whatever_its_case(client: FlaskClient) -> None:
    api_signup(client, "first")

    response = client.post(
        "/api/v1/auth/signup",
        json={"username": "second", "email": "FIRST@Example.com", "password": PASSWORD},
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "email"


def test_log_in_with_username_or_email_in_any_case(app, client: FlaskClient) -> None:
    api_signup(client, "Grace")

    by_name = page_login(app.test_client(), "grace")
    by_email = page_login(app.test_client(), "GRACE@example.com")

    assert by_name.status_code == by_email.status_code == 302


def test_a_guarded_page_asks_a_new_visitor_to_log_in_and_returns_there(
    client: FlaskClient,
) -> None:
    api_signup(client, "returning")

    prompt = client.get("/ratings")
    after_login = page_login(client, "returning", next_path="/ratings")

    assert prompt.status_code == 401
    assert "Please log in to see this page." in prompt.get_data(as_text=True)
    assert after_login.headers["Location"] == "/ratings"


def test_an_expired_session_is_told_so_and_logged_out(client: FlaskClient) -> None:
    page_signup(client)
    client.set_cookie("musicrec_token", "expired.or.forged", path="/")

    response = client.get("/rate")

    assert response.status_code == 401
    assert "Your session expired" in response.get_data(as_text=True)
    assert "musicrec_token=;" in response.headers.get("Set-Cookie", "")


def test_logout_ends_the_session(client: FlaskClient) -> None:
    page_signup(client)

    response = client.post("/logout", data={"csrf_token": csrf_from(client, "/")})

    assert response.status_code == 302
    assert client.get("/rate").status_code == 401


def test_rate_page_suggests_popular_artists_until_enough_are_rated(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page_signup(client)

    page = client.get("/rate").get_data(as_text=True)

    assert "Popular artists to get you started" in page
    # Radiohead is rated by all three starter users, Iron Maiden by none.
    assert "Radiohead" in page and "Iron Maiden" not in page
    assert '<label for="artist-search">' in page


def test_my_ratings_lists_what_i_rated_with_its_value(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page_signup(client)
    token = csrf_from(client, "/rate")
    client.put(
        f"/api/v1/me/ratings/{catalogue['Björk']}",
        json={"rating": 9},
        headers={"X-CSRFToken": token},
    )

    page = client.get("/ratings").get_data(as_text=True)

    assert "Björk" in page
    assert re.search(r'data-value="9" aria-pressed="true"', page)
    assert len(re.findall(r'aria-pressed="true"', page)) == 1
    assert "You have rated <strong data-rated-count>1</strong> artists." in page


def test_artist_page_links_to_last_fm(client: FlaskClient, catalogue: dict[str, int]) -> None:
    page = client.get(f"/artists/{catalogue['Sigur Rós']}").get_data(as_text=True)

    assert "https://www.last.fm/music/Sigur+R%C3%B3s" in page
    assert client.get("/artists/999999").status_code == 404


def test_recommendations_page_lists_past_recommendations_with_dates(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page_signup(client)
    token = csrf_from(client, "/recommendations")
    client.put(  # recommendations need a rating first (409 no_ratings)
        f"/api/v1/me/ratings/{catalogue['Muse']}",
        json={"rating": 8},
        headers={"X-CSRFToken": token},
    )
    first = client.post("/api/v1/me/recommendations?n=3", headers={"X-CSRFToken": token})

    page = client.get("/recommendations").get_data(as_text=True)

    assert first.status_code == 201
    for item in first.get_json()["recommendations"]:
        assert item["artist"]["name"].replace("'", "&#39;") in page
    assert "<time datetime=" in page


def test_onboarding_says_how_many_ratings_are_enough_and_why(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    from musicrec.services.recommending import ENOUGH_RATINGS

    page_signup(client)

    for path in ("/", "/rate", "/recommendations"):
        page = client.get(path).get_data(as_text=True)
        # One short line (issue 21): no study retold, no "at least" beside it to contradict it.
        shown = page.count(f"About {ENOUGH_RATINGS} ratings give recommendations")
        assert shown == (0 if path == "/recommendations" else 1), path  # it asks to rate first
        assert "in our tests" not in page and "Rate at least" not in page, path
