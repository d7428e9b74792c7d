"""The home page: a welcome that knows the user and says what to do next."""

from __future__ import annotations

from flask import Blueprint, render_template

from musicrec.services.recommending import ENOUGH_RATINGS
from musicrec.web.auth.guard import current_user, rated_count
from musicrec.web.db import db_session
from musicrec.web.extensions import catalogue

blueprint = Blueprint("main", __name__)


@blueprint.get("/")
def home() -> str:
    session = db_session()
    user = current_user()
    if user is None:
        return render_template("main/home.html", counts=catalogue().counts(session))
    return render_template("main/home.html", rated_count=rated_count(), enough=ENOUGH_RATINGS)
