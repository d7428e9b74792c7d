"""Client errors found by the attack run (issue 14): each must be a 4xx naming the problem.

Each test is marked xfail(strict=True) while its defect is open on this branch: when the fix
lands the test passes, strict xfail turns that into a failure, and the marker must go.
"""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import PASSWORD, api_signup, bearer, csrf_from, page_login, unique_name

pytestmark = pytest.mark.security


def _open(defect: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"issue 14 {defect}: open on this branch")


@_open("defect 3 (NUL byte: PostgreSQL DataError answered 503)")
def test_a_nul_byte_in_a_login_is_a_400_naming_the_field(client: FlaskClient) -> None:
    answer = client.post("/api/v1/auth/token", json={"username": "a\x00b", "password": PASSWORD})

    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "username"


@_open("defects 3 and 6 (control characters in artist names)")
def test_a_control_character_in_an_artist_name_is_a_400_naming_the_field(
    client: FlaskClient,
) -> None:
    _, token = api_signup(client)

    for name in ("Nul\x00Band", "Bidi\u202eBand", "Zero\u200bWidth"):
        answer = client.post("/api/v1/artists", json={"name": name}, headers=bearer(token))
        assert answer.status_code == 400, name
        assert answer.get_json()["error"]["field"] == "name"


@_open("defect 4 (RecursionError: 500)")
def test_deeply_nested_json_is_a_400(client: FlaskClient) -> None:
    body = "[" * 1000 + "]" * 1000

    answer = client.post(
        "/api/v1/auth/token", data=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400


@_open("defect 8 (9.0 refused although JSON Schema calls it an integer)")
def test_an_integral_float_rating_is_accepted(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _, token = api_signup(client)

    answer = client.put(
        f"/api/v1/me/ratings/{catalogue['Air']}",
        data=json.dumps({"rating": 9.0}),
        headers={**bearer(token), "Content-Type": "application/json"},
    )

    assert answer.status_code == 201
    assert answer.get_json()["rating"] == 9


@_open("defect 8 (405 without Allow)")
def test_a_405_names_the_allowed_methods(client: FlaskClient) -> None:
    answer = client.delete("/api/v1/artists")

    assert answer.status_code == 405
    assert set(answer.headers.get("Allow", "").replace(" ", "").split(",")) >= {"GET", "POST"}


@_open("defect 9 (no MAX_CONTENT_LENGTH)")
def test_a_huge_body_is_refused_before_it_is_read(client: FlaskClient) -> None:
    answer = client.post(
        "/api/v1/auth/token",
        data=b'{"username": "' + b"x" * (20 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 413


@_open("defect 9 (the session cookie holding the CSRF secret is not rotated)")
def test_the_csrf_secret_changes_at_log_in_and_log_out(client: FlaskClient) -> None:
    username = unique_name()
    api_signup(client, username)
    before = csrf_from(client, "/login")

    assert page_login(client, username).status_code == 302
    signed_in = csrf_from(client, "/")
    client.post("/logout", data={"csrf_token": signed_in})
    after = csrf_from(client, "/login")

    assert len({before, signed_in, after}) == 3
