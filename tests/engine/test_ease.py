"""EASE: the closed form against a direct NumPy reference, and ranking on block data."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import RatingMatrix
from musicrec.engine.ease import EASEModel, ease_weights
from tests.engine.conftest import block, checkerboard, item_block


def _reference(x: np.ndarray, lam: float) -> np.ndarray:
    """B = I - P diag(1/diag(P)), P = (X^T X + lambda I)^-1, in float64."""
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    return np.eye(x.shape[1]) - p / np.diag(p)[None, :]


def test_weights_match_the_closed_form(rng: np.random.Generator) -> None:
    x = (rng.random((50, 12)) < 0.3).astype(np.float64)
    weights = ease_weights(sp.csr_matrix(x), 5.0)
    assert weights.dtype == np.float32
    np.testing.assert_allclose(weights, _reference(x, 5.0), atol=1e-5)
    np.testing.assert_array_equal(np.diag(weights), 0.0)


def test_recommends_the_users_own_block_and_never_a_known_artist() -> None:
    users, items, ratings = checkerboard(low_ratings=False)
    model = EASEModel(RatingMatrix.from_arrays(users, items, ratings), lam=1.0, min_support=1)
    recs = model.recommend_batch(np.array([1000, 1039]), n=5)
    for user, row in zip((0, 39), recs, strict=True):
        assert all(item_block(int(i) - 500) == block(user) for i in row)
        assert not set(row.tolist()) & set(items[users == user + 1000].tolist())
    new = model.recommend_ids_for_ratings(np.array([500, 501, 999]), np.ones(3), n=4)
    assert all(item_block(int(i) - 500) == 0 for i in new) and not {500, 501} & set(new)


def test_artists_below_the_support_are_never_recommended() -> None:
    users = np.array([1, 1, 2, 2, 3, 3, 3])
    items = np.array([10, 11, 10, 11, 10, 11, 12])  # artist 12 has one listener
    model = EASEModel(RatingMatrix.from_arrays(users, items, np.ones(7)), lam=1.0, min_support=2)
    assert model.items.ids[model.columns].tolist() == [10, 11]
    assert 12 not in model.recommend_ids_for_ratings(np.array([10]), np.ones(1), n=3)
