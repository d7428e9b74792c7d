"""Client mistakes get 4xx answers naming the problem, never a 5xx (hardening issue, items 3, 4,
7, 8, 9): NUL bytes, deep JSON, races on one rating, integral floats, 405 Allow, big bodies,
unprintable artist names, the session cookie rotated at log-in and log-out."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, api_signup, bearer, csrf_from, page_login, unique_name


@pytest.mark.parametrize("login", ["ada\x00", "\x00", "ad\x00a@example.com"])
def test_a_nul_byte_in_a_login_is_a_400_naming_the_field(client: FlaskClient, login: str) -> None:
    api_signup(client, "ada")
    answer = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "username"


def test_a_nul_byte_in_the_log_in_form_is_a_failed_log_in_not_an_error(
    app: Flask,
) -> None:
    from tests.web.conftest import page_login

    api_signup(app.test_client(), "bea")
    answer = page_login(app.test_client(), "be\x00a")
    assert answer.status_code == 401


@pytest.mark.parametrize("name", ["Bad\x00Name", "Evil\u202eeman", "Zero\u200bwidth", "Bell\x07"])
def test_artist_names_with_control_or_format_characters_are_refused(
    client: FlaskClient, name: str
) -> None:
    _user, token = api_signup(client)
    answer = client.post("/api/v1/artists", json={"name": name}, headers=bearer(token))
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "name"


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400(client: FlaskClient, depth: int) -> None:
    body = "[" * depth + "]" * depth
    for path in ("/api/v1/auth/token", "/api/v1/auth/signup"):
        answer = client.post(path, data=body, content_type="application/json")
        assert answer.status_code == 400, (path, depth)
        assert answer.get_json()["error"]["code"] == "invalid_body"


def test_nesting_within_the_limit_is_parsed_as_usual(client: FlaskClient) -> None:
    body = '{"username": "x", "password": "y", "extra": ' + "[" * 30 + "]" * 30 + "}"
    answer = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert answer.get_json()["error"]["code"] == "invalid_input"  # parsed: an unknown field


def test_a_body_over_the_size_limit_is_a_413(client: FlaskClient) -> None:
    body = '{"username": "' + "x" * (3 * 1024 * 1024) + '"}'
    answer = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert answer.status_code == 413


def test_an_integral_float_rating_counts_as_an_integer(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _user, token = api_signup(client)
    artist = catalogue["Air"]
    stored = client.put(f"/api/v1/me/ratings/{artist}", json={"rating": 9.0}, headers=bearer(token))
    fraction = client.put(
        f"/api/v1/me/ratings/{artist}", json={"rating": 9.5}, headers=bearer(token)
    )
    assert stored.status_code == 201 and stored.get_json()["rating"] == 9
    assert fraction.status_code == 400 and fraction.get_json()["error"]["field"] == "rating"


def test_a_405_names_the_allowed_methods(client: FlaskClient) -> None:
    answer = client.delete("/api/v1/artists")
    assert answer.status_code == 405
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}
    assert answer.get_json()["error"]["code"] == "method_not_allowed"


def test_two_requests_rating_the_same_artist_at_once_both_succeed(
    app: Flask, catalogue: dict[str, int]
) -> None:
    _user, token = api_signup(app.test_client())
    artist = catalogue["Muse"]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def put(value: int) -> None:
        client = app.test_client()
        barrier.wait()
        answer = client.put(
            f"/api/v1/me/ratings/{artist}", json={"rating": value}, headers=bearer(token)
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=put, args=(1 + number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    mine = app.test_client().get("/api/v1/me/ratings", headers=bearer(token)).get_json()
    assert sorted(statuses) and set(statuses) <= {200, 201}, statuses
    assert statuses.count(201) >= 1
    assert [r["artist"]["id"] for r in mine["ratings"]] == [artist]


def test_the_session_cookie_and_its_csrf_secret_are_renewed_at_log_in_and_log_out(
    client: FlaskClient,
) -> None:
    username = unique_name()
    api_signup(client, username)
    stale_token = csrf_from(client, "/login")
    before = client.get_cookie("session")
    page_login(client, username)
    fresh_token = csrf_from(client)  # the first page after log-in makes a new secret
    after_login = client.get_cookie("session")

    refused = client.post("/logout", data={"csrf_token": stale_token})
    accepted = client.post("/logout", data={"csrf_token": fresh_token})
    after_logout = client.get_cookie("session")
    replayed = client.post("/logout", data={"csrf_token": fresh_token})

    assert before is not None and after_login is not None
    assert after_login.value != before.value
    assert refused.status_code == 400  # the pre-log-in secret is gone
    assert accepted.status_code == 302
    assert after_logout is None or after_logout.value != after_login.value
    assert replayed.status_code == 400  # the secret went with the session


def test_behind_a_proxy_the_forwarded_address_is_the_client(
    app_settings,
    db_engine,  # type: ignore[no-untyped-def]
) -> None:
    from flask import request

    from tests.web.test_security_support import built_app

    seen: list[str | None] = []
    with built_app(app_settings, proxy_hops=1) as proxied:
        proxied.before_request(lambda: seen.append(request.remote_addr))
        proxied.test_client().get("/api/v1/health", headers={"X-Forwarded-For": "198.51.100.9"})
    with built_app(app_settings) as direct:
        direct.before_request(lambda: seen.append(request.remote_addr))
        direct.test_client().get("/api/v1/health", headers={"X-Forwarded-For": "198.51.100.9"})
    assert seen == ["198.51.100.9", "127.0.0.1"]
