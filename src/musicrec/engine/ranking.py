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


# A large catalogue's top n is chosen among the items above a threshold read off a sample of
# every SAMPLE_STRIDE-th score: the sample's RANK_MARGIN + 2 (n + banned) / SAMPLE_STRIDE-th
# highest, above which about SAMPLE_STRIDE times that many items lie (512 for n = 10).
SAMPLE_STRIDE = 64
RANK_MARGIN = 8


def top_n(scores: np.ndarray, n: int, banned: np.ndarray) -> np.ndarray:
    """Indices of the n highest finite scores, best first, skipping ``banned``; among equal
    scores the lowest indices, so the answer never depends on how the selection ran.

    On a large array a partial sort of every score costs as much as the matrix product that
    made them (3 ms at 292k artists), so the candidates are first narrowed to those at or
    above a threshold taken from a sample: every item left out scores below all of them, so
    the top n lie among them (exact). Too few candidates: the selection runs over all.
    """
    banned = np.asarray(banned, dtype=np.int64)
    rank = RANK_MARGIN + 2 * (n + banned.size) // SAMPLE_STRIDE
    if n > 0 and scores.size >= 4 * SAMPLE_STRIDE * rank:
        found = _top_above_threshold(scores, n, banned, rank)
        if found is not None:
            return found
    return _top_of_all(scores, n, banned)


def _top_of_all(scores: np.ndarray, n: int, banned: np.ndarray) -> np.ndarray:
    # float32 scores stay float32 (half the bytes); integers become float64 to hold -inf.
    scores = np.array(scores, dtype=np.result_type(scores.dtype, np.float32), copy=True)
    scores[banned] = -np.inf
    n = min(n, int(np.isfinite(scores).sum()))
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    # The n-th highest score; all above it, then the lowest indices of those equal to it.
    cut = np.partition(scores, scores.size - n)[scores.size - n]
    above = np.flatnonzero(scores > cut)
    best = np.concatenate([above, np.flatnonzero(scores == cut)[: n - above.size]])
    return best[np.lexsort((best, -scores[best]))]


def _top_above_threshold(
    scores: np.ndarray, n: int, banned: np.ndarray, rank: int
) -> np.ndarray | None:
    """The top n among the scores at or above the sample's ``rank``-th highest; None when
    fewer than n allowed items reach it (the caller then selects among all)."""
    sample = scores[::SAMPLE_STRIDE]
    threshold = np.partition(sample, sample.size - rank)[sample.size - rank]
    candidates = np.flatnonzero(scores >= threshold)
    candidates = candidates[~np.isin(candidates, banned) & np.isfinite(scores[candidates])]
    if candidates.size < n:
        return None
    chosen = _top_of_all(scores[candidates], n, np.empty(0, dtype=np.int64))
    return candidates[chosen]  # ascending, so ties among candidates keep the order by index
