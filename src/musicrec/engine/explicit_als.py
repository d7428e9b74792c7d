"""Explicit ALS on 1..10 ratings, with a global mean and user/artist biases.

Model:  r_ui ~ mu + b_u + b_i + x_u . y_i, fitted by alternating least squares on the observed
ratings only, with L2 regularisation scaled like Spark MLlib's ("weighted-lambda"): a user's
factors are penalised by lambda * n_u, an artist's by lambda * n_i. The biases are solved
jointly with the factors by augmenting the vectors, x~_u = [x_u, b_u] against y~_i = [y_i, 1]:

    x~_u = (Y~_u^T Y~_u + diag(lambda n_u, ..., lambda n_u, lambda_b))^-1 Y~_u^T (r_u - mu - b_I)

and symmetrically for the artists; lambda_b is a constant (a damping, as in the classic damped
bias baseline, one for users and one for artists) so that biases resting on few ratings shrink
towards 0.

Why by hand: ``implicit`` only solves the implicit-feedback objective and Spark needs a JVM;
the batched per-row solver lives in :mod:`musicrec.engine.solve` (no Python loop per user).
"""

from __future__ import annotations

import numpy as np

from musicrec.engine.model import FactorModel, FoldIn
from musicrec.engine.ratings import RatingMatrix
from musicrec.engine.solve import solve_rows


def _regularisation(counts: np.ndarray, k: int, lam: float, lam_bias: float) -> np.ndarray:
    """Per-row diagonal: lambda * n for the k factors, lambda_b for the bias."""
    reg = np.empty((counts.size, k + 1))
    reg[:, :k] = lam * np.maximum(counts, 1)[:, None]
    reg[:, k] = lam_bias
    return reg


def _augment(factors: np.ndarray) -> np.ndarray:
    return np.hstack([factors, np.ones((factors.shape[0], 1))])


class ExplicitALSModel(FactorModel):
    """Factors and biases from explicit ALS; predicts ratings as well as ranking artists."""

    _aug: np.ndarray | None = None

    def _augmented_items(self, index: np.ndarray | slice) -> np.ndarray:
        if self._aug is None:
            self._aug = _augment(self.item_factors)
        return self._aug[index]

    def _user_vector(self, u: int) -> np.ndarray:
        assert self.user_bias is not None
        return np.append(self.user_factors[u], self.user_bias[u])

    def fold_in_indices(self, rated: np.ndarray, ratings: np.ndarray) -> FoldIn:
        assert self.item_bias is not None
        k = self.item_factors.shape[1]
        yr = self._augmented_items(rated)
        t = np.asarray(ratings, dtype=np.float64) - self.global_mean - self.item_bias[rated]
        reg = _regularisation(
            np.array([rated.size]),
            k,
            float(self.params["regularization"]),
            float(self.params["user_bias_regularization"]),
        )[0]
        # W = (Y~_r^T Y~_r + diag(reg))^-1;  x~ = W Y~_r^T t
        weights = np.linalg.inv(yr.T @ yr + np.diag(reg))
        return FoldIn(weights @ (yr.T @ t), rated, weights, t)

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Predicted ratings; an unknown user or artist contributes no bias and no factors."""
        assert self.user_bias is not None and self.item_bias is not None
        u = self.users.indices(user_ids)
        i = self.items.indices(item_ids)
        ku, ki = u >= 0, i >= 0
        both = ku & ki
        out = np.full(u.shape, self.global_mean, dtype=np.float64)
        out[ku] += self.user_bias[u[ku]]
        out[ki] += self.item_bias[i[ki]]
        out[both] += np.einsum("nk,nk->n", self.user_factors[u[both]], self.item_factors[i[both]])
        return out


def train_explicit(ratings: RatingMatrix, params: dict) -> ExplicitALSModel:
    """Alternate the two batched solves ``iterations`` times, then one last user solve so
    that stored user vectors are exactly the fold-in of their ratings."""
    k = int(params["factors"])
    lam = float(params["regularization"])
    user_damping = float(params["user_bias_regularization"])
    item_damping = float(params["item_bias_regularization"])
    by_user = ratings.matrix.astype(np.float64).tocsr()
    by_item = by_user.T.tocsr()
    mu = float(by_user.data.mean()) if by_user.nnz else 0.0
    rng = np.random.default_rng(int(params["seed"]))
    n_users, n_items = by_user.shape
    item_factors = rng.normal(0.0, 0.1 / np.sqrt(k), (n_items, k))
    item_bias = np.zeros(n_items)
    user_reg = _regularisation(np.diff(by_user.indptr), k, lam, user_damping)
    item_reg = _regularisation(np.diff(by_item.indptr), k, lam, item_damping)

    def user_step() -> np.ndarray:
        targets = by_user.data - mu - item_bias[by_user.indices]
        return solve_rows(
            by_user.indptr, by_user.indices, targets, _augment(item_factors), user_reg
        )

    solved = user_step()
    for _ in range(int(params["iterations"])):
        user_factors, user_bias = solved[:, :k], solved[:, k]
        targets = by_item.data - mu - user_bias[by_item.indices]
        solved_items = solve_rows(
            by_item.indptr, by_item.indices, targets, _augment(user_factors), item_reg
        )
        item_factors, item_bias = solved_items[:, :k], solved_items[:, k]
        solved = user_step()
    return ExplicitALSModel(
        users=ratings.users,
        items=ratings.items,
        user_factors=solved[:, :k].copy(),
        item_factors=np.ascontiguousarray(item_factors),
        train=ratings.matrix,
        params=dict(params),
        global_mean=mu,
        user_bias=solved[:, k].copy(),
        item_bias=item_bias.copy(),
        kind="explicit-als",
    )
