"""The discovery penalty (a pure function on hand-computed cases) and "not for me" in the
fold-in of both factor models."""

from __future__ import annotations

import numpy as np
import pytest

from musicrec.engine.als import train
from musicrec.engine.data import RatingMatrix
from musicrec.engine.discovery import check_discovery, popularity_penalised
from musicrec.engine.implicit_als import ImplicitALSModel
from tests.engine.test_models import EXPLICIT, IMPLICIT


def test_zero_discovery_keeps_the_scores() -> None:
    scores = np.array([3.0, 1.0, 2.0])

    assert popularity_penalised(scores, np.array([100, 1, 10]), 0.0).tolist() == [3.0, 1.0, 2.0]


def test_full_discovery_costs_the_most_rated_artist_a_whole_top_score() -> None:
    # normalised scores 1, 0.5, 0; popularity shares log1p(n) / log1p(max n) = 1, 0, 0.5
    counts = np.array([np.e**2 - 1, 0.0, np.e - 1])
    scores = np.array([2.0, 1.0, 0.0])

    out = popularity_penalised(scores, counts, 1.0)

    assert out == pytest.approx([0.0, 0.5, -0.5])
    assert popularity_penalised(scores, counts, 0.5) == pytest.approx([0.5, 0.5, -0.25])


def test_banned_scores_stay_banned_and_empty_input_is_fine() -> None:
    out = popularity_penalised(np.array([-np.inf, 1.0]), np.array([5, 5]), 1.0)

    assert out[0] == -np.inf and out[1] == pytest.approx(0.0)
    assert popularity_penalised(np.array([]), np.array([]), 1.0).size == 0
    assert popularity_penalised(np.array([1.0, 2.0]), np.zeros(2), 1.0) == pytest.approx([0.5, 1])


@pytest.mark.parametrize("value", [-0.01, 1.01, float("nan")])
def test_discovery_outside_0_to_1_is_refused(value: float) -> None:
    with pytest.raises(ValueError):
        check_discovery(value)


def test_more_discovery_picks_less_rated_artists(blocks_positive: RatingMatrix) -> None:
    model = train(blocks_positive, IMPLICIT)
    counts = model.rating_counts()
    given = [500, 501, 502]

    def median_count(discovery: float) -> float:
        recs = model.recommend_for_ratings(given, [9, 9, 9], 5, discovery=discovery, explain=0)
        return float(np.median(counts[model.items.indices(np.array([r.artist_id for r in recs]))]))

    assert median_count(1.0) <= median_count(0.0)


@pytest.mark.parametrize("settings", [IMPLICIT, EXPLICIT], ids=["implicit", "explicit"])
def test_a_disliked_artist_is_excluded_and_pulls_its_kind_down(
    blocks_mixed: RatingMatrix, settings: object
) -> None:
    model = train(blocks_mixed, settings)  # type: ignore[arg-type]
    given, values = [500, 501, 502], [9.0, 9.0, 9.0]
    plain = model.recommend_for_ratings(given, values, 30, explain=0)
    disliked = plain[0].artist_id

    marked = model.recommend_for_ratings(given, values, 30, explain=0, disliked=[disliked])
    fold_plain = model.fold_in(given, values)
    fold_marked = model.fold_in(given, values, [disliked])
    item = model.items.index(disliked)

    assert disliked not in {r.artist_id for r in marked}
    before = model.scores(fold_plain.vector)[item]
    after = model.scores(fold_marked.vector)[item]
    assert after < before


def test_implicit_dislike_confidence_never_drops_below_an_unrated_artists(
    blocks_positive: RatingMatrix,
) -> None:
    model = train(blocks_positive, IMPLICIT)
    assert isinstance(model, ImplicitALSModel)

    model.dislike_weight = 0.0
    unchanged = model.fold_in([500, 501], [9.0, 9.0], [510])
    plain = model.fold_in([500, 501], [9.0, 9.0])

    assert model.dislike_confidence(np.array([0.1])) == 1.0
    assert np.allclose(unchanged.vector, plain.vector)
