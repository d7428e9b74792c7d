"""EASE (Steck 2019, "Embarrassingly Shallow Autoencoders"): a closed-form item-item model,
the strongest non-ALS reference of the offline evaluation (it is not served).

On the binary user x item matrix X (1 = the user has the artist):

    P = (X^T X + lambda I)^-1,   B = I - P diag(1 / diag(P))   (so diag(B) = 0)
    score_u = x_u B

The inverse is dense, items x items, in float32 (17.5k artists would be 1.2 GB and a slow
inverse on two cores), so the model is restricted to artists with at least ``min_support``
training users; the others are never recommended (with one listener an artist has no
co-occurrence to learn from). ``lambda`` and ``min_support`` were chosen on the validation
split (``compare --only baselines``).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from musicrec.engine.data import RatingMatrix

DEFAULT_LAMBDA = 50.0
DEFAULT_MIN_SUPPORT = 3


def ease_weights(binary: sp.csr_matrix, lam: float) -> np.ndarray:
    """B for a binary users x items matrix (float32, zero diagonal)."""
    gram = (binary.T @ binary).toarray().astype(np.float32)
    gram[np.diag_indices_from(gram)] += np.float32(lam)
    # P = G^-1 by Cholesky (G is symmetric positive definite for lambda > 0).
    factor, info = scipy.linalg.lapack.spotrf(gram, lower=1, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky factorisation failed (info={info})")
    inverse, info = scipy.linalg.lapack.spotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"inversion failed (info={info})")
    inverse = np.tril(inverse) + np.tril(inverse, -1).T  # spotri fills only the lower triangle
    # B = I - P diag(1/diag(P)): off the diagonal B_ij = -P_ij / P_jj, diagonal 0.
    weights = inverse / (-np.diag(inverse))[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32, copy=False)


class EASEModel:
    """EASE behind id maps, with the evaluation's two entry points (known users, new users)."""

    kind = "ease"

    def __init__(
        self,
        ratings: RatingMatrix,
        *,
        lam: float = DEFAULT_LAMBDA,
        min_support: int = DEFAULT_MIN_SUPPORT,
    ):
        self.users, self.items = ratings.users, ratings.items
        binary = ratings.matrix.copy().astype(np.float32)
        binary.data[:] = 1.0
        self.train = binary.tocsr()
        support = np.bincount(self.train.indices, minlength=self.train.shape[1])
        self.columns = np.flatnonzero(support >= min_support)  # the modelled items
        with threadpool_limits(2, "blas"):
            self.weights = ease_weights(self.train[:, self.columns].tocsr(), lam)

    def _top(self, rows: sp.csr_matrix, n: int) -> np.ndarray:
        """Top-n artist ids per row of a binary matrix over all items; -1 pads."""
        scores = np.asarray(rows[:, self.columns] @ self.weights, dtype=np.float32)
        banned = rows[:, self.columns].toarray() > 0
        scores[banned] = -np.inf
        out = np.full((rows.shape[0], n), -1, dtype=np.int64)
        m = min(n, self.columns.size)
        if m == 0:
            return out
        best = np.argpartition(-scores, m - 1, axis=1)[:, :m]
        picked = np.take_along_axis(scores, best, axis=1)
        order = np.lexsort((best, -picked), axis=1)
        best = np.take_along_axis(best, order, axis=1)
        ok = np.isfinite(np.take_along_axis(scores, best, axis=1))
        out[:, :m] = np.where(ok, self.items.ids[self.columns[best]], -1)
        return out

    def recommend_batch(self, user_ids: np.ndarray, n: int = 10) -> np.ndarray:
        """Top-n artist ids for known users, their training artists excluded."""
        return self._top(self.train[self.users.indices(user_ids)], n)

    def recommend_ids_for_ratings(
        self, artist_ids: np.ndarray, ratings: np.ndarray, n: int = 10
    ) -> np.ndarray:
        """Top-n artist ids for a user given by their artists (ratings do not enter EASE)."""
        cols = self.items.indices(np.asarray(artist_ids, dtype=np.int64))
        cols = np.unique(cols[cols >= 0])
        row = sp.csr_matrix(
            (np.ones(cols.size, dtype=np.float32), (np.zeros(cols.size, dtype=np.int64), cols)),
            shape=(1, len(self.items)),
        )
        return self._top(row, n)[0]
