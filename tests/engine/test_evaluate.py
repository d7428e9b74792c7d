"""The evaluation pipeline: shape of the result on tiny data, targets on the shared data."""

from __future__ import annotations

import time

import numpy as np
import pytest

from musicrec.datasets import ListeningData
from musicrec.engine.evaluate import (
    evaluate_dataset,
    fold_in_curve,
    format_report,
    ranking_metrics,
)
from tests.conftest import SHARED_DATA

MODELS = {"implicit-als", "explicit-als", "most-popular", "item-knn-bm25"}
RANKING = {"ndcg@10", "precision@10", "recall@10", "map@10", "hit_rate@10", "coverage@10"}


def tiny_listening_data(seed: int = 0) -> ListeningData:
    """60 users in two taste blocks of 40 artists, 12-20 artists each, skewed listen counts."""
    rng = np.random.default_rng(seed)
    users, items, listens = [], [], []
    for u in range(60):
        block = u % 2
        n = int(rng.integers(12, 21))
        chosen = np.sort(rng.choice(40, size=n, replace=False) + 40 * block)
        users += [u + 1] * n
        items += (chosen + 100).tolist()
        listens += rng.zipf(1.5, size=n).tolist()
    artist_ids = np.arange(100, 180)
    return ListeningData(
        artist_ids=artist_ids,
        artist_names=[f"artist {i}" for i in artist_ids],
        artist_urls=["" for _ in artist_ids],
        user_ids=np.array(users, dtype=np.int64),
        item_ids=np.array(items, dtype=np.int64),
        listens=np.array(listens, dtype=np.int64),
        source_rows=len(users),
    )


def test_ranking_metrics_average_over_users() -> None:
    recommended = np.array([[1, 2, -1], [3, 4, 5]])
    result = ranking_metrics(recommended, [{2}, {9}], catalogue_size=10, k=3)
    assert result["precision@3"] == pytest.approx(round((1 / 3 + 0) / 2, 4))
    assert result["hit_rate@3"] == 0.5
    assert result["coverage@3"] == 0.5


def test_result_has_the_issue_json_shape_and_beats_popularity_on_blocks() -> None:
    result = evaluate_dataset(tiny_listening_data(), seed=3, dataset_name="tiny")
    assert set(result) == {"dataset", "seed", "protocols", "default_model"}
    assert result["dataset"] == "tiny" and result["seed"] == 3
    assert result["default_model"] == "implicit-als"
    protocols = result["protocols"]
    assert set(protocols) == {"holdout", "new-users", "ratings"}
    for name in ("holdout", "new-users"):
        assert set(protocols[name]) == MODELS
        assert all(set(values) == RANKING for values in protocols[name].values())
    rating_models = {"explicit-als", "explicit-als-factors-only", "global-mean", "damped-bias"}
    assert set(protocols["ratings"]) == rating_models | {f"{m}@minmax-5-10" for m in rating_models}
    assert all(set(v) == {"rmse", "mae"} for v in protocols["ratings"].values())
    holdout = protocols["holdout"]
    assert holdout["implicit-als"]["ndcg@10"] > holdout["most-popular"]["ndcg@10"]
    report = format_report(result)
    assert "implicit-als (default)" in report and "new-users" in report
    assert evaluate_dataset(tiny_listening_data(), seed=3, dataset_name="tiny") == result


@pytest.mark.realdata
@pytest.mark.slow
def test_issue_targets_on_the_shared_data() -> None:
    if not SHARED_DATA.exists():
        pytest.skip(f"no shared data at {SHARED_DATA}")
    from musicrec.datasets import load_lastfm

    started = time.perf_counter()
    result = evaluate_dataset(load_lastfm(SHARED_DATA), seed=42, dataset_name=str(SHARED_DATA))
    assert time.perf_counter() - started < 180
    default = result["protocols"]["holdout"][result["default_model"]]
    assert default["ndcg@10"] >= 0.24
    assert default["precision@10"] >= 0.20
    assert default["coverage@10"] >= 0.06
    new = result["protocols"]["new-users"]
    assert new[result["default_model"]]["ndcg@10"] >= 2.6 * new["most-popular"]["ndcg@10"]
    ratings = result["protocols"]["ratings"]
    for suffix in ("", "@minmax-5-10"):
        assert ratings[f"explicit-als{suffix}"]["rmse"] < ratings[f"damped-bias{suffix}"]["rmse"]
    assert ratings["explicit-als@minmax-5-10"]["rmse"] <= 0.84


def test_fold_in_curve_scores_the_same_users_on_the_same_artists_for_every_k() -> None:
    data = tiny_listening_data()
    result = fold_in_curve(data, seed=3, ks=(5, 1, 2))
    assert result["seed"] == 3 and result["users"] == 6  # 10% of 60, all with > 5 artists
    assert list(result["curve"]) == [1, 2, 5]
    for row in result["curve"].values():
        assert set(row) == {"implicit-als", "most-popular"}
        assert all(set(v) == {"ndcg@10", "precision@10"} for v in row.values())
        assert all(0.0 <= x <= 1.0 for v in row.values() for x in v.values())
    # Popularity ignores the given ratings and the same top-5 are excluded for every k.
    popular = {str(row["most-popular"]) for row in result["curve"].values()}
    assert len(popular) == 1
    curve = result["curve"]
    assert curve[5]["implicit-als"]["ndcg@10"] > curve[5]["most-popular"]["ndcg@10"]
    assert fold_in_curve(data, seed=3, ks=(1, 2, 5)) == result


def test_fold_in_curve_keeps_only_users_with_more_than_max_k_artists() -> None:
    data = tiny_listening_data()
    assert 0 < fold_in_curve(data, seed=3, ks=(1, 15))["users"] < 6
    for ks in [(0, 2), (1, 20)]:  # nobody has more than 20 artists
        with pytest.raises(ValueError):
            fold_in_curve(data, seed=3, ks=ks)


def test_curve_table_prints_one_row_per_k(capsys: pytest.CaptureFixture[str]) -> None:
    from musicrec.engine.compare import curve_table

    lines = curve_table(tiny_listening_data(), [3, 4], ks=(1, 3, 5))
    assert len([line for line in lines if line.startswith("| ")]) == 1 + 3
    assert "x pop s4" in lines[2] and capsys.readouterr().out
