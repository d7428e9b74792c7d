"""``top_n`` is exact: the same answer as sorting every score, threshold path or not."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from musicrec.engine.ranking import SAMPLE_STRIDE, top_n


def sorted_reference(scores: np.ndarray, n: int, banned: np.ndarray) -> np.ndarray:
    """Every index by score (highest first), then index; banned and non-finite ones dropped."""
    values = np.asarray(scores, dtype=np.float64).copy()
    values[banned] = -np.inf
    order = np.lexsort((np.arange(values.size), -values))
    return order[np.isfinite(values[order])][:n]


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, int, np.ndarray]:
    size = draw(st.sampled_from([1, 7, 300, 40 * SAMPLE_STRIDE * 8, 100_000]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    shape = draw(st.sampled_from(["normal32", "ties", "counts", "some -inf", "ascending"]))
    scores: np.ndarray
    if shape == "normal32":
        scores = rng.standard_normal(size).astype(np.float32)
    elif shape == "ties":
        scores = rng.integers(0, 4, size).astype(np.float64)
    elif shape == "counts":
        scores = rng.integers(0, 50, size)
    elif shape == "some -inf":
        scores = rng.standard_normal(size)
        scores[rng.random(size) < 0.5] = -np.inf
    else:
        scores = np.sort(rng.standard_normal(size))
    n = draw(st.integers(0, 60))
    banned_count = draw(st.integers(0, min(size, 400)))
    if shape == "ascending" and draw(st.booleans()):
        banned = np.arange(size - banned_count, size)  # the best ones are all banned
    else:
        banned = rng.choice(size, banned_count, replace=False)
    return scores, n, banned.astype(np.int64)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_top_n_equals_a_full_sort(case: tuple[np.ndarray, int, np.ndarray]) -> None:
    scores, n, banned = case
    assert top_n(scores, n, banned).tolist() == sorted_reference(scores, n, banned).tolist()


def test_equal_scores_give_the_lowest_indices() -> None:
    scores = np.zeros(200_000)
    assert top_n(scores, 3, np.array([0], dtype=np.int64)).tolist() == [1, 2, 3]


def test_scores_are_left_unchanged() -> None:
    scores = np.arange(100_000, dtype=np.float32)
    before = scores.copy()
    top_n(scores, 10, np.array([99_999], dtype=np.int64))
    assert np.array_equal(scores, before)
