"""Implicit-feedback ALS (Hu, Koren and Volinsky 2008) trained by the ``implicit`` library.

Every unobserved (user, artist) pair is a zero preference with confidence 1; a rated pair is a
preference of 1 with confidence c derived from the rating:

- ``bm25``: c = alpha * bm25(r), the BM25 weight of the rating matrix (implicit's
  ``bm25_weight``): rare artists and short profiles weigh more;
- ``linear``: c = alpha * r;  ``log``: c = alpha * log1p(r).

Training is the library's; the fold-in of a user not in the model is done here because it
must also return the score decomposition, and because it needs no thread pool for one user:

    x_u = (Y^T C_u Y + reg I)^-1 Y^T C_u p_u,   Y^T C_u Y = Y^T Y + Y_r^T (C_r - I) Y_r

A *new* user (the app's only kind: every request folds the user in from their current
ratings) is folded in with two settings of its own, chosen for a user known by a handful of
ratings (``musicrec evaluate-taste``, docs/evaluation.md "Recommendations for a new user"):
the ratings are flattened towards their mean, r~ = mean(r) (r / mean(r))^p, before the
training confidence is applied (p = ``NEW_USER_RATING_POWER``; p = 1 is the training's own),
and the solve is regularised with ``NEW_USER_REGULARIZATION`` instead of the training's reg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from musicrec.engine.data import RatingMatrix
from musicrec.engine.model import FactorModel, FoldIn, IterationCallback
from musicrec.engine.settings import CONFIDENCE_WEIGHTINGS, ImplicitSettings

# c_d / mean(c_r): how firmly a "not for me" is held against the user's typical rating.
# Chosen on the selection split by ``musicrec evaluate-taste`` (docs/evaluation.md).
DISLIKE_WEIGHT = 0.5
# The fold-in of a new user (module docstring), chosen on the selection group by
# ``musicrec evaluate-taste``: with 10 given artists, which of them a user plays most says
# little (p = 0: each counts at the user's mean rating), and a firmer reg than training's
# keeps 10 ratings from pulling the vector too far.
NEW_USER_RATING_POWER = 0.0
NEW_USER_REGULARIZATION = 10.0
# ... but never firmer than a quarter of the items' mean squared length summed over the
# catalogue (the mean of diag(Y^T Y)): ~55 on Last.fm (48 factors), so 10 is not capped there
# (evaluate-taste explores its grid uncapped); a small model's short vectors (a dozen artists,
# a Spark model's own scale) would otherwise be drowned by it and every score would be ~0.
NEW_USER_REGULARIZATION_CAP = 0.25


@dataclass(frozen=True)
class Bm25Stats:
    """What BM25 needs from the training matrix to weight a new user's row the same way."""

    idf: np.ndarray  # per item: log(N) - log1p(users who rated it)
    average_length: float  # mean over users of the sum of their ratings
    k1: float
    b: float


def bm25_stats(matrix: sp.csr_matrix, k1: float, b: float) -> Bm25Stats:
    n_users, n_items = matrix.shape
    document_frequency = np.bincount(matrix.indices, minlength=n_items)
    idf = np.log(n_users) - np.log1p(document_frequency)
    return Bm25Stats(idf, float(np.asarray(matrix.sum(axis=1)).mean()), k1, b)


