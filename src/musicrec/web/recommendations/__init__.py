"""The recommendations page and artist pages (listeners, top songs, similar artists)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from musicrec.services import artist_page, preferences, ratings, spotify_connection, top_songs
from musicrec.services.past_batches import history_page
from musicrec.services.recommending import ENOUGH_RATINGS
from musicrec.web.auth.guard import current_user, login_required, rated_count, settings
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue, recommendations

blueprint = Blueprint("recommendations", __name__)
SIMILAR_ARTISTS = 12
STARTER_ARTISTS = 20


@blueprint.get("/recommendations")
@login_required
def index() -> str:
    session = db_session()
    user = current_user()
    assert user is not None
    spotify = settings().spotify.enabled and spotify_connection.status(session, user.id).connected
    count = rated_count() or 0
    # Nothing rated yet: ask for ratings first, with the starter list (no picks used up).
    starters = catalogue().popular(session, STARTER_ARTISTS, []) if count == 0 else []
    return render_template(
        "recommendations/index.html",
        history=history_page(
            session, catalogue(), user.id, request.args.get("page", 1, type=int) or 1
        ),
        rated_count=count,
        enough=ENOUGH_RATINGS,
        top_songs=top_songs.available(settings(), session, user.id),
        spotify_connected=spotify,
        starters=starters,
        discovery=preferences.preferences_of(session, user.id).discovery,
    )


@blueprint.get("/artists/<id:artist_id>")
def artist(artist_id: int) -> str:
    session = db_session()
    user = current_user()
    found = catalogue().get(session, artist_id, user.id if user is not None else None)
    if found is None:
        abort(404)
    rating = ratings.rating_of(session, user.id, artist_id) if user is not None else None
    viewer = user.id if user is not None else None
    similar = recommendations().similar(session, artist_id, SIMILAR_ARTISTS, viewer)
    facts = artist_page.artist_facts(session, artist_id, viewer, [other.id for other in similar])
    return render_template(
        "recommendations/artist.html",
        artist=found,
        similar=similar,
        rating=rating,
        facts=facts,
        # the songs are fetched by the page (app.js), never while this answer is made
        top_songs=top_songs.available(settings(), session, viewer),
    )
