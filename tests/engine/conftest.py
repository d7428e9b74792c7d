"""Tiny deterministic rating data with a known block structure, and a seeded ``rng``."""

from __future__ import annotations

import numpy as np
import pytest

from musicrec.engine.data import RatingMatrix

N_USERS, N_ITEMS = 40, 30  # users 0-19 and items 0-14 form block A, the rest block B


def block(user: int) -> int:
    return 0 if user < N_USERS // 2 else 1


def item_block(item: int) -> int:
    return 0 if item < N_ITEMS // 2 else 1


def checkerboard(low_ratings: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user rates 8 random artists of their own block 8..10; with ``low_ratings`` also 3
    of the other block 1..2. External ids: users 1000+u, artists 500+i."""
    rng = np.random.default_rng(seed)
    users, items, ratings = [], [], []
    half = N_ITEMS // 2
    for u in range(N_USERS):
        own = rng.choice(half, size=8, replace=False) + half * block(u)
        users += [u] * 8
        items += own.tolist()
        ratings += rng.integers(8, 11, size=8).tolist()
        if low_ratings:
            other = rng.choice(half, size=3, replace=False) + half * (1 - block(u))
            users += [u] * 3
            items += other.tolist()
            ratings += rng.integers(1, 3, size=3).tolist()
    return np.array(users) + 1000, np.array(items) + 500, np.array(ratings, dtype=np.float64)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, for tests that draw their own random data."""
    return np.random.default_rng(20261125)


@pytest.fixture
def blocks_positive() -> RatingMatrix:
    return RatingMatrix.from_arrays(*checkerboard(low_ratings=False))


@pytest.fixture
def blocks_mixed() -> RatingMatrix:
    return RatingMatrix.from_arrays(*checkerboard(low_ratings=True))
