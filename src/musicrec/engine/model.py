"""The shared machinery of the factor models (the interface they offer is in ``ranking``).

A factor model scores item i for a user with vector x and bias b as

    score_i = mu + b + item_bias_i + y_i . x

(implicit ALS has mu = b = item_bias = 0). Its fold-in solves a linear system whose solution
is x~ = W sum_j t_j y~_j over the user's rated items j (weights ``t``, matrix ``W``, augmented
item vectors ``y~``); so each rated item's share of score_i is y~_i^T W y~_j t_j (Hu, Koren and
Volinsky 2008, section 5). That decomposition is the ``because`` of each recommendation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import IdMap
from musicrec.engine.discovery import (
    DEFAULT_DISCOVERY,
    check_discovery,
    penalise,
    penalty_weights,
    score_scale,
)
from musicrec.engine.neighbours import (
    DEFAULT_NEIGHBOURHOOD,
    Neighbourhood,
    most_similar,
    shared_listeners,
    shrunk,
    unit_rows,
)
from musicrec.engine.popularity import popularity_scores
from musicrec.engine.ranking import ScoredArtist, top_n
from musicrec.engine.settings import ModelSettings

SettingsT = TypeVar("SettingsT", bound=ModelSettings)
# Called after each training sweep with its number (from 1) and the training loss, if known.
IterationCallback = Callable[[int, float | None], None]


def _array(values: Iterable[float], dtype: type[np.generic]) -> np.ndarray:
    """``values`` as a 1-d array of ``dtype``: an array as it is (converted if need be), any
    other iterable read once."""
    if isinstance(values, np.ndarray):
        return values.astype(dtype, copy=False)
    return np.fromiter(values, dtype=dtype)


@dataclass(frozen=True)
class FoldIn:
    """A user's solved vector and what the score decomposition needs."""

    vector: np.ndarray  # x~ (augmented: x, then b for explicit models)
    rated: np.ndarray  # dense item indices j
    weights: np.ndarray  # W, the inverse of the normal-equation matrix
    targets: np.ndarray  # t_j


