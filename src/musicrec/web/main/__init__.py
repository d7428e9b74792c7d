"""The home page: a welcome that knows the user, shows their latest recommendations and says
what to do next; and the API's reference page for people."""

from __future__ import annotations

from flask import Blueprint, render_template

from musicrec.services.past_batches import history_page
from musicrec.services.recommending import ENOUGH_RATINGS
from musicrec.web.auth.guard import current_user, rated_count
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue
from musicrec.web.main import api_page
from musicrec.web.main.formatting import FILTERS

blueprint = Blueprint("main", __name__)
for _name, _filter in FILTERS.items():
    blueprint.add_app_template_filter(_filter, _name)


@blueprint.get("/")
def home() -> str:
    session = db_session()
    user = current_user()
    if user is None:
        return render_template("main/home.html", counts=catalogue().counts(session))
    latest = history_page(session, catalogue(), user.id, 1, per_page=1).batches
    return render_template(
        "main/home.html",
        rated_count=rated_count(),
        enough=ENOUGH_RATINGS,
        latest=latest[0] if latest else None,
    )


@blueprint.get("/api/docs")
def api_reference() -> str:
    """The JSON API for people: every operation of the OpenAPI document, grouped by tag."""
    return render_template("main/api.html", reference=api_page.reference())
