"""The routes of API version 1; each is a thin call into a service.

A route's docstring is its summary in the OpenAPI document; ``@documented`` declares the rest.
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from flask import Response, g, request, url_for

from musicrec.services import accounts, rating_pages, ratings
from musicrec.services.auth import end_session, issue_token
from musicrec.services.health import database_answers
from musicrec.services.ratings import SORT_ORDERS
from musicrec.web import MAX_ROW_ID
from musicrec.web.api import api, parse_body, parse_query, require_user
from musicrec.web.api.answers import (
    ArtistAnswer,
    ArtistList,
    Health,
    Me,
    RatingChange,
    RatingList,
    RecommendationBatch,
    RecommendationHistory,
    SignedUp,
    Token,
    UserOut,
    answer,
)
from musicrec.web.api.error_answers import ApiError
from musicrec.web.api.schemas import (
    MAX_PAGE,
    CountQuery,
    NewArtistBody,
    RatingBody,
    RatingsQuery,
    SearchQuery,
    SignupBody,
    TokenBody,
)
from musicrec.web.api.spec import documented
from musicrec.web.auth.guard import current_user, session_policy, settings
from musicrec.web.auth.login_limits import (
    count_failure,
    login_attempt,
    refuse_if_locked_out,
    remember_device,
)
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue, recommendations
from musicrec.web.security import (
    limit_signups,
)

log = logging.getLogger("musicrec.api")


def _viewer_id() -> int | None:
    user = current_user()
    return user.id if user is not None else None


def _user_id() -> int:
    user = current_user()
    assert user is not None
    return user.id


@api.post("/auth/signup")
@documented("auth", {201: (SignedUp, "Created")}, errors=(400, 409, 422, 429, 503), body=SignupBody)
@limit_signups
def signup() -> tuple[Response, int]:
    """Create an account and get a token"""
    body = parse_body(SignupBody)
    session = db_session()
    user = accounts.sign_up(session, body.username.strip(), body.email, body.password)
    issued = issue_token(session, user, settings().secret_key, session_policy())
    session.commit()
    log.info("signup user_id=%s (api)", user.id)
    signed_up = SignedUp(
        user=UserOut.model_validate(user), token=issued.token, expires_at=issued.expires_at
    )
    return answer(signed_up, 201)


@api.post("/auth/token")
@documented(
    "auth",
    {200: (Token, "A session token (JWT) for the Authorization: Bearer header")},
    errors=(400, 401, 429, 503),
    body=TokenBody,
)
def token() -> tuple[Response, int]:
    """Log in: exchange a username (or email) and password for a token"""
    body = parse_body(TokenBody)
    session = db_session()
    attempt = login_attempt(body.username)
    refuse_if_locked_out(attempt)
    user = accounts.authenticate(session, body.username, body.password)
    if user is None:
        count_failure(attempt)
        log.warning("login failed client=%s (api)", request.remote_addr)
        raise ApiError(401, "invalid_credentials", "Unknown username or wrong password.")
    issued = issue_token(session, user, settings().secret_key, session_policy())
    session.commit()
    log.info("login user_id=%s (api)", user.id)
    response, status = answer(Token.model_validate(issued))
    remember_device(response, user.id)
    return response, status


@api.post("/auth/logout")
@documented("auth", {204: (None, "Logged out")}, errors=(401, 403, 503), signed_in=True)
@require_user
def logout() -> tuple[str, int]:
    """End the session; its token is refused from then on"""
    session = db_session()
    end_session(session, g.session_id)
    session.commit()
    log.info("logout user_id=%s (api)", _user_id())
    return "", 204


@api.get("/me")
@documented("auth", {200: (Me, "The user")}, errors=(401, 503), signed_in=True)
@require_user
def me() -> tuple[Response, int]:
    """The logged-in user and how many artists they rated"""
    user = current_user()
    assert user is not None
    count = ratings.count(db_session(), user.id)
    return answer(Me(user=UserOut.model_validate(user), rated_count=count))


@api.get("/artists")
@documented(
    "artists", {200: (ArtistList, "Matches, best first")}, errors=(400, 503), query=SearchQuery
)
def search_artists() -> tuple[Response, int]:
    """Search the catalogue (case-, accent-, punctuation-insensitive, prefix and fuzzy); without
    q, the most-rated artists"""
    params = parse_query(SearchQuery)
    session = db_session()
    if params.q:
        found = catalogue().search_views(session, params.q, params.limit, _viewer_id())
    else:
        found = catalogue().popular(session, params.limit, [])
    return answer(ArtistList.model_validate({"artists": found}))


@api.post("/artists")
@documented(
    "artists",
    {201: (ArtistAnswer, "Added"), 200: (ArtistAnswer, "Already in the catalogue")},
    errors=(400, 401, 403, 429, 503),
    body=NewArtistBody,
    signed_in=True,
)
@require_user
def add_artist() -> tuple[Response, int]:
    """Add an artist missing from the catalogue"""
    body = parse_body(NewArtistBody)
    session = db_session()
    artist, created = catalogue().add(session, body.name, _user_id())
    session.commit()
    return answer(ArtistAnswer.model_validate({"artist": artist}), 201 if created else 200)


@api.get("/artists/<id:artist_id>")
@documented("artists", {200: (ArtistAnswer, "The artist")}, errors=(404, 503))
def get_artist(artist_id: int) -> tuple[Response, int]:
    """One artist"""
    artist = catalogue().get(db_session(), artist_id, _viewer_id())
    if artist is None:
        raise ApiError(404, "not_found", "No artist has this id.")
    return answer(ArtistAnswer.model_validate({"artist": artist}))


@api.get("/artists/<id:artist_id>/similar")
@documented(
    "artists", {200: (ArtistList, "Similar artists")}, errors=(400, 404, 503), query=CountQuery
)
def similar_artists(artist_id: int) -> tuple[Response, int]:
    """Artists similar to this one, from the model's artist factors"""
    params = parse_query(CountQuery)
    session = db_session()
    if catalogue().get(session, artist_id, _viewer_id()) is None:
        raise ApiError(404, "not_found", "No artist has this id.")
    similar = recommendations().similar(session, artist_id, params.n, _viewer_id())
    return answer(ArtistList.model_validate({"artists": similar}))


