"""Listens -> 1..10 rating mappings."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from musicrec.engine.mapping import (
    MAPPINGS,
    listens_to_ratings,
    log_minmax_1_10,
    minmax_5_10,
    rank_1_10,
)


def _rank_reference(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    out = np.empty(listens.size, dtype=np.int16)
    for u in np.unique(user_index):
        rows = np.flatnonzero(user_index == u)
        ranks = rankdata(listens[rows], method="average")
        out[rows] = np.clip(np.ceil(10 * ranks / rows.size - 1e-9), 1, 10)
    return out


def test_rank_mapping_matches_per_user_reference(rng: np.random.Generator) -> None:
    user_index = np.repeat(np.arange(30), rng.integers(1, 60, size=30))
    listens = rng.integers(1, 20, size=user_index.size)  # many ties
    np.testing.assert_array_equal(
        rank_1_10(user_index, listens), _rank_reference(user_index, listens)
    )


def test_rank_mapping_spreads_one_user_over_the_scale() -> None:
    ratings = rank_1_10(np.zeros(10, dtype=int), np.array([5, 1, 2, 3, 4, 6, 7, 8, 9, 100]))
    np.testing.assert_array_equal(ratings, [5, 1, 2, 3, 4, 6, 7, 8, 9, 10])


def test_minmax_original_app_mapping() -> None:
    ratings = minmax_5_10(np.array([0, 0, 0, 1]), np.array([1, 11, 3, 7]))
    np.testing.assert_array_equal(ratings, [5, 10, 6, 5])


def test_log_minmax_mapping() -> None:
    ratings = log_minmax_1_10(np.array([0, 0, 0, 1]), np.array([0, np.e**2 - 1, np.e - 1, 4]))
    np.testing.assert_array_equal(ratings, [1, 10, 6, 10])


def test_default_mapping_is_registered_and_in_range(rng: np.random.Generator) -> None:
    user_index = np.repeat(np.arange(5), 7)
    listens = rng.integers(1, 1000, size=user_index.size)
    ratings = listens_to_ratings(user_index, listens)
    assert ratings.dtype == np.int16
    assert ratings.min() >= 1 and ratings.max() <= 10
    assert any(np.array_equal(f(user_index, listens), ratings) for f in MAPPINGS.values())
