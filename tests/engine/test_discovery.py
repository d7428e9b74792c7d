"""The discovery penalty (a pure function on hand-computed cases) and "not for me" in the
fold-in of both factor models."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from musicrec.datasets import ListeningData
from musicrec.engine.als import train
from musicrec.engine.data import RatingMatrix
from musicrec.engine.discovery import (
    THIN_LISTENERS,
    check_discovery,
    evidence_floor,
    popularity_penalised,
)
from musicrec.engine.implicit_als import ImplicitALSModel
from tests.engine.test_models import EXPLICIT, IMPLICIT


def test_zero_discovery_keeps_the_scores() -> None:
    scores = np.array([3.0, 1.0, 2.0])

    assert popularity_penalised(scores, np.array([100, 1, 10]), 0.0).tolist() == [3.0, 1.0, 2.0]


def test_full_discovery_costs_the_most_rated_artist_a_whole_top_score() -> None:
    # normalised scores 1, 0.5, 0; popularity shares log1p(n) / log1p(max n) = 1, 0, 0.5
    # (no evidence floor here: floor 0)
    counts = np.array([np.e**2 - 1, 0.0, np.e - 1])
    scores = np.array([2.0, 1.0, 0.0])

    out = popularity_penalised(scores, counts, 1.0, floor=0.0)

    assert out == pytest.approx([0.0, 0.5, -0.5])
    assert popularity_penalised(scores, counts, 0.5, floor=0.0) == pytest.approx([0.5, 0.5, -0.25])


def test_below_the_evidence_floor_an_artist_is_left_out_whenever_discovery_is_on() -> None:
    counts = np.array([400, 40, 5, 4, 1])  # floor min(5, sqrt(400)) = 5
    scores = np.array([1.0, 2.0, 3.0, 4.0, 5.0])

    assert evidence_floor(counts) == THIN_LISTENERS
    out = popularity_penalised(scores, counts, 0.25)

    assert np.isfinite(out[:3]).all() and (out[3:] == -np.inf).all()
    assert popularity_penalised(scores, counts, 0.0).tolist() == scores.tolist()


def test_the_floor_falls_with_the_top_count_on_data_too_small_for_it() -> None:
    assert evidence_floor(np.array([9, 2, 1])) == pytest.approx(3.0)
    assert evidence_floor(np.array([1, 1])) == pytest.approx(1.0)  # never leaves nothing
    assert evidence_floor(np.array([10_000, 3])) == THIN_LISTENERS
    assert evidence_floor(np.array([], dtype=np.int64)) == 0.0


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


def _sample(data: ListeningData, users: int, seed: int) -> ListeningData:
    """The listens of ``users`` listeners drawn at random."""
    chosen = np.random.default_rng(seed).choice(np.unique(data.user_ids), users, replace=False)
    keep = np.isin(data.user_ids, chosen)
    return replace(
        data, user_ids=data.user_ids[keep], item_ids=data.item_ids[keep], listens=data.listens[keep]
    )


@pytest.mark.realdata
def test_full_discovery_rarely_picks_artists_with_under_5_listeners(shared_data: Path) -> None:
    """A realistic small dataset: 400 Last.fm listeners drawn at random (most of whose
    artists have one or two listeners); 40 leave training and are folded in from their top
    10, as in ``evaluate-taste``. At discovery 1 few picks rest on fewer than 5 listeners,
    where the penalty without its evidence floor picked mostly such artists (the sample
    keeps the floor at 5: its most-rated artist has over 25 listeners)."""
    from musicrec.datasets import load_lastfm
    from musicrec.engine.evaluate_taste import new_users

    run = new_users(_sample(load_lastfm(shared_data), 400, seed=5), seed=5)
    counts = run.model.rating_counts()
    assert np.mean(counts[counts > 0] < THIN_LISTENERS) > 0.5  # a long tail to fall into

    def listeners(floor: float | None, discovery: float) -> np.ndarray:
        run.model.set_min_listeners(floor)
        picks = [
            r.artist_id
            for ids, ratings in run.given
            for r in run.model.recommend_for_ratings(
                ids, ratings, 10, explain=0, discovery=discovery
            )
        ]
        return counts[run.model.items.indices(np.array(picks))]

    far_end = listeners(None, 1.0)
    assert np.mean(far_end < THIN_LISTENERS) < 0.1
    assert np.median(far_end) < np.median(listeners(None, 0.0)) / 2  # still lesser known
    # the penalty as it was, without the floor: the cliff
    assert np.mean(listeners(0.0, 1.0) < THIN_LISTENERS) > 0.3
