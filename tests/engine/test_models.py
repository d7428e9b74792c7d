"""Contract every recommender honours, plus each model's known answers on block data."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from musicrec.engine.als import settings_for, train, train_arrays
from musicrec.engine.data import RatingMatrix
from musicrec.engine.discovery import DEFAULT_DISCOVERY, evidence_floor
from musicrec.engine.implicit_als import ImplicitALSModel, bm25_row, bm25_stats, flattened
from musicrec.engine.model import FactorModel
from musicrec.engine.popularity import PopularityModel
from musicrec.engine.ranking import RecommenderModel
from musicrec.engine.settings import ModelSettings
from tests.engine.conftest import checkerboard, item_block

IMPLICIT = settings_for(
    "implicit", factors=4, iterations=15, regularization=5.0, alpha=0.2, threads=1
)
EXPLICIT = settings_for(
    "explicit",
    factors=4,
    iterations=15,
    regularization=0.1,
    user_bias_regularization=1.0,
    item_bias_regularization=1.0,
)

BUILDERS: dict[str, Callable[[RatingMatrix], RecommenderModel]] = {
    "implicit": lambda r: train(r, IMPLICIT),
    "explicit": lambda r: train(r, EXPLICIT),
    "popularity": PopularityModel.fit,
}


@pytest.fixture(params=sorted(BUILDERS))
def model(request: pytest.FixtureRequest, blocks_mixed: RatingMatrix) -> RecommenderModel:
    return BUILDERS[request.param](blocks_mixed)


def _rated(ratings: RatingMatrix, user_id: int) -> set[int]:
    row = ratings.matrix[ratings.users.index(user_id)]
    return set(ratings.items.ids[row.indices].tolist())


# -- the contract -----------------------------------------------------------------------------


def test_is_a_recommender(model: RecommenderModel) -> None:
    assert isinstance(model, RecommenderModel)


def test_known_user_never_gets_rated_or_excluded_artists(
    model: RecommenderModel, blocks_mixed: RatingMatrix
) -> None:
    for user_id in (1000, 1025):
        exclude = {500 + i for i in range(0, 30, 4)}
        recs = model.recommend(user_id, n=6, exclude=exclude)
        ids = [r.artist_id for r in recs]
        assert len(ids) == 6 == len(set(ids))
        assert not set(ids) & (_rated(blocks_mixed, user_id) | exclude)
        assert set(ids) <= set(blocks_mixed.items.ids.tolist())
        scores = [r.score for r in recs]
        assert scores == sorted(scores, reverse=True)
        # explanations name only the user's own rated artists (popularity has none)
        assert all(set(r.because) <= _rated(blocks_mixed, user_id) for r in recs)
        assert any(r.because for r in recs) == (model.kind != "most-popular")


def test_unknown_user_raises_key_error(model: RecommenderModel) -> None:
    assert not model.has_user(999)
    assert model.has_user(1000)
    with pytest.raises(KeyError):
        model.recommend(999)


def test_fold_in_excludes_given_and_excluded_and_ignores_unknown_artists(
    model: RecommenderModel,
) -> None:
    given = [500, 501, 502, 99999]  # 99999 is not in the catalogue
    recs = model.recommend_for_ratings(given, [10, 9, 8, 10], n=10, exclude=[503, 504])
    ids = {r.artist_id for r in recs}
    assert len(recs) == 10 and not ids & {500, 501, 502, 503, 504, 99999}


def test_asking_for_more_than_the_catalogue_returns_every_candidate(
    model: RecommenderModel,
) -> None:
    familiar = {"discovery": 0.0} if isinstance(model, FactorModel) else {}
    recs = model.recommend_for_ratings([500, 520], [10, 10], n=1000, **familiar)
    assert len(recs) == 28


@pytest.mark.parametrize("kind", ["implicit", "explicit"])
def test_with_discovery_on_every_candidate_with_enough_listeners_is_returned(
    kind: str, blocks_mixed: RatingMatrix
) -> None:
    model = BUILDERS[kind](blocks_mixed)
    assert isinstance(model, FactorModel)
    counts = model.rating_counts()
    enough = counts >= evidence_floor(counts)
    enough[model.items.indices(np.array([500, 520]))] = False

    recs = model.recommend_for_ratings([500, 520], [10, 10], n=1000)  # the default discovery

    assert DEFAULT_DISCOVERY > 0 and 0 < enough.sum() < 28
    assert {r.artist_id for r in recs} == set(model.items.ids[enough].tolist())


def test_similar_artists_excludes_the_artist_itself(model: RecommenderModel) -> None:
    similar = model.similar_artists(505, n=5)
    assert len(similar) == 5 and 505 not in [a for a, _ in similar]
    with pytest.raises(KeyError):
        model.similar_artists(123456)


def test_same_seed_same_recommendations(blocks_mixed: RatingMatrix) -> None:
    for build in BUILDERS.values():
        first, second = build(blocks_mixed), build(blocks_mixed)
        assert first.recommend(1003, n=5) == second.recommend(1003, n=5)


# -- known answers on block data ---------------------------------------------------------------


def _own_block_share(model: RecommenderModel, n: int = 5) -> float:
    hits = total = 0
    for user_id in range(1000, 1040):
        block = 0 if user_id < 1020 else 1
        for rec in model.recommend(user_id, n=n):
            hits += item_block(rec.artist_id - 500) == block
            total += 1
    return hits / total


def test_implicit_als_recovers_the_blocks(blocks_positive: RatingMatrix) -> None:
    model = train(blocks_positive, IMPLICIT)
    assert _own_block_share(model) == 1.0
    for artist, _ in model.similar_artists(503, n=5):
        assert item_block(artist - 500) == 0
    recs = model.recommend_for_ratings([520, 521, 522], [10, 8, 9], n=5)
    assert all(item_block(r.artist_id - 500) == 1 for r in recs)
    assert all(r.because and set(r.because) <= {520, 521, 522} for r in recs)


def test_explicit_als_recovers_the_blocks(blocks_mixed: RatingMatrix) -> None:
    assert _own_block_share(train(blocks_mixed, EXPLICIT)) == 1.0


def test_popularity_ranks_by_number_of_ratings(blocks_mixed: RatingMatrix) -> None:
    model = PopularityModel.fit(blocks_mixed)
    counts = np.bincount(blocks_mixed.matrix.indices, minlength=30)
    recs = model.recommend_for_ratings([], [], n=30)
    assert [r.score for r in recs] == sorted(counts.tolist(), reverse=True)
    assert all(r.because == () for r in recs)


# -- fold-in ---------------------------------------------------------------------------------


def _row(ratings: RatingMatrix, u: int) -> tuple[np.ndarray, np.ndarray]:
    row = ratings.matrix[u]
    return ratings.items.ids[row.indices], row.data


def test_explicit_fold_in_reproduces_trained_user_vectors(blocks_mixed: RatingMatrix) -> None:
    model = train(blocks_mixed, EXPLICIT)
    for u in (0, 7, 33):
        fold = model.fold_in(*_row(blocks_mixed, u))
        np.testing.assert_allclose(fold.vector[:-1], model.user_factors[u], atol=1e-8)
        assert fold.vector[-1] == pytest.approx(model.user_bias[u])


def test_implicit_fold_in_is_close_to_trained_user_vectors(blocks_positive: RatingMatrix) -> None:
    model = train(blocks_positive, replace(IMPLICIT, iterations=40))
    assert isinstance(model, ImplicitALSModel)
    # the training's own solve: the new-user settings set to the training's
    model.new_user_rating_power, model.new_user_regularization = 1.0, IMPLICIT.regularization
    model.new_user_regularization_cap = np.inf
    for u in (0, 7, 33):
        fold = model.fold_in(*_row(blocks_positive, u))
        trained = model.user_factors[u]
        cosine = fold.vector @ trained / np.linalg.norm(fold.vector) / np.linalg.norm(trained)
        assert cosine > 0.98
        user_id = int(blocks_positive.users.ids[u])
        ids, values = _row(blocks_positive, u)
        assert [r.artist_id for r in model.recommend(user_id, n=3)] == [
            r.artist_id for r in model.recommend_for_ratings(ids, values, n=3, discovery=0.0)
        ]


@pytest.mark.parametrize("new_user", [False, True], ids=["training", "new-user"])
def test_implicit_fold_in_equals_the_librarys_recalculate_user(
    blocks_positive: RatingMatrix, new_user: bool
) -> None:
    """The training's solve and the new user's (its own reg, flattened ratings) are both the
    library's least-squares solve of the confidences they use."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = train(blocks_positive, IMPLICIT)
    assert isinstance(model, ImplicitALSModel)
    reg = model.new_user_fold_in_regularization() if new_user else IMPLICIT.regularization
    with threadpool_limits(1, "blas"):
        reference = AlternatingLeastSquares(factors=4, regularization=reg)
    reference.item_factors = model.item_factors.astype(np.float32)
    ids = np.array([503, 505, 507, 510])
    ratings = np.array([10.0, 3.0, 7.0, 9.0])
    cols = model.items.indices(ids)
    fold = model.fold_in(ids, ratings) if new_user else model.fold_in_indices(cols, ratings)
    row = sp.csr_matrix((fold.targets, (np.zeros(4, int), cols)), shape=(1, 30))
    np.testing.assert_allclose(
        fold.vector, reference.recalculate_user(0, row), rtol=1e-3, atol=1e-5
    )


