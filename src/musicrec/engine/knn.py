"""Item-kNN baseline with BM25 weighting, by the ``implicit`` library (evaluation only).

score_i = sum over the user's rated items j of sim(i, j), where sim is the BM25-weighted
item-item dot product kept to the K nearest neighbours of each item. K, K1 and B were chosen
on the validation split, as ALS's were (``compare --only baselines``, docs/evaluation.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from musicrec.engine.data import RatingMatrix

DEFAULT_NEIGHBOURS = 400
DEFAULT_K1 = 0.5
DEFAULT_B = 0.75


class ItemKNNModel:
    """Wraps ``implicit.nearest_neighbours.BM25Recommender`` behind id maps."""

    kind = "item-knn-bm25"

    def __init__(
        self,
        ratings: RatingMatrix,
        *,
        neighbours: int = DEFAULT_NEIGHBOURS,
        k1: float = DEFAULT_K1,
        b: float = DEFAULT_B,
    ):
        from implicit.nearest_neighbours import BM25Recommender

        self.users, self.items, self.train = ratings.users, ratings.items, ratings.matrix
        self._model = BM25Recommender(K=neighbours, K1=k1, B=b)
        # BM25Recommender hands its own weighting to the kNN code as COO, and implicit then
        # warns about converting its own matrix; nothing to act on here.
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Method expects CSR input")
            self._model.fit(self.train.astype(np.float64).tocsr(), show_progress=False)

    def _top(self, rows: sp.csr_matrix, n: int) -> np.ndarray:
        ids, _ = self._model.recommend(
            np.arange(rows.shape[0]), rows, N=n, filter_already_liked_items=True
        )
        ids = np.atleast_2d(ids)
        return np.where(ids >= 0, self.items.ids[np.maximum(ids, 0)], -1)

    def recommend_batch(self, user_ids: np.ndarray, n: int = 10) -> np.ndarray:
        """Top-n artist ids for known users, their rated artists excluded."""
        return self._top(self.train[self.users.indices(user_ids)], n)

    def recommend_ids_for_ratings(
        self, artist_ids: np.ndarray, ratings: np.ndarray, n: int = 10
    ) -> np.ndarray:
        """Top-n artist ids for a user given by their ratings (given artists excluded)."""
        cols = self.items.indices(artist_ids)
        keep = cols >= 0
        row = sp.csr_matrix(
            (np.asarray(ratings, dtype=np.float64)[keep], (np.zeros(keep.sum(), int), cols[keep])),
            shape=(1, len(self.items)),
        )
        return self._top(row, n)[0]
