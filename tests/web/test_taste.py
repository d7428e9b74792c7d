"""The taste controls over HTTP: not for me, discover vs familiar, no starter picks used up,
export and import, and the two auth defects (sign-up's expires_at, a session ended elsewhere)."""

from __future__ import annotations

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from musicrec.db.models import Dislike, Rating, Recommendation
from musicrec.engine.discovery import DEFAULT_DISCOVERY
from tests.factories import seed_two_tastes, train_in_transaction
from tests.web.conftest import api_signup, bearer, csrf_from, page_signup
from tests.web.test_security_support import (
    client_with_cookie,
    count_where,
    post_form,
    token_cookie,
)


def _rate(client: FlaskClient, token: str, artist_id: int, value: int = 9) -> None:
    response = client.put(
        f"/api/v1/me/ratings/{artist_id}", json={"rating": value}, headers=bearer(token)
    )
    assert response.status_code in (200, 201), response.get_json()


# -- not for me --------------------------------------------------------------------------------


def test_not_for_me_is_listed_undone_and_idempotent(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _user, token = api_signup(client)
    muse = catalogue["Muse"]

    first = client.put(f"/api/v1/me/dislikes/{muse}", headers=bearer(token))
    again = client.put(f"/api/v1/me/dislikes/{muse}", headers=bearer(token))
    listed = client.get("/api/v1/me/dislikes", headers=bearer(token)).get_json()
    undone = client.delete(f"/api/v1/me/dislikes/{muse}", headers=bearer(token))
    undone_again = client.delete(f"/api/v1/me/dislikes/{muse}", headers=bearer(token))
    after = client.get("/api/v1/me/dislikes", headers=bearer(token)).get_json()

    assert (first.status_code, again.status_code) == (204, 204)
    assert [a["id"] for a in listed["artists"]] == [muse]
    assert listed["artists"][0]["name"] == "Muse"
    assert (undone.status_code, undone_again.status_code) == (204, 204)
    assert after == {"artists": []}


def test_not_for_me_needs_a_user_and_a_real_artist(client: FlaskClient) -> None:
    _user, token = api_signup(client)

    anonymous = client.put("/api/v1/me/dislikes/1")
    unknown = client.put("/api/v1/me/dislikes/999999", headers=bearer(token))

    assert anonymous.status_code == 401
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "not_found"


def test_a_disliked_artist_is_never_recommended_even_by_popularity(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    _user, token = api_signup(client)
    _rate(client, token, catalogue["Metallica"])
    most_popular = client.get("/api/v1/artists?limit=3").get_json()["artists"]
    for artist in most_popular:
        client.put(f"/api/v1/me/dislikes/{artist['id']}", headers=bearer(token))

    batch = client.post("/api/v1/me/recommendations?n=10", headers=bearer(token)).get_json()

    picked = {r["artist"]["id"] for r in batch["recommendations"]}
    assert batch["model_version"] == "popularity"
    assert picked and not picked & {a["id"] for a in most_popular}


def test_a_disliked_artist_is_neither_recommended_nor_listed_as_similar(
    app: Flask, client: FlaskClient, db_engine: Engine
) -> None:
    tastes = seed_two_tastes(db_engine)
    settings = app.config["MUSICREC_SETTINGS"]
    train_in_transaction(db_engine, settings.model_dir, factors=4, iterations=10)
    _user, token = api_signup(client)
    _rate(client, token, tastes[0][0])
    _rate(client, token, tastes[0][1])
    before = client.get(f"/api/v1/artists/{tastes[0][0]}/similar?n=3", headers=bearer(token))
    hidden = before.get_json()["artists"][0]["id"]
    client.put(f"/api/v1/me/dislikes/{hidden}", headers=bearer(token))

    similar = client.get(f"/api/v1/artists/{tastes[0][0]}/similar?n=3", headers=bearer(token))
    others = client.get(f"/api/v1/artists/{tastes[0][0]}/similar?n=3")
    batch = client.post("/api/v1/me/recommendations?n=20", headers=bearer(token)).get_json()

    assert hidden not in {a["id"] for a in similar.get_json()["artists"]}
    assert len(similar.get_json()["artists"]) == 3
    assert hidden in {a["id"] for a in others.get_json()["artists"]}  # only hidden from the user
    assert batch["model_version"] != "popularity"
    assert hidden not in {r["artist"]["id"] for r in batch["recommendations"]}


# -- discover vs familiar -----------------------------------------------------------------------


def test_discovery_has_a_default_and_is_remembered(client: FlaskClient) -> None:
    _user, token = api_signup(client)

    default = client.get("/api/v1/me/settings", headers=bearer(token))
    saved = client.put("/api/v1/me/settings", json={"discovery": 0.8}, headers=bearer(token))
    whole = client.put("/api/v1/me/settings", json={"discovery": 1}, headers=bearer(token))
    read = client.get("/api/v1/me/settings", headers=bearer(token))

    assert default.status_code == 200
    assert default.get_json() == {"settings": {"discovery": DEFAULT_DISCOVERY}}
    assert saved.status_code == 200 and saved.get_json() == {"settings": {"discovery": 0.8}}
    assert whole.get_json() == {"settings": {"discovery": 1.0}}
    assert read.get_json() == {"settings": {"discovery": 1.0}}


def test_discovery_outside_0_to_1_is_refused(client: FlaskClient) -> None:
    _user, token = api_signup(client)

    for body in ({"discovery": 1.5}, {"discovery": -0.1}, {"discovery": "high"}, {"other": 1}):
        response = client.put("/api/v1/me/settings", json=body, headers=bearer(token))
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "invalid_input"
    assert client.put("/api/v1/me/settings", json={"discovery": 0.5}).status_code == 401


def test_the_remembered_discovery_reaches_the_ranking(
    app: Flask, client: FlaskClient, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The setting's effect on the ranking is the engine's (tests/engine/test_discovery.py);
    here, that each user's stored setting is the one their recommendations are ranked with."""
    from musicrec.engine import model

    tastes = seed_two_tastes(db_engine)
    settings = app.config["MUSICREC_SETTINGS"]
    train_in_transaction(db_engine, settings.model_dir, factors=4, iterations=10)
    seen: list[float] = []
    check = model.check_discovery

    def spy(discovery: float) -> float:
        seen.append(discovery)
        return check(discovery)

    monkeypatch.setattr(model, "check_discovery", spy)
    for discovery in (None, 0.0, 0.9):
        _user, token = api_signup(client)
        _rate(client, token, tastes[0][0])
        if discovery is not None:
            client.put("/api/v1/me/settings", json={"discovery": discovery}, headers=bearer(token))
        made = client.post("/api/v1/me/recommendations?n=3", headers=bearer(token))
        assert made.status_code == 201

    assert seen == [DEFAULT_DISCOVERY, 0.0, 0.9]


# -- no starter picks used up -------------------------------------------------------------------


def test_no_ratings_answers_409_and_stores_nothing(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    user_id, token = api_signup(client)

    response = client.post("/api/v1/me/recommendations?n=5", headers=bearer(token))

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_ratings"
    assert count_where(db_engine, Recommendation, user_id=user_id) == 0


def test_the_recommendations_page_asks_to_rate_first(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page_signup(client)

    page = client.get("/recommendations").get_data(as_text=True)

    assert "Rate a few artists first" in page
    assert 'id="starter-artists"' in page and "Radiohead" in page
    assert 'id="discovery"' in page


# -- export and import --------------------------------------------------------------------------


def _some_taste(client: FlaskClient, token: str, catalogue: dict[str, int]) -> None:
    _rate(client, token, catalogue["Air"], 8)
    _rate(client, token, catalogue["Keane"], 3)
    client.put(f"/api/v1/me/dislikes/{catalogue['Coldplay']}", headers=bearer(token))
    client.put("/api/v1/me/settings", json={"discovery": 0.5}, headers=bearer(token))
    assert client.post("/api/v1/me/recommendations?n=2", headers=bearer(token)).status_code == 201


def test_export_as_json_and_csv(client: FlaskClient, catalogue: dict[str, int]) -> None:
    _user, token = api_signup(client)
    _some_taste(client, token, catalogue)

    exported = client.get("/api/v1/me/export", headers=bearer(token))
    as_csv = client.get("/api/v1/me/export?format=csv", headers=bearer(token))

    data = exported.get_json()
    assert set(data) == {"ratings", "dislikes", "recommendations", "settings"}
    assert {(r["artist"], r["rating"]) for r in data["ratings"]} == {("Air", 8), ("Keane", 3)}
    assert [d["artist_id"] for d in data["dislikes"]] == [catalogue["Coldplay"]]
    assert len(data["recommendations"]) == 2
    assert data["settings"] == {"discovery": 0.5}
    assert "attachment" in exported.headers["Content-Disposition"]
    assert as_csv.mimetype == "text/csv"
    assert 'filename="musicrec-export.csv"' in as_csv.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(as_csv.get_data(as_text=True))))
    kinds = [row["kind"] for row in rows]
    assert kinds.count("rating") == 2 and kinds.count("not_for_me") == 1
    assert kinds.count("recommendation") == 2 and kinds.count("setting") == 1
    assert client.get("/api/v1/me/export?format=xml", headers=bearer(token)).status_code == 400


def test_an_export_imports_into_another_account_twice_alike(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    _user, token = api_signup(client)
    _some_taste(client, token, catalogue)
    as_json = client.get("/api/v1/me/export", headers=bearer(token)).get_json()
    as_csv = client.get("/api/v1/me/export?format=csv", headers=bearer(token)).get_data()
    other_id, other = api_signup(client)
    third_id, third = api_signup(client)

    first = client.post("/api/v1/me/import", json=as_json, headers=bearer(other))
    second = client.post("/api/v1/me/import", json=as_json, headers=bearer(other))
    from_csv = client.post(
        "/api/v1/me/import",
        data=as_csv,
        headers={**bearer(third), "Content-Type": "text/csv"},
    )

    # Another account's export is not signed for this one: its ratings never train.
    imported = {"ratings": 2, "dislikes": 1, "unchanged": 0, "not_for_training": 2}
    assert first.status_code == 200 and first.get_json() == imported
    assert second.status_code == 200
    assert second.get_json() == {**imported, "ratings": 0, "unchanged": 2}
    assert from_csv.status_code == 200 and from_csv.get_json() == imported
    for user_id in (other_id, third_id):
        assert count_where(db_engine, Rating, user_id=user_id) == 2
        assert count_where(db_engine, Dislike, user_id=user_id) == 1
        assert count_where(db_engine, Recommendation, user_id=user_id) == 0


def test_a_bad_import_names_the_line_and_imports_nothing(
    client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    user_id, token = api_signup(client)
    text = (
        "kind,artist_id,artist,value,source,model_version,at\n"
        f"rating,{catalogue['Air']},Air,8,manual,,\n"
        f"rating,{catalogue['Muse']},Muse,11,manual,,\n"
    )
    unknown_artist = {"ratings": [{"artist_id": 999999, "rating": 5}]}

    bad_csv = client.post(
        "/api/v1/me/import", data=text, headers={**bearer(token), "Content-Type": "text/csv"}
    )
    bad_json = client.post("/api/v1/me/import", json=unknown_artist, headers=bearer(token))
    not_an_export = client.post(
        "/api/v1/me/import", data="hello", headers={**bearer(token), "Content-Type": "text/plain"}
    )

    assert bad_csv.status_code == 400
    assert bad_csv.get_json()["error"]["field"] == "line 3"
    assert bad_json.status_code == 404  # a well-formed id that names no artist
    assert bad_json.get_json()["error"]["field"] == "ratings[0]"
    assert "999999" in bad_json.get_json()["error"]["message"]
    assert not_an_export.status_code == 400
    assert count_where(db_engine, Rating, user_id=user_id) == 0


def test_the_account_page_offers_export_and_import(client: FlaskClient) -> None:
    page_signup(client)

    page = client.get("/account").get_data(as_text=True)

    assert "/api/v1/me/export?format=csv" in page and "/api/v1/me/export?format=json" in page
    assert 'id="import-form"' in page


def test_my_ratings_lists_not_for_me_with_undo(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    page_signup(client)
    marked = client.put(
        f"/api/v1/me/dislikes/{catalogue['Keane']}", headers={"X-CSRFToken": csrf_from(client)}
    )

    page = client.get("/ratings").get_data(as_text=True)

    assert marked.status_code == 204
    assert 'id="my-dislikes"' in page and "Keane" in page and ">Undo<" in page


# -- the two auth defects -----------------------------------------------------------------------


def test_signup_answers_when_the_token_expires(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/auth/signup",
        json={"username": "expiry1", "email": "expiry1@example.com", "password": "a long pass 123"},
    )

    assert response.status_code == 201
    assert response.get_json()["expires_at"]


def test_a_session_ended_by_a_password_change_says_it_ended(app: Flask) -> None:
    browser = app.test_client()
    page_signup(browser)
    other = app.test_client()
    login = token_cookie(browser)
    assert login is not None
    elsewhere = client_with_cookie(app, login)
    assert elsewhere.get("/rate").status_code == 200

    changed = post_form(
        browser,
        "/account/password",
        {"current_password": "a long enough passphrase", "new_password": "another long phrase"},
    )
    page = elsewhere.get("/rate")

    assert changed.status_code == 302
    assert page.status_code == 401
    text = page.get_data(as_text=True)
    assert "Your session ended" in text and "expired" not in text
    assert other.get("/rate").status_code == 401  # never signed in: asked to log in
    assert "Please log in" in other.get("/rate").get_data(as_text=True)


def test_an_import_reads_whole_floats_as_whole_numbers(
    client: FlaskClient, catalogue: dict[str, int]
) -> None:
    """JSON Schema counts 7.0 as an integer, and the document says integer (schemathesis)."""
    _user, token = api_signup(client)
    body = {
        "ratings": [{"artist_id": float(catalogue["Air"]), "rating": 7.0}],
        "dislikes": [{"artist_id": float(catalogue["Muse"])}],
    }

    answer = client.post("/api/v1/me/import", json=body, headers=bearer(token))

    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"ratings": 1, "dislikes": 1, "unchanged": 0, "not_for_training": 1}