def bm25_row(stats: Bm25Stats, items: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """BM25 weights of one user's ratings: r (k1 + 1) / (k1 * norm + r) * idf_i,
    norm = (1 - b) + b * sum(r) / average_length."""
    norm = (1.0 - stats.b) + stats.b * ratings.sum() / stats.average_length
    return ratings * (stats.k1 + 1.0) / (stats.k1 * norm + ratings) * stats.idf[items]


def flattened(ratings: np.ndarray, power: float) -> np.ndarray:
    """mean(r) (r / mean(r))^power: 1 keeps the ratings, 0 gives each the mean (ratings > 0)."""
    if power == 1.0 or ratings.size == 0:
        return ratings
    mean = float(ratings.mean())
    return mean * (ratings / mean) ** power


def confidence_matrix(
    matrix: sp.csr_matrix, weighting: str, alpha: float, stats: Bm25Stats | None
) -> sp.csr_matrix:
    """C - the confidence of every rated pair (zero elsewhere)."""
    out = matrix.astype(np.float64).tocsr(copy=True)
    if weighting == "bm25":
        assert stats is not None
        users = np.repeat(np.arange(out.shape[0]), np.diff(out.indptr))
        sums = np.asarray(out.sum(axis=1)).ravel()
        norm = (1.0 - stats.b) + stats.b * sums[users] / stats.average_length
        out.data = out.data * (stats.k1 + 1.0) / (stats.k1 * norm + out.data)
        out.data *= stats.idf[out.indices]
    elif weighting == "linear":
        pass
    elif weighting == "log":
        out.data = np.log1p(out.data)
    else:
        raise ValueError(
            f"unknown confidence weighting {weighting!r}; use one of {CONFIDENCE_WEIGHTINGS}"
        )
    out.data *= alpha
    return out


class ImplicitALSModel(FactorModel[ImplicitSettings]):
    """Factors from implicit-feedback ALS; see the module docstring for the fold-in."""

    bm25: Bm25Stats | None = None
    _gram: np.ndarray | None = None
    dislike_weight: float = DISLIKE_WEIGHT
    new_user_rating_power: float = NEW_USER_RATING_POWER
    new_user_regularization: float = NEW_USER_REGULARIZATION
    new_user_regularization_cap: float = NEW_USER_REGULARIZATION_CAP

    def confidence(self, rated: np.ndarray, ratings: np.ndarray) -> np.ndarray:
        weighting, alpha = self.settings.confidence, self.settings.alpha
        if weighting == "bm25":
            assert self.bm25 is not None
            return alpha * bm25_row(self.bm25, rated, ratings)
        if weighting == "log":
            return alpha * np.log1p(ratings)
        return alpha * ratings

    def dislike_confidence(self, rated_confidence: np.ndarray) -> float:
        """c_d of a "not for me" artist: ``dislike_weight`` times the user's mean confidence in
        their rated artists (alpha without any), and never below 1, an unrated artist's."""
        typical = float(rated_confidence.mean()) if rated_confidence.size else self.settings.alpha
        return max(1.0, self.dislike_weight * typical)

    def fold_in_indices(
        self,
        rated: np.ndarray,
        ratings: np.ndarray,
        disliked: np.ndarray | None = None,
        *,
        rating_power: float = 1.0,
        regularization: float | None = None,
    ) -> FoldIn:
        """The training's own solve by default (``rating_power`` 1, the training's reg); see
        ``new_user_fold_in`` for a new user's.

        A "not for me" artist d is a known zero preference: p_d = 0, as for any unrated
        artist, but held with confidence c_d > 1 (``dislike_confidence``), so the solve pulls
        x away from y_d harder than from an artist the user merely has not rated."""
        y = self.item_factors.astype(np.float64, copy=False)
        if self._gram is None:
            self._gram = y.T @ y  # Y^T Y, shared by every fold-in
        k = y.shape[1]
        c = self.confidence(rated, flattened(np.asarray(ratings, dtype=np.float64), rating_power))
        reg = self.settings.regularization if regularization is None else regularization
        yr = y[rated]
        # A = Y^T Y + Y_r^T (C_r - I) Y_r + Y_d^T (c_d - 1) Y_d + reg I;   x = A^-1 Y_r^T C_r 1
        # (p_d = 0: the disliked rows add confidence to A and nothing to the right-hand side)
        a = self._gram + (yr.T * (c - 1.0)) @ yr + reg * np.eye(k)
        if disliked is not None and disliked.size:
            yd = y[disliked]
            a += (self.dislike_confidence(c) - 1.0) * (yd.T @ yd)
        weights = np.linalg.inv(a)
        return FoldIn(weights @ (yr.T @ c), rated, weights, c)

    def new_user_fold_in(
        self, rated: np.ndarray, ratings: np.ndarray, disliked: np.ndarray | None = None
    ) -> FoldIn:
        """The fold-in of a user not in the model, with the new-user settings (module
        docstring): what the app serves and ``evaluate-taste`` measures."""
        return self.fold_in_indices(
            rated,
            ratings,
            disliked,
            rating_power=self.new_user_rating_power,
            regularization=self.new_user_fold_in_regularization(),
        )

    def new_user_fold_in_regularization(self) -> float:
        """``new_user_regularization``, capped at ``NEW_USER_REGULARIZATION_CAP`` times the
        mean of diag(Y^T Y), so short item vectors are not drowned (where the cap binds, the
        scores do not change when every item vector is scaled alike)."""
        if self._gram is None:
            y = self.item_factors.astype(np.float64, copy=False)
            self._gram = y.T @ y
        scale = float(np.diag(self._gram).mean()) if self._gram.size else 0.0
        return min(self.new_user_regularization, self.new_user_regularization_cap * scale)

    def arrays(self) -> dict[str, np.ndarray]:
        out = super().arrays()
        if self.bm25 is not None:
            out["bm25_idf"] = self.bm25.idf
            out["bm25_average_length"] = np.array(self.bm25.average_length)
        return out


def train_implicit(
    ratings: RatingMatrix,
    settings: ImplicitSettings,
    on_iteration: IterationCallback | None = None,
) -> ImplicitALSModel:
    """Fit implicit ALS on the confidence of ``ratings``; with ``on_iteration``, the library
    also computes its training loss after each sweep and passes it on."""
    from implicit.cpu.als import AlternatingLeastSquares

    matrix = ratings.matrix
    stats = None
    if settings.confidence == "bm25":
        stats = bm25_stats(matrix, settings.bm25_k1, settings.bm25_b)
    confidence = confidence_matrix(matrix, settings.confidence, settings.alpha, stats)
    # implicit parallelises with its own threads; a multi-threaded BLAS underneath only adds
    # contention (the library checks and warns on construction), so BLAS gets one thread.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=settings.factors,
            regularization=settings.regularization,
            alpha=1.0,  # already applied above, so fold-in and training agree
            iterations=settings.iterations,
            random_state=settings.seed,
            calculate_training_loss=on_iteration is not None,
            num_threads=settings.threads,
        )
        callback = None
        if on_iteration is not None:
            report = on_iteration

            def callback(iteration: int, _seconds: float, loss: float | None) -> None:
                report(iteration + 1, None if loss is None else float(loss))

        model.fit(confidence.astype(np.float32).tocsr(), show_progress=False, callback=callback)
    result = ImplicitALSModel(
        users=ratings.users,
        items=ratings.items,
        user_factors=np.asarray(model.user_factors, dtype=np.float64),
        item_factors=np.asarray(model.item_factors, dtype=np.float64),
        train=matrix,
        settings=settings,
        kind="implicit-als",
    )
    result.bm25 = stats
    return result
