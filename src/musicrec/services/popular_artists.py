"""The most-rated artists, recounted at most once a minute per process, not on every request.

Serving asks for popular artists on every onboarding page and whenever a user cannot be folded
into the model; counting every rating each time grows with the table. A minute-old count ranks
the same artists for all practical purposes.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from musicrec.db import ratings as rating_rows
from musicrec.engine.popularity import PopularityRanking
from musicrec.services.recomputed import MAX_AGE_SECONDS, Recomputed


class PopularArtists:
    """Every rated artist ranked by its number of ratings (engine's ``PopularityRanking``)."""

    def __init__(self, max_age: float = MAX_AGE_SECONDS) -> None:
        self._ranking = Recomputed(_count_ratings, max_age)

    def top_ids(self, session: Session, n: int, exclude: Iterable[int] = ()) -> list[int]:
        return [artist_id for artist_id, _count in self._ranking.get(session).top(n, exclude)]

    def invalidate(self) -> None:
        self._ranking.invalidate()


def _count_ratings(session: Session) -> PopularityRanking:
    artist_ids, counts = rating_rows.rating_counts(session)
    return PopularityRanking(artist_ids, counts)
