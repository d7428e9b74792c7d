"""Query parameters of the API: read with the bounds their models declare, refused with 400
naming the parameter and saying what is allowed (web/api/__init__.py ``parse_query``)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
LONG = "a" * 201


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("limit=ten", "limit", "limit must be a whole number."),
        ("limit=0", "limit", "limit must be from 1 to 50."),
        ("limit=51", "limit", "limit must be from 1 to 50."),
        (f"q={LONG}", "q", "q must be at most 200 characters."),
        (f"limit=0&q={LONG}", "limit", "limit must be from 1 to 50."),
    ],
)
def test_search_parameters_out_of_bounds_are_refused(
    client: FlaskClient, query: str, field: str, message: str
) -> None:
    response = client.get(f"/api/v1/artists?{query}")

    assert response.status_code == 400
    assert response.get_json() == {
        "error": {"code": "invalid_input", "field": field, "message": message}
    }


@SQLITE_ONLY
def test_search_words_are_trimmed_before_their_length_is_checked(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    padded = client.get("/api/v1/artists?limit=2&q=" + " " * 300)
    trimmed = client.get("/api/v1/artists?q=%20radiohead%20")

    assert padded.status_code == 200 and len(padded.get_json()["artists"]) == 2
    assert trimmed.get_json()["artists"][0]["name"] == "Radiohead"


@SQLITE_ONLY
def test_similar_count_is_bounded(client: FlaskClient, catalogue: dict[str, int]) -> None:
    response = client.get(f"/api/v1/artists/{catalogue['Radiohead']}/similar?n=51")

    assert response.status_code == 400
    assert response.get_json()["error"] == {
        "code": "invalid_input",
        "field": "n",
        "message": "n must be from 1 to 50.",
    }


def test_a_query_parameter_no_operation_declares_is_refused(client: FlaskClient) -> None:
    """The document allows no other query parameter (schemathesis: a request with one was
    answered 200)."""
    answer = client.get("/api/v1/artists?q=radio&%C3%9F=null")

    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "ß"
    assert client.get("/api/v1/artists?q=radio&limit=3").status_code == 200
