"""The most-popular model and the popularity scores the factor models fall back to."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import RatingMatrix
from musicrec.engine.popularity import PopularityModel, PopularityRanking, popularity_scores


def test_popularity_scores_count_each_items_ratings() -> None:
    matrix = sp.csr_matrix(np.array([[5.0, 0.0, 1.0, 0.0], [3.0, 0.0, 0.0, 0.0]]))
    scores = popularity_scores(matrix)
    assert scores.dtype == np.float64
    np.testing.assert_array_equal(scores, [2.0, 0.0, 1.0, 0.0])


def test_popularity_fallback_from_database_pairs() -> None:
    ratings = RatingMatrix.from_arrays(
        np.array([1, 2, 3, 1]),
        np.array([10, 10, 10, 20]),
        np.ones(4),
        catalogue=np.array([10, 20, 30]),
    )
    model = PopularityModel.fit(ratings)
    assert [r.artist_id for r in model.recommend_for_ratings([], [], n=3)] == [10, 20, 30]
    assert [r.artist_id for r in model.recommend(1, n=3)] == [30]
    assert [r.artist_id for r in model.recommend(2, n=3, exclude=[30])] == [20]


def test_popularity_ranking_orders_by_count_then_id_and_skips_excluded() -> None:
    ranking = PopularityRanking(np.array([30, 10, 20, 40]), np.array([2, 5, 5, 1]))
    assert len(ranking) == 4
    assert ranking.top(3) == [(10, 5.0), (20, 5.0), (30, 2.0)]
    assert ranking.top(2, exclude={10, 30}) == [(20, 5.0), (40, 1.0)]
    assert ranking.top(10, exclude=[10, 20, 30, 40]) == []
    assert ranking.top(0) == []
