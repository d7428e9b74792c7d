"""Offline evaluation of the whole pipeline: listens -> rating mapping -> training -> top-N.

Protocols (all seeded):
- ``holdout``: users with >= 5 artists have 20% of them hidden; models rank every artist the
  user does not have in training; precision/recall/NDCG/MAP/hit rate/coverage at 10;
- ``new-users``: 10% of users are removed from training; each is folded in from their 10
  most-listened artists (rated by the mapping applied to their whole history) and scored on
  the rest of their artists;
- ``ratings``: RMSE and MAE of the explicit model and two baselines on an 80/20 random split,
  on the app's ratings and (keys suffixed ``@minmax-5-10``) on the original app's min-max
  5..10 ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine import metrics
from musicrec.engine.als import DEFAULT_KIND, settings_for, train
from musicrec.engine.baselines import DampedBias
from musicrec.engine.data import RatingMatrix
from musicrec.engine.explicit_als import ExplicitALSModel
from musicrec.engine.knn import ItemKNNModel
from musicrec.engine.mapping import listens_to_ratings, minmax_5_10
from musicrec.engine.popularity import PopularityModel
from musicrec.engine.ranking import RecommenderModel
from musicrec.engine.settings import ModelSettings
from musicrec.engine.split import dense_index, holdout_split, new_user_split, random_split

K = 10
MODEL_NAMES = {"implicit": "implicit-als", "explicit": "explicit-als"}
RatingMapping = Callable[[np.ndarray, np.ndarray], np.ndarray]
# The original app's mapping, reported beside this app's in ``ratings``.
ORIGINAL_APP_MAPPING = "minmax-5-10"


def ranking_metrics(
    recommended: np.ndarray, relevant: list[set[int]], catalogue_size: int, k: int = K
) -> dict[str, float]:
    """Mean per-user ranking metrics at k; ``recommended`` rows are artist ids (-1 = none)."""
    lists = [[int(i) for i in row if i >= 0] for row in recommended]
    per_user = {
        f"ndcg@{k}": metrics.ndcg_at_k,
        f"precision@{k}": metrics.precision_at_k,
        f"recall@{k}": metrics.recall_at_k,
        f"map@{k}": metrics.average_precision_at_k,
        f"hit_rate@{k}": metrics.hit_rate_at_k,
    }
    out = {
        name: float(np.mean([f(items, rel, k) for items, rel in zip(lists, relevant, strict=True)]))
        for name, f in per_user.items()
    }
    out[f"coverage@{k}"] = metrics.coverage_at_k(lists, catalogue_size, k)
    return {name: round(value, 4) for name, value in out.items()}


def _relevant(user_ids: np.ndarray, item_ids: np.ndarray) -> tuple[np.ndarray, list[set[int]]]:
    users, index = dense_index(user_ids)
    groups: list[set[int]] = [set() for _ in users]
    for u, i in zip(index.tolist(), item_ids.tolist(), strict=True):
        groups[u].add(i)
    return users, groups


def _models(
    ratings: RatingMatrix, settings: dict[str, ModelSettings], only: set[str] | None = None
) -> dict[str, Any]:
    """The four compared models (or those named in ``only``), default first, all trained on
    the same ratings."""
    other = "explicit" if DEFAULT_KIND == "implicit" else "implicit"
    builders = {
        MODEL_NAMES[DEFAULT_KIND]: lambda: train(ratings, settings[DEFAULT_KIND]),
        MODEL_NAMES[other]: lambda: train(ratings, settings[other]),
        "most-popular": lambda: PopularityModel.fit(ratings),
        "item-knn-bm25": lambda: ItemKNNModel(ratings),
    }
    return {name: build() for name, build in builders.items() if only is None or name in only}


def holdout(
    data: ListeningData,
    ratings: np.ndarray,
    seed: int,
    settings: dict[str, ModelSettings],
    only: set[str] | None = None,
) -> dict[str, dict[str, float]]:
    test = holdout_split(data.user_ids, seed=seed)
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[~test], data.item_ids[~test], ratings[~test], catalogue=data.artist_ids
    )
    users, relevant = _relevant(data.user_ids[test], data.item_ids[test])
    return {
        name: ranking_metrics(model.recommend_batch(users, K), relevant, data.artist_ids.size)
        for name, model in _models(train_ratings, settings, only).items()
    }


def new_users(
    data: ListeningData,
    ratings: np.ndarray,
    seed: int,
    settings: dict[str, ModelSettings],
    only: set[str] | None = None,
) -> dict[str, dict[str, float]]:
    split = new_user_split(data.user_ids, data.listens, seed=seed)
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[split.train],
        data.item_ids[split.train],
        ratings[split.train],
        catalogue=data.artist_ids,
    )
    users, relevant = _relevant(data.user_ids[split.test], data.item_ids[split.test])
    given_users = data.user_ids[split.given]
    results = {}
    for name, model in _models(train_ratings, settings, only).items():
        rows = []
        for user in users:
            mine = given_users == user
            ids, values = data.item_ids[split.given][mine], ratings[split.given][mine]
            if isinstance(model, ItemKNNModel):
                row = model.recommend_ids_for_ratings(ids, values, K)
            else:
                recs = model.recommend_for_ratings(ids, values, K, explain=0)
                row = np.array([r.artist_id for r in recs], dtype=np.int64)
            rows.append(np.pad(row, (0, K - row.size), constant_values=-1))
        results[name] = ranking_metrics(np.array(rows), relevant, data.artist_ids.size)
    return results


def rating_errors(
    data: ListeningData, ratings: np.ndarray, seed: int, settings: ModelSettings
) -> dict[str, dict[str, float]]:
    """RMSE/MAE on an 80/20 random split of ``ratings``: the explicit model (with its
    rating-scale layer when on, and its factors alone), the global mean, the damped biases."""
    test = random_split(ratings.size, seed=seed)
    u, i, r = data.user_ids, data.item_ids, ratings.astype(np.float64)
    model = train(RatingMatrix.from_arrays(u[~test], i[~test], r[~test]), settings)
    assert isinstance(model, ExplicitALSModel)
    baseline = DampedBias.fit(u[~test], i[~test], r[~test])
    low, high = r[~test].min(), r[~test].max()
    predictions = {
        "explicit-als": np.clip(model.predict(u[test], i[test]), low, high),
        "explicit-als-factors-only": np.clip(
            model.predict_uncalibrated(u[test], i[test]), low, high
        ),
        "global-mean": np.full(int(test.sum()), r[~test].mean()),
        "damped-bias": baseline.predict(u[test], i[test]),
    }
    return {
        name: {"rmse": round(metrics.rmse(p, r[test]), 4), "mae": round(metrics.mae(p, r[test]), 4)}
        for name, p in predictions.items()
    }


def rating_protocol(
    data: ListeningData, ratings: np.ndarray, seed: int, settings: ModelSettings
) -> dict[str, dict[str, float]]:
    """The ``ratings`` protocol on the app's ratings and, with the suffix ``@minmax-5-10``, on
    the original app's min-max 5..10 ratings (the scale of the issue's RMSE target)."""
    _, user_index = dense_index(data.user_ids)
    minmax_ratings = np.asarray(minmax_5_10(user_index, data.listens), dtype=np.float64)
    out = rating_errors(data, ratings, seed, settings)
    for name, values in rating_errors(data, minmax_ratings, seed, settings).items():
        out[f"{name}@{ORIGINAL_APP_MAPPING}"] = values
    return out


CURVE_KS = (1, 2, 3, 5, 8, 10, 15, 20)


def fold_in_curve(
    data: ListeningData,
    seed: int = 42,
    ks: tuple[int, ...] = CURVE_KS,
    *,
    mapping: RatingMapping = listens_to_ratings,
    settings: dict[str, ModelSettings] | None = None,
) -> dict[str, Any]:
    """How many ratings a new user needs: the new-users protocol with k given ratings.

    10% of users (seeded) are removed from training, as in ``new-users``; of those, only users
    with more than max(ks) artists are kept, and each is scored on the artists beyond their
    max(ks) most-listened ones: the same users and the same test artists for every k. For each
    k the user is folded in from their k most-listened artists (rated by the mapping applied
    to their whole history); their other max(ks) - k top artists are excluded from the
    recommendations (known to them, not part of the test). The default model and the
    popularity baseline are trained once. Returns ``{"seed", "users", "curve": {k: {model:
    {"ndcg@10", "precision@10"}}}}``.
    """
    ks = tuple(sorted(set(int(k) for k in ks)))
    if not ks or ks[0] < 1:
        raise ValueError("ks must be positive numbers of ratings")
    top = ks[-1]
    _, user_index = dense_index(data.user_ids)
    ratings = np.asarray(mapping(user_index, data.listens), dtype=np.float64)
    default = replace(settings[DEFAULT_KIND] if settings else settings_for(DEFAULT_KIND), seed=seed)
    split = new_user_split(data.user_ids, data.listens, n_given=top, seed=seed)
    counts = np.bincount(user_index)
    eligible = counts[user_index] > top
    given, test = split.given & eligible, split.test & eligible
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[split.train],
        data.item_ids[split.train],
        ratings[split.train],
        catalogue=data.artist_ids,
    )
    models: dict[str, RecommenderModel] = {
        MODEL_NAMES[DEFAULT_KIND]: train(train_ratings, default),
        "most-popular": PopularityModel.fit(train_ratings),
    }
    users, relevant = _relevant(data.user_ids[test], data.item_ids[test])
    if users.size == 0:
        raise ValueError(f"no held-out user has more than {top} artists")
    # Each user's given rows, most listened first (ties in row order).
    order = np.flatnonzero(given)
    order = order[np.lexsort((-data.listens[order], data.user_ids[order]))]
    by_user = {int(u): order[data.user_ids[order] == u] for u in users}
    curve: dict[int, dict[str, dict[str, float]]] = {}
    for k in ks:
        curve[k] = {}
        for name, model in models.items():
            rows = []
            for user in users:
                rows_of_user = by_user[int(user)]
                ids, values = data.item_ids[rows_of_user], ratings[rows_of_user]
                recs = model.recommend_for_ratings(
                    ids[:k], values[:k], K, exclude=ids[k:], explain=0
                )
                row = np.array([r.artist_id for r in recs], dtype=np.int64)
                rows.append(np.pad(row, (0, K - row.size), constant_values=-1))
            scored = ranking_metrics(np.array(rows), relevant, data.artist_ids.size)
            curve[k][name] = {m: scored[m] for m in (f"ndcg@{K}", f"precision@{K}")}
    return {"seed": seed, "users": int(users.size), "curve": curve}


def evaluate_dataset(
    data: ListeningData,
    seed: int = 42,
    *,
    dataset_name: str | None = None,
    mapping: RatingMapping = listens_to_ratings,
    settings: dict[str, ModelSettings] | None = None,
) -> dict[str, Any]:
    """Run the three protocols; returns the JSON-ready result of ``musicrec evaluate``.

    ``mapping`` and ``settings`` (per kind, as from ``settings_for``) let the comparison in
    docs/evaluation.md run alternatives; the defaults are what the app uses. Every model is
    trained with ``seed``.
    """
    _, user_index = dense_index(data.user_ids)
    ratings = np.asarray(mapping(user_index, data.listens), dtype=np.float64)
    settings = settings or {kind: settings_for(kind) for kind in MODEL_NAMES}
    settings = {kind: replace(kind_settings, seed=seed) for kind, kind_settings in settings.items()}
    return {
        "dataset": dataset_name if dataset_name is not None else "",
        "seed": seed,
        "protocols": {
            "holdout": holdout(data, ratings, seed, settings),
            "new-users": new_users(data, ratings, seed, settings),
            "ratings": rating_protocol(data, ratings, seed, settings["explicit"]),
        },
        "default_model": MODEL_NAMES[DEFAULT_KIND],
    }


def format_report(result: dict[str, Any]) -> str:
    """A human-readable markdown table per protocol."""
    lines = [
        f"dataset: {result['dataset']}  seed: {result['seed']}  "
        f"default model: {result['default_model']}"
    ]
    for protocol, table in result["protocols"].items():
        columns = list(next(iter(table.values())).keys())
        lines += [
            "",
            f"{protocol}:",
            "",
            "| model | " + " | ".join(columns) + " |",
            "|---" * (len(columns) + 1) + "|",
        ]
        for model, values in table.items():
            mark = " (default)" if model == result["default_model"] else ""
            cells = " | ".join(f"{values[c]:.4f}" for c in columns)
            lines.append(f"| {model}{mark} | {cells} |")
    return "\n".join(lines)
