"""The most-rated artists, recounted at most once a minute per process, not on every request.

Serving asks for popular artists on every onboarding page and whenever a user cannot be folded
into the model; counting every rating each time grows with the table. A minute-old count ranks
the same artists for all practical purposes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from musicrec.db import ratings as rating_rows
from musicrec.engine.popularity import PopularityRanking

MAX_AGE_SECONDS = 60.0
Value = TypeVar("Value")


class Recomputed(Generic[Value]):
    """A value computed with the caller's session and kept for ``max_age`` seconds."""

    def __init__(
        self,
        compute: Callable[[Session], Value],
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute, self._max_age, self._clock = compute, max_age, clock
        self._value: Value | None = None
        self._at = float("-inf")
        self._lock = threading.Lock()

    def get(self, session: Session) -> Value:
        value = self._value
        if value is not None and self._clock() - self._at < self._max_age:
            return value
        with self._lock:
            if self._value is None or self._clock() - self._at >= self._max_age:
                self._value = self._compute(session)
                self._at = self._clock()
            return self._value

    def invalidate(self) -> None:
        self._at = float("-inf")


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
