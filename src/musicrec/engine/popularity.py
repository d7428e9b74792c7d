"""Most-popular recommender: the fallback when no trained model exists, and a baseline.

Scores an artist by how many users rated it (ties by id); same interface as the factor models,
with no explanations since nothing about the user enters the score. The factor models fall back
to the same :func:`popularity_scores` for a user they know nothing about.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import IdMap, RatingMatrix
from musicrec.engine.ranking import ScoredArtist, top_n


def popularity_scores(matrix: sp.csr_matrix) -> np.ndarray:
    """Each item's (column's) number of ratings, as float64 scores."""
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)


class PopularityRanking:
    """Artists ordered by number of ratings (most first, ties by id), for serving: ``top``
    walks the order and skips excluded ids, so it costs O(n + excluded) per call."""

    def __init__(self, artist_ids: np.ndarray, counts: np.ndarray) -> None:
        ids = np.asarray(artist_ids, dtype=np.int64)
        scores = np.asarray(counts, dtype=np.float64)
        order = np.lexsort((ids, -scores))
        self.artist_ids = ids[order]
        self.counts = scores[order]

    def __len__(self) -> int:
        return int(self.artist_ids.size)

    def top(self, n: int, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        """The ``n`` most-rated artists not in ``exclude``, with their counts."""
        banned = set(exclude)
        picks: list[tuple[int, float]] = []
        for artist_id, count in zip(self.artist_ids.tolist(), self.counts.tolist(), strict=True):
            if len(picks) >= n:
                break
            if artist_id not in banned:
                picks.append((artist_id, count))
        return picks


class PopularityModel:
    """Ranks artists by their number of ratings."""

    kind = "most-popular"

    def __init__(
        self, users: IdMap, items: IdMap, counts: np.ndarray, rated: dict[int, np.ndarray]
    ):
        self.users, self.items, self.counts = users, items, counts
        self._rated = rated  # user position -> dense item indices rated in training

    @classmethod
    def fit(cls, ratings: RatingMatrix) -> PopularityModel:
        matrix = ratings.matrix
        rated = {
            u: matrix.indices[matrix.indptr[u] : matrix.indptr[u + 1]]
            for u in range(matrix.shape[0])
        }
        return cls(ratings.users, ratings.items, popularity_scores(matrix), rated)

    def has_user(self, user_id: int) -> bool:
        return self.users.index(user_id) >= 0

    def _top(self, rated: np.ndarray, n: int, exclude: Iterable[int]) -> list[ScoredArtist]:
        excluded = self.items.indices(np.fromiter(exclude, dtype=np.int64))
        banned = np.union1d(rated, excluded[excluded >= 0]).astype(np.int64)
        best = top_n(self.counts, n, banned)
        return [ScoredArtist(int(self.items.ids[i]), float(self.counts[i])) for i in best]

    def recommend(
        self, user_id: int, n: int = 10, *, exclude: Iterable[int] = (), explain: int = 3
    ) -> list[ScoredArtist]:
        u = self.users.index(user_id)
        if u < 0:
            raise KeyError(f"user {user_id} is not in the model")
        return self._top(self._rated[u], n, exclude)

    def recommend_for_ratings(
        self,
        artist_ids: Iterable[int],
        ratings: Iterable[float],
        n: int = 10,
        *,
        exclude: Iterable[int] = (),
        explain: int = 3,
    ) -> list[ScoredArtist]:
        rated = self.items.indices(np.fromiter(artist_ids, dtype=np.int64))
        return self._top(rated[rated >= 0], n, exclude)

    def recommend_batch(self, user_ids: np.ndarray, n: int = 10) -> np.ndarray:
        out = np.full((len(user_ids), n), -1, dtype=np.int64)
        for r, user_id in enumerate(user_ids):
            ids = [rec.artist_id for rec in self.recommend(int(user_id), n)]
            out[r, : len(ids)] = ids
        return out

    def similar_artists(self, artist_id: int, n: int = 10) -> list[tuple[int, float]]:
        """Without factors there is no similarity: the most popular other artists, scored 0."""
        i = self.items.index(artist_id)
        if i < 0:
            raise KeyError(f"artist {artist_id} is not in the model")
        return [(int(self.items.ids[j]), 0.0) for j in top_n(self.counts, n, np.array([i]))]
