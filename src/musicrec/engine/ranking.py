"""What every recommender model offers and returns, and how it picks its top n."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class ScoredArtist:
    """One artist a model recommends, with its score; ``because`` lists the user's rated
    artists that contributed most to the score (best first, only positive contributions)."""

    artist_id: int
    score: float
    because: tuple[int, ...] = ()


@runtime_checkable
class RecommenderModel(Protocol):
    """The interface the app uses, implemented by factor models and the popularity model."""

    kind: str

    def has_user(self, user_id: int) -> bool: ...

    def recommend(
        self, user_id: int, n: int = 10, *, exclude: Iterable[int] = (), explain: int = 3
    ) -> list[ScoredArtist]: ...

    def recommend_for_ratings(
        self,
        artist_ids: Iterable[int],
        ratings: Iterable[float],
        n: int = 10,
        *,
        exclude: Iterable[int] = (),
        explain: int = 3,
    ) -> list[ScoredArtist]: ...

    def similar_artists(self, artist_id: int, n: int = 10) -> list[tuple[int, float]]: ...


def top_n(scores: np.ndarray, n: int, banned: np.ndarray) -> np.ndarray:
    """Indices of the n highest finite scores, best first, skipping ``banned`` indices."""
    # float32 scores stay float32 (half the bytes); integers become float64 to hold -inf.
    scores = np.array(scores, dtype=np.result_type(scores.dtype, np.float32), copy=True)
    scores[banned] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    best = np.argpartition(-scores, n - 1)[:n]
    # Sort by score, ties by index, so results are deterministic.
    return best[np.lexsort((best, -scores[best]))]