@dataclass
class FactorModel(Generic[SettingsT]):
    """Factors and id maps of a trained ALS model (see the subclasses for the solvers)."""

    users: IdMap
    items: IdMap
    user_factors: np.ndarray  # (users, k)
    item_factors: np.ndarray  # (items, k)
    train: sp.csr_matrix  # the ratings it was trained on, users x items
    settings: SettingsT
    global_mean: float = 0.0
    user_bias: np.ndarray | None = None
    item_bias: np.ndarray | None = None
    kind: str = "factor"
    _normed: np.ndarray | None = field(default=None, repr=False)
    # float32 copies of the item vectors, biases and popularity shares, for choosing (_top)
    _ranking: tuple[np.ndarray, np.ndarray | None, np.ndarray] | None = field(
        default=None, repr=False
    )
    _counts: np.ndarray | None = field(default=None, repr=False)
    _by_item: sp.csc_matrix | None = field(default=None, repr=False)
    # The discovery penalty's evidence floor; None: ``discovery.evidence_floor`` of the counts.
    min_listeners: float | None = field(default=None, repr=False)

    def set_min_listeners(self, value: float | None) -> None:
        """Rank with another evidence floor (0: none, the penalty as it was; for evaluation)."""
        self.min_listeners, self._ranking = value, None

    # -- to be provided by subclasses -------------------------------------------------------
    def fold_in_indices(
        self, rated: np.ndarray, ratings: np.ndarray, disliked: np.ndarray | None = None
    ) -> FoldIn:
        """Solve a user's vector from dense item indices and ratings; ``disliked`` items
        ("not for me") enter as a negative signal (see the subclasses for how)."""
        raise NotImplementedError

    def new_user_fold_in(
        self, rated: np.ndarray, ratings: np.ndarray, disliked: np.ndarray | None = None
    ) -> FoldIn:
        """The fold-in of a user not in the model (what ``fold_in`` and the app use); the
        training's own solve unless a subclass tunes it for users known by few ratings."""
        return self.fold_in_indices(rated, ratings, disliked)

    def _augmented_items(self, index: np.ndarray | slice) -> np.ndarray:
        """y~_i: the item vectors as they enter the user's linear system."""
        return self.item_factors[index]

    def _user_vector(self, u: int) -> np.ndarray:
        return self.user_factors[u]

    # -- scoring ------------------------------------------------------------------------------
    def scores(self, vector: np.ndarray) -> np.ndarray:
        """Scores of every item for an augmented user vector x~."""
        base = self._augmented_items(slice(None)) @ vector
        if self.item_bias is not None:
            base = base + self.item_bias + self.global_mean
        return base

    def _top(
        self, vector: np.ndarray, n: int, banned: np.ndarray, discovery: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """The n best items for a user vector, best first, with their exact scores.

        Choosing streams every item vector once per request; a float32 copy halves the bytes
        (the bound at 292k artists), then the few chosen are scored again in float64 and
        ordered by those scores (with the ``discovery`` penalty, ``engine.discovery``).
        """
        if self._ranking is None:
            items = np.ascontiguousarray(self._augmented_items(slice(None)), dtype=np.float32)
            bias = None
            if self.item_bias is not None:
                bias = (self.item_bias + self.global_mean).astype(np.float32)
            weights = penalty_weights(self.rating_counts(), self.min_listeners)
            shares = weights.astype(np.float32)
            self._ranking = (items, bias, shares)
        items, bias, shares = self._ranking
        rough = items @ vector.astype(np.float32)
        if bias is not None:
            rough += bias
        scale = score_scale(rough) if discovery else 1.0  # a full pass: only when penalising
        best = top_n(penalise(rough, shares, discovery, scale), n, banned)
        exact = self._augmented_items(best) @ vector
        if self.item_bias is not None:
            exact = exact + self.item_bias[best] + self.global_mean
        ranked = penalise(exact, shares[best], discovery, scale)
        order = np.lexsort((best, -ranked))
        return best[order], exact[order]

    def has_user(self, user_id: int) -> bool:
        return self.users.index(user_id) >= 0

    def _banned(self, rated: np.ndarray, exclude: Iterable[int]) -> np.ndarray:
        """Dense indices never to pick: ``rated`` and the known ones of ``exclude`` (repeats
        allowed: the selection only masks them)."""
        excluded = self.items.indices(np.fromiter(exclude, dtype=np.int64))
        return np.concatenate([rated.astype(np.int64), excluded[excluded >= 0]])

    def _package(
        self, best: np.ndarray, scores: np.ndarray, fold: FoldIn | None, explain: int
    ) -> list[ScoredArtist]:
        """``scores[r]`` is the score of ``best[r]``."""
        because: list[tuple[int, ...]] = [()] * best.size
        if fold is not None and explain > 0 and fold.rated.size and best.size:
            # share[i, j] = y~_i^T W y~_j t_j
            left = self._augmented_items(best) @ fold.weights
            share = (left @ self._augmented_items(fold.rated).T) * fold.targets[None, :]
            order = np.argsort(-share, axis=1, kind="stable")[:, :explain]
            because = [
                tuple(int(self.items.ids[fold.rated[j]]) for j in row if share[r, j] > 0)
                for r, row in enumerate(order)
            ]
        return [
            ScoredArtist(int(self.items.ids[i]), float(scores[r]), because[r])
            for r, i in enumerate(best)
        ]

    def recommend(
        self, user_id: int, n: int = 10, *, exclude: Iterable[int] = (), explain: int = 3
    ) -> list[ScoredArtist]:
        """Top n for a user in the model, never an item they rated in training or in
        ``exclude``; an unknown user raises KeyError (fold them in instead)."""
        u = self.users.index(user_id)
        if u < 0:
            raise KeyError(f"user {user_id} is not in the model")
        start, end = self.train.indptr[u], self.train.indptr[u + 1]  # no scipy row slicing
        rated, ratings = self.train.indices[start:end].astype(np.int64), self.train.data[start:end]
        best, scores = self._top(self._user_vector(u), n, self._banned(rated, exclude))
        fold = self.fold_in_indices(rated, ratings) if explain > 0 else None
        return self._package(best, scores, fold, explain)

    def rating_counts(self) -> np.ndarray:
        """Each item's number of training ratings (its popularity), computed once."""
        if self._counts is None:
            self._counts = popularity_scores(self.train)
        return self._counts

    def fold_in(
        self, artist_ids: Iterable[int], ratings: Iterable[float], disliked: Iterable[int] = ()
    ) -> FoldIn:
        """Solve a user's vector from (artist id, rating) pairs and the artists they marked
        "not for me"; unknown artists are ignored."""
        ids = _array(artist_ids, np.int64)
        values = _array(ratings, np.float64)
        if ids.shape != values.shape:
            raise ValueError("artist_ids and ratings must have the same length")
        rated = self.items.indices(ids)
        known = rated >= 0
        against = self.items.indices(_array(disliked, np.int64))
        against = against[against >= 0]
        if against.size:  # (most users mark none: no set operation then)
            against = np.setdiff1d(against, rated[known])
        return self.new_user_fold_in(rated[known], values[known], against if against.size else None)

    def recommend_for_ratings(
        self,
        artist_ids: Iterable[int],
        ratings: Iterable[float],
        n: int = 10,
        *,
        exclude: Iterable[int] = (),
        explain: int = 3,
        disliked: Iterable[int] = (),
        discovery: float | None = None,
    ) -> list[ScoredArtist]:
        """Top n for a user not in the model, folded in from their current ratings against
        the fixed item factors (no retraining); rated and ``exclude`` artists never appear.

        ``disliked`` artists are a negative signal in the fold-in and never appear either;
        ``discovery`` (0..1) penalises popular artists (``engine.discovery``); None is the
        app's default, ``DEFAULT_DISCOVERY``, as a user who never moved the slider gets.
        """
        ids = np.fromiter(artist_ids, dtype=np.int64)
        against = np.fromiter(disliked, dtype=np.int64)
        exclude = np.concatenate([np.fromiter(exclude, dtype=np.int64), against])
        fold = self.fold_in(ids, ratings, against)
        if fold.rated.size == 0 and self.item_bias is None:
            # Nothing known to fold in and no biases: every score would be 0, so rank by
            # popularity in the training data instead (the popularity model's answer).
            scores = popularity_scores(self.train)
            best = top_n(scores, n, self._banned(fold.rated, exclude))
            return self._package(best, scores[best], None, 0)
        banned = self._banned(fold.rated, exclude)
        setting = DEFAULT_DISCOVERY if discovery is None else check_discovery(discovery)
        best, best_scores = self._top(fold.vector, n, banned, setting)
        return self._package(best, best_scores, fold, explain)

    def recommend_batch(self, user_ids: np.ndarray, n: int = 10) -> np.ndarray:
        """Top-n artist ids for many known users at once (rated items excluded), for
        evaluation; rows with fewer candidates are padded with -1."""
        u = self.users.indices(np.asarray(user_ids, dtype=np.int64))
        if (u < 0).any():
            raise KeyError("some users are not in the model")
        vectors = np.stack([self._user_vector(int(i)) for i in u]) if u.size else None
        out = np.full((u.size, n), -1, dtype=np.int64)
        if vectors is None:
            return out
        scores = vectors @ self._augmented_items(slice(None)).T
        if self.item_bias is not None:
            scores += self.item_bias[None, :]
        rated = self.train[u]
        scores[rated.nonzero()] = -np.inf
        for r in range(u.size):
            best = top_n(scores[r], n, np.empty(0, dtype=np.int64))
            out[r, : best.size] = self.items.ids[best]
        return out

    def similar_artists(
        self, artist_id: int, n: int = 10, setting: Neighbourhood = DEFAULT_NEIGHBOURHOOD
    ) -> list[tuple[int, float]]:
        """The n artists most similar to this one: the cosine of their factor vectors, shrunk
        by the listeners they share (``neighbours``)."""
        i = self.items.index(artist_id)
        if i < 0:
            raise KeyError(f"artist {artist_id} is not in the model")
        cosine, shared = self.similarity_parts(i)
        if not np.any(cosine):
            return []
        scores = shrunk(cosine, shared, setting)
        best = most_similar(cosine, shared, i, n, setting)
        return [(int(self.items.ids[j]), float(scores[j])) for j in best]

    def similarity_parts(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """(cosine of item i with every item, listeners it shares with each) for dense index i."""
        if self._normed is None:
            self._normed = unit_rows(self.item_factors)
        if self._by_item is None:
            self._by_item = self.train.tocsc()
        cosine = self._normed @ self._normed[i]
        return cosine, shared_listeners(self.train, self._by_item, i)

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything needed to rebuild the model, as named arrays (for ``ModelStore``)."""
        out = {
            "user_ids": self.users.ids,
            "item_ids": self.items.ids,
            "user_factors": self.user_factors,
            "item_factors": self.item_factors,
            "train_indptr": self.train.indptr,
            "train_indices": self.train.indices,
            "train_data": self.train.data,
            "global_mean": np.array(self.global_mean),
        }
        if self.user_bias is not None and self.item_bias is not None:
            out["user_bias"] = self.user_bias
            out["item_bias"] = self.item_bias
        return out
