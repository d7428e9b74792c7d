"""Listens -> 1..10 rating mappings."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from musicrec.engine.mapping import (
    MAPPINGS,
    listens_to_ratings,
    log_minmax_1_10,
    minmax_5_10,
    rank_1_10,
    rate_against_training,
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


def _insert_rank_reference(train: np.ndarray, x: float) -> int:
    """rank-1-10 of x computed by inserting it among the training listens."""
    combined = np.append(train, x).astype(np.float64)
    rank = rankdata(combined, method="average")[-1]
    return int(np.clip(np.ceil(10 * rank / combined.size - 1e-9), 1, 10))


def test_rate_against_training_ranks_a_held_out_listen_among_the_training_ones(
    rng: np.random.Generator,
) -> None:
    train_users = np.repeat(np.arange(8), rng.integers(1, 15, size=8))
    train_listens = rng.integers(1, 12, size=train_users.size)
    users = rng.integers(0, 8, size=40)
    listens = rng.integers(0, 14, size=40)
    rated = rate_against_training("rank-1-10", train_users, train_listens, users, listens)
    expected = [
        _insert_rank_reference(train_listens[train_users == u], x)
        for u, x in zip(users, listens, strict=True)
    ]
    np.testing.assert_array_equal(rated, expected)


def test_rate_against_training_uses_only_the_users_training_scale() -> None:
    train_users, train_listens = np.array([0, 0, 0, 1]), np.array([10, 20, 30, 5])
    users, listens = np.array([0, 0, 0, 1, 1, 2]), np.array([5, 20, 99, 5, 6, 7])
    minmax = rate_against_training("minmax-5-10", train_users, train_listens, users, listens)
    # user 0: min 10, max 30 -> below min 5, mid ceil(2.5)+5 = 8, above max 10; user 1: one
    # training listen -> equal 5, above 10; user 2 has no training listens -> no scale.
    np.testing.assert_array_equal(minmax[:5], [5, 8, 10, 5, 10])
    assert np.isnan(minmax[5])
    logs = rate_against_training("log-minmax-1-10", train_users, train_listens, users, listens)
    np.testing.assert_array_equal(logs[[0, 2, 3]], [1, 10, 10])
    assert np.isnan(
        rate_against_training("rank-1-10", train_users, train_listens, users, listens)[5]
    )
    with pytest.raises(ValueError):
        rate_against_training("nope", train_users, train_listens, users, listens)
