"""The recommendations page and artist pages (with similar artists)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from musicrec.services import ratings
from musicrec.services.past_batches import history_page
from musicrec.services.recommending import ENOUGH_RATINGS
from musicrec.web.auth.guard import current_user, login_required, rated_count
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue, recommendations

blueprint = Blueprint("recommendations", __name__)
SIMILAR_ARTISTS = 12


@blueprint.get("/recommendations")
@login_required
def index() -> str:
    session = db_session()
    user = current_user()
    assert user is not None
    return render_template(
        "recommendations/index.html",
        history=history_page(
            session, catalogue(), user.id, request.args.get("page", 1, type=int) or 1
        ),
        rated_count=rated_count(),
        enough=ENOUGH_RATINGS,
    )


@blueprint.get("/artists/<id:artist_id>")
def artist(artist_id: int) -> str:
    session = db_session()
    user = current_user()
    found = catalogue().get(session, artist_id, user.id if user is not None else None)
    if found is None:
        abort(404)
    rating = ratings.rating_of(session, user.id, artist_id) if user is not None else None
    similar = recommendations().similar(session, artist_id, SIMILAR_ARTISTS)
    return render_template(
        "recommendations/artist.html", artist=found, similar=similar, rating=rating
    )
