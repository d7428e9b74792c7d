"""The service objects each app builds once (in ``web.init_app``), as the views reach them."""

from __future__ import annotations

from flask import current_app

from musicrec.services.catalogue import Catalogue
from musicrec.services.recommending import RecommendationService

CATALOGUE = "musicrec.catalogue"
RECOMMENDATIONS = "musicrec.recommendations"


def catalogue() -> Catalogue:
    value: Catalogue = current_app.extensions[CATALOGUE]
    return value


def recommendations() -> RecommendationService:
    value: RecommendationService = current_app.extensions[RECOMMENDATIONS]
    return value
