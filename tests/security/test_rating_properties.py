"""Properties of rating over generated values: a whole number 1..10 is stored, anything else is
a 400, nothing is a 5xx, and nobody changes another user's rating."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.security.strategies import BOUNDED, JSON, cached_account
from tests.web.conftest import bearer

pytestmark = pytest.mark.security

RATING_VALUES = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | JSON
)


@BOUNDED
@given(value=RATING_VALUES, pick=st.integers(min_value=0, max_value=19))
def test_only_whole_numbers_1_to_10_are_stored(
    client: FlaskClient, catalogue: dict[str, int], value: object, pick: int
) -> None:
    # Integral floats (9.0) are pinned by tests/web/test_client_errors.py (issue 14, defect 8).
    assume(not (isinstance(value, float) and value.is_integer()))
    _, token = cached_account(client, "rater")
    artist_id = sorted(catalogue.values())[pick]
    client.delete(f"/api/v1/me/ratings/{artist_id}", headers=bearer(token))

    answer = client.put(
        f"/api/v1/me/ratings/{artist_id}", json={"rating": value}, headers=bearer(token)
    )

    valid = type(value) is int and 1 <= value <= 10
    assert answer.status_code in ((201,) if valid else (400,)), answer.get_data(as_text=True)
    mine = client.get("/api/v1/me/ratings", headers=bearer(token)).get_json()["ratings"]
    assert [row["rating"] for row in mine if row["artist"]["id"] == artist_id] == (
        [value] if valid else []
    )


@BOUNDED
@given(artist=st.integers(min_value=-(2**40), max_value=2**40) | st.text(max_size=20))
def test_any_artist_in_the_path_gets_no_server_error(client: FlaskClient, artist: object) -> None:
    _, token = cached_account(client, "rater")

    answer = client.put(f"/api/v1/me/ratings/{artist}", json={"rating": 5}, headers=bearer(token))

    assert answer.status_code in (201, 400, 404, 405), answer.get_data(as_text=True)


@BOUNDED
@given(rating=st.integers(min_value=1, max_value=10))
def test_nobody_changes_another_users_rating(
    client: FlaskClient, catalogue: dict[str, int], rating: int
) -> None:
    artist_id = catalogue["Radiohead"]
    _, owner = cached_account(client, "owner")
    _, other = cached_account(client, "other")
    client.put(f"/api/v1/me/ratings/{artist_id}", json={"rating": 3}, headers=bearer(owner))

    client.put(f"/api/v1/me/ratings/{artist_id}", json={"rating": rating}, headers=bearer(other))
    client.delete(f"/api/v1/me/ratings/{artist_id}", headers=bearer(other))

    mine = client.get("/api/v1/me/ratings", headers=bearer(owner)).get_json()["ratings"]
    assert [(row["artist"]["id"], row["rating"]) for row in mine] == [(artist_id, 3)]