def test_a_new_users_ratings_are_flattened_towards_their_mean() -> None:
    ratings = np.array([10.0, 4.0, 1.0])

    assert flattened(ratings, 1.0) is ratings
    assert flattened(ratings, 0.0) == pytest.approx([5.0, 5.0, 5.0])
    half = flattened(ratings, 0.5)
    assert half == pytest.approx(5.0 * np.sqrt(ratings / 5.0))
    assert half[0] < ratings[0] and half[2] > ratings[2]


def test_new_user_fold_in_uses_its_own_settings(blocks_positive: RatingMatrix) -> None:
    model = train(blocks_positive, IMPLICIT)
    assert isinstance(model, ImplicitALSModel)
    cols = model.items.indices(np.array([503, 505, 507]))
    ratings = np.array([10.0, 2.0, 6.0])

    served = model.new_user_fold_in(cols, ratings)
    spelled = model.fold_in_indices(
        cols,
        ratings,
        rating_power=model.new_user_rating_power,
        regularization=model.new_user_fold_in_regularization(),
    )
    training = model.fold_in_indices(cols, ratings)

    np.testing.assert_allclose(served.vector, spelled.vector)
    np.testing.assert_allclose(model.fold_in([503, 505, 507], ratings).vector, served.vector)
    assert not np.allclose(served.vector, training.vector)


