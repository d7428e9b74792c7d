"""Answer models of the API (web/api/answers.py): built from the services' objects, dumped to
the JSON the API has always sent."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

from flask import Flask

from musicrec.services.catalogue import ArtistView
from musicrec.services.ratings import RatingView
from musicrec.services.recommending import Batch, Suggestion
from musicrec.web.api.answers import RatingChange, RecommendationBatch, answer
from musicrec.web.api.error_answers import error_response

RADIOHEAD = ArtistView(1, "Radiohead", "https://www.last.fm/music/Radiohead")
UNKNOWN = ArtistView(2, "Nobody", None)


def test_a_rating_is_read_from_the_service_view_with_an_isoformat_timestamp() -> None:
    view = RatingView(RADIOHEAD, 8, "manual", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))

    body = RatingChange.model_validate({**asdict(view), "rated_count": 1}).model_dump(mode="json")

    assert body == {
        "artist": {"id": 1, "name": "Radiohead", "lastfm_url": RADIOHEAD.lastfm_url},
        "rating": 8,
        "source": "manual",
        "updated_at": "2026-01-02T03:04:05+00:00",
        "rated_count": 1,
    }


def test_reasons_name_artists_without_their_links_and_null_links_are_kept() -> None:
    batch = Batch("v1", [Suggestion(UNKNOWN, 0.5, [RADIOHEAD])])

    with Flask(__name__).app_context():
        response, status = answer(RecommendationBatch.model_validate(batch), 201)

    assert status == 201
    assert response.get_json() == {
        "model_version": "v1",
        "degraded": False,
        "recommendations": [
            {
                "artist": {"id": 2, "name": "Nobody", "lastfm_url": None},
                "score": 0.5,
                "because": [{"id": 1, "name": "Radiohead"}],
            }
        ],
    }


def test_an_error_names_its_field_only_when_there_is_one() -> None:
    with Flask(__name__).app_context():
        with_field, _ = error_response(400, "invalid_input", "Bad.", "rating")
        without, status = error_response(401, "unauthorized", "Log in first.")

    assert with_field.get_json()["error"] == {
        "code": "invalid_input",
        "message": "Bad.",
        "field": "rating",
    }
    assert without.get_json() == {"error": {"code": "unauthorized", "message": "Log in first."}}
    assert status == 401 and without.headers["WWW-Authenticate"] == 'Bearer realm="musicrec"'
