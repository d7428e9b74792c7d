"""Training on a local Spark: the embedded engine's model classes, an obvious right answer on
two blocks of tastes, checkpoints under the folder given, nothing left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pytest

from musicrec.engine.data import RatingMatrix
from musicrec.engine.explicit_als import ExplicitALSModel
from musicrec.engine.implicit_als import ImplicitALSModel
from musicrec.engine.settings import ExplicitSettings, ImplicitSettings
from musicrec.engine.spark_als import fit_on_spark, train_on_spark

pytestmark = [pytest.mark.spark, pytest.mark.slow]
UNRATED_ARTIST = 999  # in the catalogue, rated by nobody


def two_blocks(seed: int = 7) -> RatingMatrix:
    """Users 0-19 rate artists 100-114, users 20-39 artists 115-129 (each ~70% of its block);
    the answer for any user is an artist of their own block."""
    rng = np.random.default_rng(seed)
    users, items, ratings = [], [], []
    for user in range(40):
        block = np.arange(100, 115) if user < 20 else np.arange(115, 130)
        chosen = block[rng.random(block.size) < 0.7]
        users += [user] * chosen.size
        items += chosen.tolist()
        ratings += rng.integers(5, 11, chosen.size).tolist()
    return RatingMatrix.from_arrays(
        np.array(users), np.array(items), np.array(ratings), catalogue=np.array([UNRATED_ARTIST])
    )


def _block(artist_id: int) -> int:
    return 0 if artist_id < 115 else 1


def test_implicit_model_recommends_within_the_block(spark: Any, tmp_path: Path) -> None:
    ratings = two_blocks()
    settings = ImplicitSettings(factors=4, iterations=4, regularization=0.1, alpha=2.0)

    run = fit_on_spark(ratings, settings, session=spark, checkpoint_dir=tmp_path / "checkpoints")
    model = run.model

    assert isinstance(model, ImplicitALSModel) and model.settings == settings
    assert model.user_factors.shape == (40, 4) and model.item_factors.shape == (31, 4)
    assert model.bm25 is not None
    assert not model.item_factors[model.items.index(UNRATED_ARTIST)].any()
    for user in (3, 27):
        picks = [r.artist_id for r in model.recommend(user, n=3)]
        assert {_block(a) for a in picks} == {user // 20}
    new_user = model.recommend_for_ratings([101, 102, 104], [9, 8, 10], n=3)
    assert {_block(r.artist_id) for r in new_user} == {0}
    assert any(r.because for r in new_user)
    assert {"session", "weighting", "snapshot", "load", "fit", "collect"} <= set(run.seconds)


def test_explicit_model_has_biases_and_user_vectors_that_are_their_fold_in(spark: Any) -> None:
    ratings = two_blocks()
    settings = ExplicitSettings(factors=3, iterations=3, rating_calibration=False)

    model = train_on_spark(ratings, settings, session=spark)

    assert isinstance(model, ExplicitALSModel)
    assert model.user_bias is not None and model.user_bias.shape == (40,)
    assert model.global_mean == pytest.approx(float(ratings.matrix.data.mean()))
    row = ratings.matrix[5]
    fold = model.fold_in_indices(row.indices.astype(np.int64), row.data)
    np.testing.assert_allclose(fold.vector[:-1], model.user_factors[5], atol=1e-8)
    assert fold.vector[-1] == pytest.approx(model.user_bias[5])
    predicted = model.predict(np.array([5, 30]), np.array([101, 120]))
    assert np.isfinite(predicted).all()


def test_checkpoints_go_under_the_folder_given_and_the_run_folder_is_removed(
    spark: Any, tmp_path: Path
) -> None:
    checkpoints = tmp_path / "spark-checkpoints"

    train_on_spark(
        two_blocks(),
        ImplicitSettings(factors=2, iterations=3),
        session=spark,
        checkpoint_dir=checkpoints,
        checkpoint_interval=1,
    )

    used = Path(urlparse(spark.sparkContext.getCheckpointDir()).path)
    assert used.is_relative_to(checkpoints.resolve())
    assert list(checkpoints.iterdir()) == []
