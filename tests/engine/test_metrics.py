"""Ranking and rating metrics on tiny cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from musicrec.engine import metrics as m


def test_precision_recall_hit_rate() -> None:
    recommended, relevant = [1, 2, 3, 4], {2, 4, 9}
    assert m.precision_at_k(recommended, relevant, 4) == 0.5
    assert m.precision_at_k(recommended, relevant, 2) == 0.5
    assert m.recall_at_k(recommended, relevant, 4) == pytest.approx(2 / 3)
    assert m.hit_rate_at_k(recommended, relevant, 1) == 0.0
    assert m.hit_rate_at_k(recommended, relevant, 2) == 1.0


def test_short_list_is_not_rewarded_for_being_short() -> None:
    assert m.precision_at_k([7], {7}, 10) == pytest.approx(0.1)


def test_ndcg_by_hand() -> None:
    # hits at positions 0 and 2: DCG = 1/log2(2) + 1/log2(4) = 1.5;
    # two relevant items: IDCG = 1 + 1/log2(3)
    value = m.ndcg_at_k([5, 6, 7], {5, 7}, 3)
    assert value == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert m.ndcg_at_k([5, 7, 6], {5, 7}, 3) == pytest.approx(1.0)


def test_average_precision_by_hand() -> None:
    # hits at ranks 1 and 3: (1/1 + 2/3) / min(3, 2)
    assert m.average_precision_at_k([5, 6, 7], {5, 7}, 3) == pytest.approx((1 + 2 / 3) / 2)
    # relevant set larger than k: normalised by k
    assert m.average_precision_at_k([1, 2], {1, 2, 3, 4}, 2) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "metric",
    [m.precision_at_k, m.recall_at_k, m.ndcg_at_k, m.average_precision_at_k, m.hit_rate_at_k],
)
def test_empty_recommendations_and_no_relevant_items_score_zero(metric) -> None:  # type: ignore[no-untyped-def]
    assert metric([], {1, 2}, 10) == 0.0
    assert metric([1, 2], set(), 10) == 0.0


def test_coverage() -> None:
    assert m.coverage_at_k([[1, 2, 3], [3, 4, 9]], 10, 2) == pytest.approx(4 / 10)
    assert m.coverage_at_k([], 10, 2) == 0.0
    with pytest.raises(ValueError):
        m.coverage_at_k([[1]], 0, 1)


def test_rmse_and_mae() -> None:
    predicted, actual = np.array([1.0, 2.0, 4.0]), np.array([1.0, 4.0, 3.0])
    assert m.rmse(predicted, actual) == pytest.approx(math.sqrt(5 / 3))
    assert m.mae(predicted, actual) == pytest.approx(1.0)
    assert math.isnan(m.rmse(np.array([]), np.array([])))
    with pytest.raises(ValueError):
        m.mae(np.array([1.0]), np.array([1.0, 2.0]))
