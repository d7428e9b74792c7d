"""Explicit ALS on 1..10 ratings, with a global mean and user/artist biases.

Model:  r_ui ~ mu + b_u + b_i + x_u . y_i, fitted by alternating least squares on the observed
ratings only, with L2 regularisation scaled like Spark MLlib's ("weighted-lambda"): a user's
factors are penalised by lambda * n_u, an artist's by lambda * n_i. The biases are solved
jointly with the factors by augmenting the vectors, x~_u = [x_u, b_u] against y~_i = [y_i, 1]:

    x~_u = (Y~_u^T Y~_u + diag(lambda n_u, ..., lambda n_u, lambda_b))^-1 Y~_u^T (r_u - mu - b_I)

and symmetrically for the artists; lambda_b is a constant (a damping, as in the classic damped
bias baseline, one for users and one for artists) so that biases resting on few ratings shrink
towards 0.

Rating-scale layer (``rating_calibration``, on by default). The factors alone barely beat the
damped-bias baseline on listen-derived ratings (docs/evaluation.md). So predicted ratings go
through a small linear layer,

    r_ui ~ w . f_ui,   f_ui = [1, mu + b_u + b_i, x_u . y_i, s_ui, s_ui^2,
                               log1p(n_i) - mean_{j in R(u)} log1p(n_j)]

where s_ui is the preference score of an implicit-feedback ALS model fitted on the same
ratings (which artists a user has: the SVD++ idea, from training data only) and the last
feature is how popular the artist is compared with the user's other artists. No feature
describes how the ratings were made (an earlier version read whether a user's known ratings
left the top or the bottom of the scale unused, which told it where a per-user mapping had put
the held-out ratings: a leak, removed). The weights w are fitted by ridge regression on a
held-out 20% of the *training* ratings (models refitted on the other 80%), then the models
are refitted on all the training ratings. The layer is a deterministic function of the
training matrix, the parameters and the factors, so it is fitted on first use (training and
loading stay fast; ranking never needs it) and a model loaded from its arrays rebuilds the
same layer. It affects ``predict``/``predict_for_ratings`` only; ranking and the ``because``
decomposition use the factor scores above.

Why by hand: ``implicit`` only solves the implicit-feedback objective and Spark needs a JVM;
the batched per-row solver lives in :mod:`musicrec.engine.solve` (no Python loop per user).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import IdMap, RatingMatrix
from musicrec.engine.implicit_als import ImplicitALSModel, train_implicit
from musicrec.engine.model import FactorModel, FoldIn, IterationCallback
from musicrec.engine.settings import ExplicitSettings, ImplicitSettings
from musicrec.engine.solve import solve_rows

CALIBRATION_FEATURES = (
    "intercept",
    "bias",
    "factors",
    "implicit",
    "implicit^2",
    "relative_popularity",
)
# w of the uncalibrated model (mu + b_u + b_i + x_u . y_i): the fallback on too little data.
IDENTITY_WEIGHTS = np.array([0.0, 1.0, 1.0] + [0.0] * (len(CALIBRATION_FEATURES) - 3))
CALIBRATION_FRACTION = 0.2  # share of the training ratings held out to fit the layer
CALIBRATION_RIDGE = 1e-3
MIN_CALIBRATION_RATINGS = 50


def _regularisation(counts: np.ndarray, k: int, lam: float, lam_bias: float) -> np.ndarray:
    """Per-row diagonal: lambda * n for the k factors, lambda_b for the bias."""
    reg = np.empty((counts.size, k + 1))
    reg[:, :k] = lam * np.maximum(counts, 1)[:, None]
    reg[:, k] = lam_bias
    return reg


def _augment(factors: np.ndarray) -> np.ndarray:
    return np.hstack([factors, np.ones((factors.shape[0], 1))])


def pair_features(
    bias: np.ndarray,
    factors: np.ndarray,
    implicit: np.ndarray,
    relative_popularity: np.ndarray,
) -> np.ndarray:
    """The layer's design matrix, columns in the order of ``CALIBRATION_FEATURES``."""
    return np.column_stack(
        [
            np.ones(np.shape(bias)),
            bias,
            factors,
            implicit,
            implicit**2,
            relative_popularity,
        ]
    )


@dataclass(frozen=True)
class UserScale:
    """Per-user statistics of known ratings (arrays over users, or length-1 for a fold-in)."""

    mean_log_popularity: np.ndarray  # mean over the user's artists of log1p(n_j)


