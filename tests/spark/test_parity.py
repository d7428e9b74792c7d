"""Parity on the shared Last.fm data and the evaluation's splits: the Spark-trained and the
embedded models, same settings, within 5% on implicit NDCG@10 and 2% on explicit RMSE."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from musicrec.datasets import ListeningData, load_lastfm
from musicrec.engine import als, metrics
from musicrec.engine.data import RatingMatrix
from musicrec.engine.evaluate import K
from musicrec.engine.explicit_als import ExplicitALSModel
from musicrec.engine.mapping import listens_to_ratings
from musicrec.engine.metrics_batch import ranking_metrics, relevant_sets
from musicrec.engine.spark_als import train_on_spark
from musicrec.engine.split import dense_index, holdout_split, random_split

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.realdata]
SEED = 42


@pytest.fixture(scope="module")
def lastfm(shared_data: Path) -> tuple[ListeningData, np.ndarray]:
    data = load_lastfm(shared_data)
    _, user_index = dense_index(data.user_ids)
    return data, np.asarray(listens_to_ratings(user_index, data.listens), dtype=np.float64)


def test_implicit_ndcg_within_5_percent(lastfm: tuple[ListeningData, np.ndarray], spark: Any):
    data, ratings = lastfm
    test = holdout_split(data.user_ids, seed=SEED)  # evaluate.holdout's split
    train = RatingMatrix.from_arrays(
        data.user_ids[~test], data.item_ids[~test], ratings[~test], catalogue=data.artist_ids
    )
    users, relevant = relevant_sets(data.user_ids[test], data.item_ids[test])
    settings = als.settings_for("implicit", seed=SEED)

    def ndcg(model: Any) -> float:
        scored = ranking_metrics(model.recommend_batch(users, K), relevant, data.artist_ids.size)
        return scored[f"ndcg@{K}"]

    embedded = ndcg(als.train(train, settings))
    on_spark = ndcg(train_on_spark(train, settings, session=spark))

    assert on_spark == pytest.approx(embedded, rel=0.05), (on_spark, embedded)


def test_explicit_rmse_within_2_percent(lastfm: tuple[ListeningData, np.ndarray], spark: Any):
    data, ratings = lastfm
    test = random_split(ratings.size, seed=SEED)  # evaluate.rating_errors' split
    u, i, r = data.user_ids, data.item_ids, ratings
    train = RatingMatrix.from_arrays(u[~test], i[~test], r[~test])
    settings = als.settings_for("explicit", seed=SEED)
    low, high = r[~test].min(), r[~test].max()

    def rmse(model: Any) -> tuple[float, float]:
        assert isinstance(model, ExplicitALSModel)
        calibrated = np.clip(model.predict(u[test], i[test]), low, high)
        factors_only = np.clip(model.predict_uncalibrated(u[test], i[test]), low, high)
        return metrics.rmse(calibrated, r[test]), metrics.rmse(factors_only, r[test])

    embedded = rmse(als.train(train, settings))
    on_spark = rmse(train_on_spark(train, settings, session=spark))

    assert on_spark == pytest.approx(embedded, rel=0.02), (on_spark, embedded)
