"""What the Spark trainer gives Spark, checked without a JVM: the same confidence, the same
total regularisation, the same damped biases; and the message when PySpark is missing."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from musicrec.engine import spark_als
from musicrec.engine.baselines import DampedBias
from musicrec.engine.data import RatingMatrix
from musicrec.engine.implicit_als import bm25_stats, confidence_matrix
from musicrec.engine.settings import ExplicitSettings, ImplicitSettings


@pytest.fixture
def ratings(rng: np.random.Generator) -> RatingMatrix:
    pairs = rng.choice(30 * 40, size=300, replace=False)
    return RatingMatrix.from_arrays(
        pairs // 40 + 100, pairs % 40 + 500, rng.integers(1, 11, size=300).astype(float)
    )


@pytest.mark.parametrize("weighting", ["bm25", "linear", "log"])
def test_spark_confidence_one_plus_r_is_the_embedded_confidence(
    ratings: RatingMatrix, weighting: str
) -> None:
    settings = ImplicitSettings(confidence=weighting, alpha=0.5)
    stats = bm25_stats(ratings.matrix, settings.bm25_k1, settings.bm25_b)
    embedded = confidence_matrix(ratings.matrix, weighting, 0.5, stats).tocoo()

    values, spark_stats = spark_als.implicit_spark_ratings(ratings, settings)

    np.testing.assert_array_equal(values.row, embedded.row)
    np.testing.assert_array_equal(values.col, embedded.col)
    assert (values.data > 0).all()  # Spark's preference [r > 0] is 1 for every rated pair
    above = embedded.data > 1
    np.testing.assert_allclose(1.0 + values.data[above], embedded.data[above])
    np.testing.assert_allclose(values.data[~above], spark_als.LEAST_POSITIVE)
    assert (spark_stats is not None) == (weighting == "bm25")


def test_spark_reg_param_keeps_the_total_penalty(ratings: RatingMatrix) -> None:
    matrix = ratings.matrix
    reg_param = spark_als.implicit_reg_param(2.0, matrix)

    per_row = np.concatenate([np.diff(matrix.indptr), np.bincount(matrix.indices)])

    assert reg_param * per_row.sum() == pytest.approx(2.0 * sum(matrix.shape))


def test_damped_baseline_is_the_baselines_module_in_dense_positions(
    ratings: RatingMatrix,
) -> None:
    settings = ExplicitSettings(user_bias_regularization=3.0, item_bias_regularization=7.0)
    coo = ratings.matrix.tocoo()
    user_ids, item_ids = ratings.users.ids[coo.row], ratings.items.ids[coo.col]
    reference = DampedBias.fit(user_ids, item_ids, coo.data, item_damping=7.0, user_damping=3.0)

    baseline = spark_als.DampedBaseline.fit(ratings.matrix, settings)
    residuals = baseline.residuals(ratings.matrix).tocoo()

    assert baseline.mu == pytest.approx(reference.mu)
    np.testing.assert_allclose(baseline.user_bias, reference.user_bias)
    np.testing.assert_allclose(baseline.item_bias, reference.item_bias)
    np.testing.assert_allclose(
        residuals.data, coo.data - reference.predict(user_ids, item_ids), atol=1e-6
    )


def test_without_pyspark_training_says_how_to_install_it(
    ratings: RatingMatrix, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)

    assert not spark_als.spark_available()
    with pytest.raises(spark_als.SparkUnavailable, match=r"pip install -e '\.\[spark\]'"):
        spark_als.train_on_spark(ratings, ImplicitSettings())
