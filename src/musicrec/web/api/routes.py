"""The routes of API version 1; each is a thin call into a service."""

from __future__ import annotations

import logging

from flask import Response, g, jsonify, request

from musicrec.services import accounts, ratings
from musicrec.services.auth import end_session, issue_token
from musicrec.services.health import database_answers
from musicrec.web.api import api, parse_body, query_int, require_user
from musicrec.web.api.errors import ApiError
from musicrec.web.api.schemas import NewArtistBody, RatingBody, SignupBody, TokenBody
from musicrec.web.auth.guard import current_user, session_policy, settings
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue, recommendations
from musicrec.web.security import (
    limit_failed_logins_per_account,
    limit_failed_logins_per_client,
    limit_signups,
)

log = logging.getLogger("musicrec.api")
MAX_PAGE = 50


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


@api.post("/auth/signup")
@limit_signups
def signup() -> tuple[Response, int]:
    body = parse_body(SignupBody)
    session = db_session()
    user = accounts.sign_up(session, body.username.strip(), body.email, body.password)
    issued = issue_token(session, user, settings().secret_key, session_policy())
    session.commit()
    log.info("signup user_id=%s (api)", user.id)
    return jsonify({"user": {"id": user.id, "username": user.username}, "token": issued.token}), 201


@api.post("/auth/token")
@limit_failed_logins_per_client
@limit_failed_logins_per_account
def token() -> Response:
    body = parse_body(TokenBody)
    session = db_session()
    user = accounts.authenticate(session, body.username, body.password)
    if user is None:
        log.warning("login failed client=%s (api)", request.remote_addr)
        raise ApiError(401, "invalid_credentials", "Unknown username or wrong password.")
    issued = issue_token(session, user, settings().secret_key, session_policy())
    session.commit()
    log.info("login user_id=%s (api)", user.id)
    return jsonify({"token": issued.token, "expires_at": issued.expires_at.isoformat()})


@api.post("/auth/logout")
@require_user
def logout() -> tuple[str, int]:
    session = db_session()
    end_session(session, g.session_id)
    session.commit()
    log.info("logout user_id=%s (api)", _user_id())
    return "", 204


@api.get("/me")
@require_user
def me() -> Response:
    user = current_user()
    assert user is not None
    count = ratings.count(db_session(), user.id)
    return jsonify({"user": {"id": user.id, "username": user.username}, "rated_count": count})


@api.get("/artists")
def search_artists() -> Response:
    query = request.args.get("q", "").strip()
    limit = query_int("limit", 10, 1, MAX_PAGE)
    if len(query) > 200:
        raise ApiError(400, "invalid_input", "q must be at most 200 characters.", "q")
    session = db_session()
    if query:
        found = catalogue().search_views(session, query, limit)
    else:
        found = catalogue().popular(session, limit, [])
    return jsonify({"artists": [artist.as_json() for artist in found]})


@api.post("/artists")
@require_user
def add_artist() -> tuple[Response, int]:
    body = parse_body(NewArtistBody)
    session = db_session()
    artist, created = catalogue().add(session, body.name)
    session.commit()
    return jsonify({"artist": artist.as_json()}), 201 if created else 200


@api.get("/artists/<id:artist_id>")
def get_artist(artist_id: int) -> Response:
    artist = catalogue().get(db_session(), artist_id)
    if artist is None:
        raise ApiError(404, "not_found", "No artist has this id.")
    return jsonify({"artist": artist.as_json()})


@api.get("/artists/<id:artist_id>/similar")
def similar_artists(artist_id: int) -> Response:
    n = query_int("n", 10, 1, MAX_PAGE)
    session = db_session()
    if catalogue().get(session, artist_id) is None:
        raise ApiError(404, "not_found", "No artist has this id.")
    similar = recommendations().similar(session, artist_id, n)
    return jsonify({"artists": [artist.as_json() for artist in similar]})


@api.get("/me/ratings")
@require_user
def my_ratings() -> Response:
    rows = ratings.my_ratings(db_session(), _user_id())
    return jsonify({"ratings": [row.as_json() for row in rows]})


@api.put("/me/ratings/<id:artist_id>")
@require_user
def put_rating(artist_id: int) -> tuple[Response, int]:
    body = parse_body(RatingBody)
    session = db_session()
    view, created = ratings.rate(session, _user_id(), artist_id, body.rating)
    session.commit()
    payload = view.as_json() | {"rated_count": ratings.count(session, _user_id())}
    return jsonify(payload), 201 if created else 200


@api.delete("/me/ratings/<id:artist_id>")
@require_user
def delete_rating(artist_id: int) -> tuple[str, int]:
    session = db_session()
    if not ratings.unrate(session, _user_id(), artist_id):
        raise ApiError(404, "not_found", "You have not rated this artist.")
    session.commit()
    return "", 204


@api.post("/me/recommendations")
@require_user
def new_recommendations() -> tuple[Response, int]:
    n = query_int("n", 10, 1, MAX_PAGE)
    session = db_session()
    batch = recommendations().recommend_new(session, _user_id(), n)
    session.commit()
    return jsonify(batch.as_json()), 201


@api.get("/me/recommendations")
@require_user
def past_recommendations() -> Response:
    rows = recommendations().history(db_session(), _user_id())
    return jsonify({"recommendations": [row.as_json() for row in rows]})


@api.get("/health")
def health() -> Response:
    database = "ok" if database_answers(db_session()) else "unavailable"
    body = {
        "status": "ok",
        "model_version": recommendations().current_version(),
        "database": database,
    }
    if database != "ok":
        body["status"] = "degraded"
        response = jsonify(body)
        response.status_code = 503
        return response
    return jsonify(body)