@api.get("/me/ratings")
@documented(
    "ratings",
    {200: (RatingList, "Ratings")},
    errors=(400, 401, 503),
    query=RatingsQuery,
    signed_in=True,
)
@require_user
def my_ratings() -> tuple[Response, int]:
    """My ratings, a page at a time: most recently changed first (or sort=rating, sort=name)

    Pages never overlap (ties are broken by the rating's id). The ``Link`` header gives the
    first, previous, next and last pages (RFC 8288) and ``X-Total-Count`` the number of all
    my ratings; ``artist_ids`` asks for my ratings of a few artists only."""
    params = parse_query(RatingsQuery)
    if params.sort not in SORT_ORDERS:
        raise ApiError(400, "invalid_input", "sort must be date, rating or name.", "sort")
    wanted = _artist_ids(params.artist_ids)
    page = rating_pages.ratings_page(
        db_session(), _user_id(), params.sort, params.page, params.per_page, wanted
    )
    response, status = answer(RatingList.model_validate({"ratings": page.ratings}))
    response.headers["X-Total-Count"] = str(page.total)
    if wanted is None:
        response.headers["Link"] = _page_links(page, params.per_page)
    return response, status


def _artist_ids(text: str) -> list[int] | None:
    """The ``artist_ids`` parameter: None when absent; 400 naming it when not ids."""
    if not text:
        return None
    parts = text.split(",")
    if len(parts) > MAX_PAGE or not all(p.isascii() and p.isdigit() and len(p) < 11 for p in parts):
        raise ApiError(
            400,
            "invalid_input",
            f"artist_ids: up to {MAX_PAGE} ids, separated by commas.",
            "artist_ids",
        )
    ids = (int(part) for part in parts)
    return [artist_id for artist_id in ids if 1 <= artist_id <= MAX_ROW_ID]  # others name no row


def _page_links(page: rating_pages.RatingPage, per_page: int) -> str:
    """The ``Link`` header of a page of my ratings: first, prev, next and last."""
    targets = {"first": 1, "prev": page.previous, "next": page.next, "last": page.pages}
    return ", ".join(
        f"<{url_for('api.my_ratings', page=number, per_page=per_page, sort=page.order)}>; "
        f'rel="{relation}"'
        for relation, number in targets.items()
        if number is not None
    )


@api.put("/me/ratings/<id:artist_id>")
@documented(
    "ratings",
    {201: (RatingChange, "Created"), 200: (RatingChange, "Updated")},
    errors=(400, 401, 403, 404, 503),
    body=RatingBody,
    signed_in=True,
)
@require_user
def put_rating(artist_id: int) -> tuple[Response, int]:
    """Rate an artist 1..10, or change the rating"""
    body = parse_body(RatingBody)
    session = db_session()
    view, created = ratings.rate(session, _user_id(), artist_id, body.rating)
    session.commit()
    change = RatingChange.model_validate(
        {**asdict(view), "rated_count": ratings.count(session, _user_id())}
    )
    return answer(change, 201 if created else 200)


@api.delete("/me/ratings/<id:artist_id>")
@documented("ratings", {204: (None, "Removed")}, errors=(401, 403, 404, 503), signed_in=True)
@require_user
def delete_rating(artist_id: int) -> tuple[str, int]:
    """Remove my rating of an artist"""
    session = db_session()
    if not ratings.unrate(session, _user_id(), artist_id):
        raise ApiError(404, "not_found", "You have not rated this artist.")
    session.commit()
    return "", 204


@api.post("/me/recommendations")
@documented(
    "recommendations",
    {201: (RecommendationBatch, "New recommendations")},
    errors=(400, 401, 403, 409, 503),
    query=CountQuery,
    signed_in=True,
)
@require_user
def new_recommendations() -> tuple[Response, int]:
    """New recommendations: stored, and never recommended again (409 no_ratings before the
    first rating)"""
    params = parse_query(CountQuery)
    session = db_session()
    batch = recommendations().recommend_new(session, _user_id(), params.n)
    session.commit()
    return answer(RecommendationBatch.model_validate(batch), 201)


@api.get("/me/recommendations")
@documented(
    "recommendations",
    {200: (RecommendationHistory, "Past recommendations")},
    errors=(401, 503),
    signed_in=True,
)
@require_user
def past_recommendations() -> tuple[Response, int]:
    """Every past recommendation, newest first"""
    rows = recommendations().history(db_session(), _user_id())
    return answer(RecommendationHistory.model_validate({"recommendations": rows}))


@api.get("/health")
@documented("health", {200: (Health, "Healthy"), 503: (Health, "The database is unavailable")})
def health() -> tuple[Response, int]:
    """Liveness: the database and the model being served"""
    database_ok = database_answers(db_session())
    model = recommendations().model_condition()
    status = Health(
        status="ok" if database_ok and model == "ok" else "degraded",
        model_version=recommendations().current_version(),
        database="ok" if database_ok else "unavailable",
        model=model,
    )
    return answer(status, 200 if database_ok else 503)  # without a model the app still serves