def user_scale(matrix: sp.csr_matrix, log_popularity: np.ndarray) -> UserScale:
    """:class:`UserScale` of every row of a CSR rating matrix (rows with no ratings: 0)."""
    counts = np.diff(matrix.indptr)
    has = counts > 0
    starts = matrix.indptr[:-1][has]
    popularity = np.zeros(counts.size)
    if matrix.nnz:
        n = counts[has].astype(np.float64)
        popularity[has] = np.add.reduceat(log_popularity[matrix.indices], starts) / n
    return UserScale(popularity)


@dataclass
class RatingScaleLayer:
    """The fitted linear layer and what its features need (see the module docstring)."""

    weights: np.ndarray
    implicit: ImplicitALSModel  # trained on the same ratings, same users and items
    log_popularity: np.ndarray  # per item: log1p(number of training ratings)
    rating_range: tuple[float, float]
    users: UserScale  # of the training users

    def features(
        self,
        base: np.ndarray,
        factors: np.ndarray,
        implicit: np.ndarray,
        scale: UserScale,
        user_index: np.ndarray,
        item_index: np.ndarray,
    ) -> np.ndarray:
        """f for pairs; ``user_index`` into ``scale`` (-1: unknown), ``item_index`` into the
        items (-1: unknown); unknown users or items have 0 for the features they lack."""
        ku, ki = user_index >= 0, item_index >= 0
        u, i = np.maximum(user_index, 0), np.maximum(item_index, 0)
        relative = np.where(ku & ki, self.log_popularity[i] - scale.mean_log_popularity[u], 0.0)
        return pair_features(base, factors, implicit, relative)

    def predict(
        self,
        base: np.ndarray,
        factors: np.ndarray,
        implicit: np.ndarray,
        scale: UserScale,
        user_index: np.ndarray,
        item_index: np.ndarray,
    ) -> np.ndarray:
        """w . f, clipped to the training ratings' range."""
        features = self.features(base, factors, implicit, scale, user_index, item_index)
        return np.clip(features @ self.weights, *self.rating_range)


