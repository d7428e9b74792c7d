"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from musicrec.db.queries import catalogue_counts
from musicrec.web.db import db_session

blueprint = Blueprint("main", __name__)


@blueprint.get("/")
def home() -> str:
    return render_template("main/home.html", counts=catalogue_counts(db_session()))
