"""Recommendations for users: from the newest published model, never repeated, with reasons.

The serving model is swapped for a newer version as soon as one is published and read (in the
background: requests keep the current one meanwhile); when no model exists yet, the most-rated
artists are suggested instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from musicrec.db import dislikes
from musicrec.db import ratings as rating_rows
from musicrec.db import recommendations as stored
from musicrec.db.models import Recommendation
from musicrec.db.types import utcnow
from musicrec.services.catalogue import ArtistView, Catalogue
from musicrec.services.errors import NoRatings
from musicrec.services.model_loader import ModelLoader
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.preferences import preferences_of

log = logging.getLogger("musicrec.recommending")

POPULARITY_VERSION = "popularity"
STORE_ATTEMPTS = 3  # picks again at most twice when concurrent requests stored the same artists
Pick = tuple[int, float, list[int]]  # (artist id, score, ids of the rated artists behind it)
# From how many ratings a new user is served well: the fold-in curve on the report group of
# users, five report seeds (docs/evaluation.md, "How many ratings are enough", written by
# `musicrec evaluate --curve`): recommendations beat popularity from the first rating (2.2x),
# 3 ratings reach 80% of the NDCG@10 that 20 give and 10 reach 93%; the curve still rises at
# 20, so 10 is the fewest within 90% of 20's (engine.evaluate.ENOUGH_SHARE), not a plateau.
ENOUGH_RATINGS = 10


@dataclass(frozen=True)
class _Taste:
    """What the user told us beyond ratings: artists not for them, discover vs familiar."""

    disliked: set[int]
    discovery: float


@dataclass(frozen=True)
class Suggestion:
    artist: ArtistView
    score: float
    because: list[ArtistView] = field(default_factory=list)


@dataclass(frozen=True)
class Batch:
    model_version: str
    recommendations: list[Suggestion]

    @property
    def degraded(self) -> bool:
        """Picked by popularity: no model could serve the user (none loads, or it knows none
        of their artists)."""
        return self.model_version == POPULARITY_VERSION


@dataclass(frozen=True)
class PastRecommendation:
    artist: ArtistView
    score: float
    model_version: str
    created_at: datetime
    rating: int | None = None
    because: list[ArtistView] = field(default_factory=list)


def past_recommendation(
    row: Recommendation, ratings: dict[int, int], views: dict[int, ArtistView]
) -> PastRecommendation:
    """A stored recommendation as shown: with the user's current rating and its reasons
    (``views`` holds the artists named in ``because``)."""
    return PastRecommendation(
        ArtistView.of(row.artist),
        row.score,
        row.model_version,
        row.created_at,
        rating=ratings.get(row.artist_id),
        because=[views[i] for i in row.because or () if i in views],
    )


class RecommendationService:
    """Serves the current model to the web app; one per process."""

    def __init__(
        self,
        model_dir: Path,
        popular: PopularArtists,
        catalogue: Catalogue | None = None,
        loader: ModelLoader | None = None,
    ) -> None:
        # Newer versions are read off the request path; the first is read here, at start-up.
        self.loader = loader or ModelLoader(model_dir, background=True)
        self.loader.current()
        self.popular_artists = popular
        self.catalogue = catalogue or Catalogue(popular)  # names come from its in-memory index

    def current_version(self) -> str | None:
        loaded = self.loader.current()
        return loaded.version if loaded else None

    def model_condition(self) -> str:
        """ "ok", "missing" (none trained yet) or "corrupt" (the newest failed to load)."""
        return self.loader.condition()

    def recommend_new(self, session: Session, user_id: int, n: int) -> Batch:
        """Up to ``n`` artists never recommended to the user before, stored as recommended.

        Storing skips artists a concurrent request stored first (they count as recommended
        before); this request then picks others in their place, so it never fails on them.
        Artists the user marked "not for me" are never picked and count against their kind;
        the user's discovery setting penalises popular artists. A user with no ratings gets
        ``NoRatings`` and nothing is stored (the starter list is theirs to rate first).
        """
        history = stored.user_history(session, user_id)
        rated, values = history.rated, history.ratings
        if not rated:
            raise NoRatings()
        taste = _Taste(history.disliked, preferences_of(session, user_id).discovery)
        exclude = set(rated) | history.recommended | taste.disliked
        kept: list[Pick] = []
        version = POPULARITY_VERSION
        made_at = utcnow()  # one time for the whole batch: the history groups by it
        placed = 0  # picks stored or tried so far: the next attempt's picks rank after them
        for _attempt in range(STORE_ATTEMPTS):
            chosen, picks = self._pick(session, rated, values, n - len(kept), exclude, taste)
            if not picks:
                break  # (the version stays the one the kept picks came from)
            version = chosen
            new = stored.add_recommendations(
                session,
                user_id,
                [stored.NewRecommendation(a, s, tuple(because)) for a, s, because in picks],
                version,
                made_at,
                first_position=placed,  # the live order (picks come ranked), kept for the history
            )
            placed += len(picks)
            kept += [pick for pick in picks if pick[0] in new]
            exclude |= {pick[0] for pick in picks}
            if len(kept) >= n:
                break
        views = self.catalogue.views(session, {i for a, _, because in kept for i in (a, *because)})
        suggestions = [
            Suggestion(views[a], score, [views[b] for b in because if b in views])
            for a, score, because in kept
            if a in views
        ]
        return Batch(version, suggestions)

    def _pick(
        self,
        session: Session,
        rated: list[int],
        values: list[int],
        n: int,
        exclude: set[int],
        taste: _Taste,
    ) -> tuple[str, list[Pick]]:
        """(model version, picks) from the serving model, or popularity when it has none."""
        loaded = self.loader.current()
        if loaded is not None:
            picks = loaded.recommend(
                rated, values, n, exclude, disliked=taste.disliked, discovery=taste.discovery
            )
            if picks:
                return loaded.version, picks
        popular = self.popular_artists.top_ids(session, n, exclude)
        return POPULARITY_VERSION, [(artist_id, 0.0, []) for artist_id in popular]

    def history(self, session: Session, user_id: int) -> list[PastRecommendation]:
        """Every recommendation made to the user, newest first, with their current rating."""
        rated, values = rating_rows.user_rating_pairs(session, user_id)
        mine = dict(zip(rated, values, strict=True))
        rows = stored.user_recommendations(session, user_id)
        reasons = self.catalogue.views(session, {i for row in rows for i in row.because or ()})
        return [past_recommendation(row, mine, reasons) for row in rows]

    def similar(
        self, session: Session, artist_id: int, n: int, viewer: int | None = None
    ) -> list[ArtistView]:
        """Up to ``n`` artists like this one; never one ``viewer`` marked "not for me"."""
        loaded = self.loader.current()
        if loaded is None:
            return []
        hidden = dislikes.disliked_artist_ids(session, viewer) if viewer is not None else set()
        ids = [i for i in loaded.similar(artist_id, n + len(hidden)) if i not in hidden][:n]
        views = self.catalogue.views(session, set(ids))
        return [views[i] for i in ids if i in views]