class ExplicitALSModel(FactorModel[ExplicitSettings]):
    """Factors and biases from explicit ALS; predicts ratings as well as ranking artists."""

    _aug: np.ndarray | None = None
    _layer: RatingScaleLayer | None = None
    _layer_built: bool = False

    def scale_layer(self) -> RatingScaleLayer | None:
        """The rating-scale layer (built on first use for a model loaded from its arrays);
        None when ``rating_calibration`` is off."""
        if not self._layer_built:
            if self.settings.rating_calibration:
                self._layer = fit_scale_layer(self, self.train, self.settings)
            self._layer_built = True
        return self._layer

    def _augmented_items(self, index: np.ndarray | slice) -> np.ndarray:
        if self._aug is None:
            self._aug = _augment(self.item_factors)
        return self._aug[index]

    def _user_vector(self, u: int) -> np.ndarray:
        assert self.user_bias is not None
        return np.append(self.user_factors[u], self.user_bias[u])

    def fold_in_indices(
        self, rated: np.ndarray, ratings: np.ndarray, disliked: np.ndarray | None = None
    ) -> FoldIn:
        """A "not for me" artist counts as the lowest rating; the decomposition (``because``)
        keeps the rated artists only."""
        assert self.item_bias is not None
        values = np.asarray(ratings, dtype=np.float64)
        liked = rated
        if disliked is not None and disliked.size:
            rated = np.concatenate([rated, disliked])
            values = np.concatenate([values, np.full(disliked.size, float(self.disliked_rating))])
        k = self.item_factors.shape[1]
        yr = self._augmented_items(rated)
        t = values - self.global_mean - self.item_bias[rated]
        reg = _regularisation(
            np.array([rated.size]),
            k,
            self.settings.regularization,
            self.settings.user_bias_regularization,
        )[0]
        # W = (Y~_r^T Y~_r + diag(reg))^-1;  x~ = W Y~_r^T t
        weights = np.linalg.inv(yr.T @ yr + np.diag(reg))
        return FoldIn(weights @ (yr.T @ t), liked, weights, t[: liked.size])

    @property
    def disliked_rating(self) -> float:
        """The lowest rating seen in training: what "not for me" stands for."""
        return float(self.train.data.min()) if self.train.nnz else 1.0

    def _base_and_factors(self, u: np.ndarray, i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """mu + b_u + b_i and x_u . y_i for index pairs (-1: unknown, contributes nothing)."""
        assert self.user_bias is not None and self.item_bias is not None
        ku, ki = u >= 0, i >= 0
        both = ku & ki
        base = np.full(u.shape, self.global_mean, dtype=np.float64)
        base[ku] += self.user_bias[u[ku]]
        base[ki] += self.item_bias[i[ki]]
        factors = np.zeros(u.shape)
        factors[both] = np.einsum(
            "nk,nk->n", self.user_factors[u[both]], self.item_factors[i[both]]
        )
        return base, factors

    def predict_uncalibrated(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """mu + b_u + b_i + x_u . y_i; an unknown user or artist contributes no bias and no
        factors."""
        base, factors = self._base_and_factors(
            self.users.indices(user_ids), self.items.indices(item_ids)
        )
        return base + factors

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Predicted ratings of (user, artist) pairs of known or unknown ids, through the
        rating-scale layer when it is on."""
        layer = self.scale_layer()
        if layer is None:
            return self.predict_uncalibrated(user_ids, item_ids)
        u, i = self.users.indices(user_ids), self.items.indices(item_ids)
        base, factors = self._base_and_factors(u, i)
        implicit = _implicit_scores(layer.implicit, layer.implicit.user_factors, u, i)
        return layer.predict(base, factors, implicit, layer.users, u, i)

    def predict_for_ratings(
        self, artist_ids: np.ndarray, ratings: np.ndarray, target_ids: np.ndarray
    ) -> np.ndarray:
        """Predicted ratings of ``target_ids`` for a user not in the model, folded in from
        their (artist id, rating) pairs (unknown artists ignored)."""
        ids = np.asarray(artist_ids, dtype=np.int64)
        values = np.asarray(ratings, dtype=np.float64)
        fold = self.fold_in(ids, values)
        targets = self.items.indices(np.asarray(target_ids, dtype=np.int64))
        known = targets >= 0
        assert self.item_bias is not None
        base = np.full(targets.shape, self.global_mean + fold.vector[-1])
        base[known] += self.item_bias[targets[known]]
        factors = np.zeros(targets.shape)
        factors[known] = self.item_factors[targets[known]] @ fold.vector[:-1]
        layer = self.scale_layer()
        if layer is None:
            return base + factors
        implicit = np.zeros(targets.shape)
        if fold.rated.size:
            vector = layer.implicit.fold_in_indices(
                fold.rated, values[self.items.indices(ids) >= 0]
            )
            implicit[known] = layer.implicit.item_factors[targets[known]] @ vector.vector
        row = sp.csr_matrix(
            (values[self.items.indices(ids) >= 0], fold.rated, [0, fold.rated.size]),
            shape=(1, len(self.items)),
        )
        scale = user_scale(row, layer.log_popularity)
        users = (
            np.zeros(targets.shape, dtype=np.int64) if fold.rated.size else -np.ones_like(targets)
        )
        return layer.predict(base, factors, implicit, scale, users, targets)


def _implicit_scores(
    model: ImplicitALSModel, user_factors: np.ndarray, u: np.ndarray, i: np.ndarray
) -> np.ndarray:
    both = (u >= 0) & (i >= 0)
    out = np.zeros(u.shape)
    out[both] = np.einsum("nk,nk->n", user_factors[u[both]], model.item_factors[i[both]])
    return out


def _implicit_model(
    matrix: sp.csr_matrix, users: IdMap, items: IdMap, seed: int
) -> ImplicitALSModel:
    # One thread: the layer must be a deterministic function of the training data.
    settings = ImplicitSettings(seed=seed, threads=1)
    return train_implicit(RatingMatrix(users, items, matrix), settings)


def _layer_parts(
    model: ExplicitALSModel, matrix: sp.csr_matrix, seed: int
) -> tuple[ImplicitALSModel, np.ndarray, tuple[float, float], UserScale]:
    data = np.asarray(matrix.data, dtype=np.float64)
    rating_range = (float(data.min()), float(data.max()))
    log_popularity = np.log1p(np.bincount(matrix.indices, minlength=matrix.shape[1]))
    implicit = _implicit_model(matrix, model.users, model.items, seed)
    return implicit, log_popularity, rating_range, user_scale(matrix, log_popularity)


def fit_scale_layer(
    model: ExplicitALSModel, matrix: sp.csr_matrix, settings: ExplicitSettings
) -> RatingScaleLayer:
    """Fit the layer's weights on a held-out part of ``matrix`` (models refitted on the rest),
    then build it on the whole of ``matrix`` around ``model`` (trained on all of it)."""
    seed = settings.seed
    implicit, log_popularity, rating_range, users = _layer_parts(model, matrix, seed)
    weights = IDENTITY_WEIGHTS.copy()
    coo = matrix.tocoo()
    n_held = int(round(CALIBRATION_FRACTION * coo.nnz))
    if n_held >= MIN_CALIBRATION_RATINGS:
        held = np.zeros(coo.nnz, dtype=bool)
        held[np.random.default_rng(seed + 1).permutation(coo.nnz)[:n_held]] = True
        rest = sp.csr_matrix(
            (coo.data[~held], (coo.row[~held], coo.col[~held])), shape=matrix.shape
        )
        rest.sort_indices()
        inner = _train_factors(RatingMatrix(model.users, model.items, rest), settings)
        inner_implicit, inner_popularity, inner_range, inner_users = _layer_parts(inner, rest, seed)
        u, i = coo.row[held].astype(np.int64), coo.col[held].astype(np.int64)
        # users/items with no rating left in ``rest`` are unknown to the inner models
        u = np.where(np.diff(rest.indptr)[u] > 0, u, -1)
        i = np.where(np.bincount(rest.indices, minlength=matrix.shape[1])[i] > 0, i, -1)
        base, factors = inner._base_and_factors(u, i)
        implicit_scores = _implicit_scores(inner_implicit, inner_implicit.user_factors, u, i)
        probe = RatingScaleLayer(
            IDENTITY_WEIGHTS, inner_implicit, inner_popularity, inner_range, inner_users
        )
        features = probe.features(base, factors, implicit_scores, inner_users, u, i)
        ridge = CALIBRATION_RIDGE * np.eye(features.shape[1])
        ridge[0, 0] = 0.0
        target = coo.data[held].astype(np.float64)
        weights = np.linalg.solve(features.T @ features + ridge, features.T @ target)
    return RatingScaleLayer(weights, implicit, log_popularity, rating_range, users)


def train_explicit(
    ratings: RatingMatrix,
    settings: ExplicitSettings,
    on_iteration: IterationCallback | None = None,
) -> ExplicitALSModel:
    """Train the factors (:func:`_train_factors`); the rating-scale layer (when
    ``rating_calibration`` is on) is fitted on the first rating prediction, as only
    ``predict`` needs it (~1 s on the shared data)."""
    return _train_factors(ratings, settings, on_iteration)


def training_rmse(
    matrix: sp.csr_matrix,
    mu: float,
    user_solved: np.ndarray,
    item_factors: np.ndarray,
    item_bias: np.ndarray,
) -> float:
    """sqrt(mean over rated pairs of (r_ui - mu - b_u - b_i - x_u . y_i)^2)."""
    k = item_factors.shape[1]
    users = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    items = matrix.indices
    predicted = (
        mu
        + user_solved[users, k]
        + item_bias[items]
        + np.einsum("ij,ij->i", user_solved[users, :k], item_factors[items])
    )
    return float(np.sqrt(np.mean((matrix.data - predicted) ** 2)))


def _train_factors(
    ratings: RatingMatrix,
    settings: ExplicitSettings,
    on_iteration: IterationCallback | None = None,
) -> ExplicitALSModel:
    """Alternate the two batched solves ``iterations`` times, then one last user solve so
    that stored user vectors are exactly the fold-in of their ratings. ``on_iteration`` gets
    the training RMSE after each sweep."""
    k = settings.factors
    lam = settings.regularization
    user_damping = settings.user_bias_regularization
    item_damping = settings.item_bias_regularization
    by_user = ratings.matrix.astype(np.float64).tocsr()
    by_item = by_user.T.tocsr()
    mu = float(by_user.data.mean()) if by_user.nnz else 0.0
    rng = np.random.default_rng(settings.seed)
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
    for iteration in range(settings.iterations):
        user_factors, user_bias = solved[:, :k], solved[:, k]
        targets = by_item.data - mu - user_bias[by_item.indices]
        solved_items = solve_rows(
            by_item.indptr, by_item.indices, targets, _augment(user_factors), item_reg
        )
        item_factors, item_bias = solved_items[:, :k], solved_items[:, k]
        solved = user_step()
        if on_iteration is not None:
            loss = training_rmse(by_user, mu, solved, item_factors, item_bias)
            on_iteration(iteration + 1, loss)
    return ExplicitALSModel(
        users=ratings.users,
        items=ratings.items,
        user_factors=solved[:, :k].copy(),
        item_factors=np.ascontiguousarray(item_factors),
        train=ratings.matrix,
        settings=settings,
        global_mean=mu,
        user_bias=solved[:, k].copy(),
        item_bias=item_bias.copy(),
        kind="explicit-als",
    )
