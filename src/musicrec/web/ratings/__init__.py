"""Rating pages: search and rate, and the list of my ratings. Changes go through the API."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from musicrec.services import not_for_me, rating_pages, ratings
from musicrec.services.recommending import ENOUGH_RATINGS
from musicrec.web.auth.guard import current_user, login_required, rated_count
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue

blueprint = Blueprint("ratings", __name__)
ONBOARDING_ARTISTS = 20
# Where a rating came from, said only where it tells the user something: typed ones say nothing.
SOURCE_LABELS = {"spotify": "From Spotify", "lastfm": "From Last.fm"}


@blueprint.get("/rate")
@login_required
def rate() -> str:
    session = db_session()
    user = current_user()
    assert user is not None
    count = rated_count()
    popular = []
    if count is not None and count < ENOUGH_RATINGS:
        rated, _values = ratings.rating_pairs(session, user.id)
        popular = catalogue().popular(session, ONBOARDING_ARTISTS, rated)
    return render_template(
        "ratings/rate.html", rated_count=count, enough=ENOUGH_RATINGS, popular=popular
    )


@blueprint.get("/ratings")
@login_required
def mine() -> str:
    """My ratings, a page at a time (``services.rating_pages``), with links to the others."""
    user = current_user()
    assert user is not None
    order = request.args.get("sort", "date")
    if order not in ratings.SORT_ORDERS:
        order = "date"
    number = request.args.get("page", "1")
    page_number = int(number) if number.isascii() and number.isdigit() and len(number) < 7 else 1
    session = db_session()
    page = rating_pages.ratings_page(session, user.id, order, max(page_number, 1))
    if page.page > page.pages:  # past the end (ratings removed meanwhile): the last page
        page = rating_pages.ratings_page(session, user.id, order, page.pages)
    return render_template(
        "ratings/mine.html",
        page=page,
        ratings=page.ratings,
        rated_count=page.total,
        sort=order,
        sort_orders=ratings.SORT_ORDERS,
        source_labels=SOURCE_LABELS,
        dislikes=not_for_me.my_dislikes(session, user.id),
    )
