"""Recommendations for users: from the newest published model, never repeated, with reasons.

The serving model is reloaded as soon as ``musicrec train`` publishes a newer version; when no
model exists yet, the most-rated artists are suggested instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from musicrec.db import artists
from musicrec.db import ratings as rating_rows
from musicrec.db import recommendations as stored
from musicrec.services.catalogue import ArtistView
from musicrec.services.model_loader import ModelLoader
from musicrec.services.popular_artists import PopularArtists

log = logging.getLogger("musicrec.recommending")

POPULARITY_VERSION = "popularity"
# From how many ratings a new user is served well, from the fold-in curve in docs/evaluation.md
# ("How many ratings are enough"): recommendations beat popularity from the first rating, 3
# ratings reach 83% of the accuracy 20 give, 10 reach 95%, where the curve flattens.
ENOUGH_RATINGS = 10


@dataclass(frozen=True)
class Suggestion:
    artist: ArtistView
    score: float
    because: list[ArtistView] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    model_version: str
    recommendations: list[Suggestion]


@dataclass(frozen=True)
class PastRecommendation:
    artist: ArtistView
    score: float
    model_version: str
    created_at: datetime
    rating: int | None = None
    because: list[ArtistView] = field(default_factory=list)


class RecommendationService:
    """Serves the current model to the web app; one per process."""

    def __init__(self, model_dir: Path, popular: PopularArtists) -> None:
        self.loader = ModelLoader(model_dir)
        self.popular_artists = popular

    def current_version(self) -> str | None:
        loaded = self.loader.current()
        return loaded.version if loaded else None

    def recommend_new(self, session: Session, user_id: int, n: int) -> Batch:
        """Up to ``n`` artists never recommended to the user before, stored as recommended."""
        try:
            with session.begin_nested():
                return self._recommend_and_store(session, user_id, n)
        except IntegrityError:
            # A concurrent request stored some of the same artists first; they now count as
            # recommended before, so computing again picks others.
            with session.begin_nested():
                return self._recommend_and_store(session, user_id, n)

    def _recommend_and_store(self, session: Session, user_id: int, n: int) -> Batch:
        rated, values = rating_rows.user_rating_pairs(session, user_id)
        exclude = set(rated) | stored.recommended_artist_ids(session, user_id)
        loaded = self.loader.current()
        picks: list[tuple[int, float, list[int]]] = []
        version = POPULARITY_VERSION
        if loaded is not None:
            picks = loaded.recommend(rated, values, n, exclude)
            version = loaded.version
        if not picks:
            popular = self.popular_artists.top_ids(session, n, exclude)
            picks = [(artist_id, 0.0, []) for artist_id in popular]
            version = POPULARITY_VERSION
        stored.add_recommendations(
            session,
            user_id,
            [stored.NewRecommendation(a, s, tuple(because)) for a, s, because in picks],
            version,
        )
        views = _artist_views(session, {i for a, _, because in picks for i in (a, *because)})
        suggestions = [
            Suggestion(views[a], score, [views[b] for b in because if b in views])
            for a, score, because in picks
            if a in views
        ]
        return Batch(version, suggestions)

    def history(self, session: Session, user_id: int) -> list[PastRecommendation]:
        """Every recommendation made to the user, newest first, with their current rating."""
        rated, values = rating_rows.user_rating_pairs(session, user_id)
        mine = dict(zip(rated, values, strict=True))
        rows = stored.user_recommendations(session, user_id)
        reasons = _artist_views(session, {i for row in rows for i in row.because or ()})
        return [
            PastRecommendation(
                ArtistView.of(row.artist),
                row.score,
                row.model_version,
                row.created_at,
                rating=mine.get(row.artist_id),
                because=[reasons[i] for i in row.because or () if i in reasons],
            )
            for row in rows
        ]

    def similar(self, session: Session, artist_id: int, n: int) -> list[ArtistView]:
        loaded = self.loader.current()
        if loaded is None:
            return []
        ids = loaded.similar(artist_id, n)
        views = _artist_views(session, set(ids))
        return [views[i] for i in ids if i in views]


def _artist_views(session: Session, ids: set[int]) -> dict[int, ArtistView]:
    return {i: ArtistView.of(a) for i, a in artists.get_artists(session, ids).items()}
