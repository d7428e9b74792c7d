"""Properties of sign-up and log-in over generated input: never a 5xx, never a log-in without
the right password (the API and the log-in form, on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import assume, given
from hypothesis import strategies as st

from musicrec.services.passwords import normalise
from tests.security.strategies import BOUNDED, HASHING, JSON, TEXT, cached_account
from tests.web.conftest import PASSWORD, csrf_from

pytestmark = pytest.mark.security


@BOUNDED
@given(username=TEXT, email=TEXT, password=TEXT)
def test_sign_up_answers_a_client_error_or_an_account(
    client: FlaskClient, username: str, email: str, password: str
) -> None:
    answer = client.post(
        "/api/v1/auth/signup", json={"username": username, "email": email, "password": password}
    )

    assert answer.status_code in (201, 400, 409, 422), answer.get_data(as_text=True)


@HASHING
@given(password=TEXT)
def test_a_wrong_password_never_logs_in(client: FlaskClient, password: str) -> None:
    assume(normalise(password) != normalise(PASSWORD))
    owner, _ = cached_account(client, "owner")

    api = client.post("/api/v1/auth/token", json={"username": owner, "password": password})
    form = client.post(
        "/login",
        data={"login": owner, "password": password, "csrf_token": csrf_from(client, "/login")},
    )

    assert api.status_code in (400, 401)
    assert form.status_code in (400, 401)
    assert "musicrec_token=" not in form.headers.get("Set-Cookie", "")


@HASHING
@given(login=TEXT)
def test_the_right_password_logs_in_only_the_account_named(client: FlaskClient, login: str) -> None:
    owner, _ = cached_account(client, "owner")

    answer = client.post("/api/v1/auth/token", json={"username": login, "password": PASSWORD})

    names_owner = login.strip().casefold() in (owner.casefold(), f"{owner}@example.com")
    assert answer.status_code < 500, answer.get_data(as_text=True)
    assert (answer.status_code == 200) == names_owner or answer.status_code == 400


@BOUNDED
@given(body=JSON)
def test_any_json_body_gets_no_server_error(client: FlaskClient, body: object) -> None:
    _, token = cached_account(client, "sender")
    headers = {"Authorization": f"Bearer {token}"}

    answers = [
        client.post("/api/v1/auth/token", json=body),
        client.post("/api/v1/auth/signup", json=body),
        client.post("/api/v1/artists", json=body, headers=headers),
    ]

    assert all(answer.status_code < 500 for answer in answers), [a.status_code for a in answers]


@BOUNDED
@given(raw=st.binary(max_size=200))
def test_any_bytes_as_a_json_body_get_no_server_error(client: FlaskClient, raw: bytes) -> None:
    answer = client.post(
        "/api/v1/auth/token", data=raw, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code in (400, 401), answer.get_data(as_text=True)
