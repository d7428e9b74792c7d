"""The explicit model's rating-scale layer (explicit_als.RatingScaleLayer)."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
import scipy.sparse as sp

from musicrec.engine.als import model_from_arrays, settings_for, train, train_arrays
from musicrec.engine.baselines import DampedBias
from musicrec.engine.data import RatingMatrix
from musicrec.engine.explicit_als import (
    CALIBRATION_FEATURES,
    IDENTITY_WEIGHTS,
    ExplicitALSModel,
    UserScale,
    user_scale,
)
from musicrec.engine.mapping import minmax_5_10
from musicrec.engine.split import random_split
from tests.engine.conftest import checkerboard

SETTINGS = settings_for("explicit", factors=4, iterations=8, regularization=0.5)


def listen_ratings(n_users: int = 300, seed: int = 0) -> tuple[np.ndarray, ...]:
    """Users in two taste groups with heavy-tailed listens mapped per user by min-max 5..10;
    a user's most-listened artists come mostly from a short head of their group."""
    rng = np.random.default_rng(seed)
    users, items, listens = [], [], []
    for u in range(n_users):
        group = u % 2
        n = int(rng.integers(10, 21))
        weights = 1.0 / np.arange(1, 41) ** 1.2
        chosen = rng.choice(40, size=n, replace=False, p=weights / weights.sum())
        users += [u] * n
        items += (chosen + 40 * group).tolist()
        listens += (rng.pareto(1.2, size=n) * 100 / (1 + chosen) + 1).round().tolist()
    users_a, listens_a = np.array(users), np.array(listens)
    return users_a, np.array(items), minmax_5_10(users_a, listens_a).astype(np.float64)


def test_user_scale_reads_each_rows_mean_popularity() -> None:
    matrix = sp.csr_matrix(np.array([[5.0, 6.0, 0.0], [0.0, 7.0, 10.0], [0.0, 0.0, 0.0]]))
    scale = user_scale(matrix, np.log1p(np.array([1.0, 2.0, 1.0])))
    np.testing.assert_allclose(
        scale.mean_log_popularity, [(np.log(2) + np.log(3)) / 2, (np.log(3) + np.log(2)) / 2, 0]
    )


def test_layer_beats_the_factors_and_the_damped_biases_on_listen_ratings() -> None:
    users, items, ratings = listen_ratings()
    test = random_split(ratings.size, seed=1)
    model = train_arrays(users[~test], items[~test], ratings[~test], SETTINGS)
    assert isinstance(model, ExplicitALSModel)
    layer = model.scale_layer()
    assert layer is not None and layer.weights.shape == (len(CALIBRATION_FEATURES),)
    assert not np.allclose(layer.weights, IDENTITY_WEIGHTS)

    def rmse(predicted: np.ndarray) -> float:
        return float(np.sqrt(np.mean((predicted - ratings[test]) ** 2)))

    baseline = DampedBias.fit(users[~test], items[~test], ratings[~test])
    calibrated = rmse(model.predict(users[test], items[test]))
    assert calibrated < rmse(np.clip(model.predict_uncalibrated(users[test], items[test]), 5, 10))
    assert calibrated < rmse(baseline.predict(users[test], items[test]))


def test_no_feature_reads_how_the_ratings_were_made() -> None:
    """Whether a user's known ratings leave the top or bottom of the scale unused told the
    layer where a per-user mapping put the held-out ratings: those features are gone."""
    assert CALIBRATION_FEATURES == (
        "intercept",
        "bias",
        "factors",
        "implicit",
        "implicit^2",
        "relative_popularity",
    )
    assert [field.name for field in fields(UserScale)] == ["mean_log_popularity"]


def test_layer_off_or_too_little_data() -> None:
    users, items, ratings = checkerboard(low_ratings=True)
    off = train_arrays(users, items, ratings, replace(SETTINGS, rating_calibration=False))
    assert isinstance(off, ExplicitALSModel) and off.scale_layer() is None
    np.testing.assert_allclose(
        off.predict(users[:5], items[:5]), off.predict_uncalibrated(users[:5], items[:5])
    )
    few = train_arrays(users[:40], items[:40], ratings[:40], SETTINGS)  # 8 held out < 50
    assert isinstance(few, ExplicitALSModel)
    layer = few.scale_layer()
    assert layer is not None
    np.testing.assert_array_equal(layer.weights, IDENTITY_WEIGHTS)


def test_a_loaded_model_rebuilds_the_same_layer() -> None:
    users, items, ratings = listen_ratings(n_users=120)
    model = train(RatingMatrix.from_arrays(users, items, ratings), SETTINGS)
    loaded = model_from_arrays(model.arrays(), model.settings)
    assert isinstance(model, ExplicitALSModel) and isinstance(loaded, ExplicitALSModel)
    pairs = (np.array([0, 1, 5, 999]), np.array([3, 40, 7, 3]))
    np.testing.assert_allclose(loaded.predict(*pairs), model.predict(*pairs), atol=1e-6)


def test_predictions_for_a_folded_in_user_stay_on_the_scale() -> None:
    users, items, ratings = listen_ratings(n_users=120)
    model = train_arrays(users, items, ratings, SETTINGS)
    assert isinstance(model, ExplicitALSModel)
    mine = users == 0
    targets = np.array([1, 2, 50, 12345])
    folded = model.predict_for_ratings(items[mine], ratings[mine], targets)
    assert folded.shape == (4,) and np.all((folded >= 5) & (folded <= 10))
    known = model.predict(np.zeros(3, dtype=np.int64), targets[:3])
    # Same factors and scale features; only the implicit vector is re-solved, not trained.
    np.testing.assert_allclose(folded[:3], known, atol=0.5)
    nobody = model.predict_for_ratings(np.array([999]), np.array([7.0]), targets)
    assert np.all(np.isfinite(nobody))
    assert nobody[0] == pytest.approx(model.predict(np.array([-5]), targets[:1])[0])