def test_a_new_users_scores_do_not_depend_on_the_item_vectors_scale(
    blocks_positive: RatingMatrix,
) -> None:
    """Short item vectors (a small catalogue, a Spark model's own scale) are not drowned by
    the new-user regularisation: where its cap binds, scaling every vector alike changes no
    score (the spark cluster test's model scored every artist ~0 before the cap)."""
    model = train(blocks_positive, IMPLICIT)
    assert isinstance(model, ImplicitALSModel)
    given, ratings = [503, 505, 507], [9.0, 9.0, 9.0]
    scores = []
    for scale in (0.01, 0.02):
        short = copy.copy(model)
        short.item_factors, short._gram = model.item_factors * scale, None
        assert short.new_user_fold_in_regularization() < short.new_user_regularization
        scores.append(short.scores(short.fold_in(given, ratings).vector))

    np.testing.assert_allclose(scores[0], scores[1], rtol=1e-6, atol=1e-9)
    assert scores[0].max() > 0.1


def test_bm25_row_matches_the_librarys_bm25_weight(blocks_mixed: RatingMatrix) -> None:
    from implicit.nearest_neighbours import bm25_weight

    matrix = blocks_mixed.matrix
    expected = bm25_weight(matrix, K1=100, B=0.8).tocsr()
    stats = bm25_stats(matrix, 100, 0.8)
    for u in (0, 21):
        row = matrix[u]
        np.testing.assert_allclose(bm25_row(stats, row.indices, row.data), expected[u].data)


@pytest.mark.parametrize("settings", [IMPLICIT, EXPLICIT], ids=["implicit", "explicit"])
def test_because_decomposition_sums_to_the_score(
    settings: ModelSettings, blocks_mixed: RatingMatrix
) -> None:
    model = train(blocks_mixed, settings)
    fold = model.fold_in([500, 503, 520], [10.0, 6.0, 2.0])
    items = model._augmented_items(slice(None))
    share = (items @ fold.weights @ items[fold.rated].T) * fold.targets
    base = model.global_mean + (model.item_bias if model.item_bias is not None else 0.0)
    np.testing.assert_allclose(share.sum(axis=1) + base, model.scores(fold.vector), atol=1e-8)
    rec = model.recommend_for_ratings([500, 503, 520], [10, 6, 2], n=1, explain=3)[0]
    i = model.items.index(rec.artist_id)
    best = model.items.ids[fold.rated[np.argmax(share[i])]]
    assert rec.because[0] == best


def test_training_from_arrays_rejects_empty_ratings() -> None:
    with pytest.raises(ValueError):
        train_arrays(np.array([], int), np.array([], int), np.array([]), IMPLICIT)


def test_unknown_user_and_artist_fall_back_in_explicit_predictions() -> None:
    users, items, ratings = checkerboard(low_ratings=True)
    model = train_arrays(users, items, ratings, EXPLICIT)
    predicted = model.predict_uncalibrated(np.array([1, 1000]), np.array([500, 77]))
    assert predicted[0] == pytest.approx(model.global_mean + model.item_bias[0])
    assert predicted[1] == pytest.approx(model.global_mean + model.user_bias[0])


def test_fold_in_with_no_known_artist_falls_back_to_popularity(blocks_mixed: RatingMatrix) -> None:
    popular = [r.artist_id for r in PopularityModel.fit(blocks_mixed).recommend_for_ratings([], [])]
    recs = train(blocks_mixed, IMPLICIT).recommend_for_ratings([99999], [10])
    assert [r.artist_id for r in recs] == popular and all(r.because == () for r in recs)


@pytest.mark.parametrize("settings", [IMPLICIT, EXPLICIT], ids=["implicit", "explicit"])
def test_each_sweep_reports_its_training_loss_without_changing_the_model(
    settings: ModelSettings, blocks_mixed: RatingMatrix
) -> None:
    reported: list[tuple[int, float | None]] = []

    watched = train(blocks_mixed, settings, lambda sweep, loss: reported.append((sweep, loss)))
    unwatched = train(blocks_mixed, settings)

    assert [sweep for sweep, _loss in reported] == list(range(1, settings.iterations + 1))
    losses = [loss for _sweep, loss in reported]
    assert all(loss is not None and loss >= 0 for loss in losses)
    assert losses[-1] <= losses[0]  # type: ignore[operator]
    np.testing.assert_allclose(watched.item_factors, unwatched.item_factors, rtol=1e-5, atol=1e-6)
