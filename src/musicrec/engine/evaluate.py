"""Offline evaluation of the whole pipeline: listens -> split -> rating mapping -> training
-> top-N, reported over ``REPORT_SEEDS`` (never used to choose a setting; selection scores on
``validation``).

Every protocol splits the listens first, then maps each user's *training* listens to ratings;
a held-out listen never shapes a rating. Protocols (all seeded):

- ``holdout``: users with >= 5 artists have 20% of them hidden; models rank every artist the
  user does not have in training; precision/recall/NDCG/MAP/hit rate/coverage at 10;
- ``new-users-top10`` / ``new-users-random10``: 10% of users are removed from training; each
  is folded in from 10 of their artists (their 10 most-listened, or 10 drawn at random), rated
  by the mapping applied to those 10 listens (all the model may know of the user), and scored
  on the rest of their artists;
- ``ratings``: RMSE and MAE of the explicit model and two baselines on an 80/20 random split
  of the listens: training pairs rated by the mapping of each user's training listens, test
  pairs by the same user's training-derived mapping (``mapping.rate_against_training``); on
  the app's mapping and (keys suffixed ``@minmax-5-10``) on the original app's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine import metrics
from musicrec.engine.als import DEFAULT_KIND, settings_for, train
from musicrec.engine.baselines import DampedBias
from musicrec.engine.data import RatingMatrix
from musicrec.engine.ease import EASEModel
from musicrec.engine.explicit_als import ExplicitALSModel
from musicrec.engine.knn import ItemKNNModel
from musicrec.engine.mapping import DEFAULT_MAPPING, MAPPINGS, rate_against_training
from musicrec.engine.metrics_batch import K, ranking_metrics, relevant_sets
from musicrec.engine.popularity import PopularityModel
from musicrec.engine.ranking import RecommenderModel
from musicrec.engine.settings import ExplicitSettings, ModelSettings
from musicrec.engine.split import dense_index, holdout_split, new_user_split, random_split
from musicrec.engine.validation import REPORT_SEEDS, Trainer

MODEL_NAMES = {"implicit": "implicit-als", "explicit": "explicit-als"}
RANKED_MODELS = ("implicit-als", "explicit-als", "most-popular", "item-knn-bm25", "ease")
# The original app's mapping, reported beside this app's in ``ratings``.
ORIGINAL_APP_MAPPING = "minmax-5-10"
NEW_USER_PROTOCOLS = {"new-users-top10": "top", "new-users-random10": "random"}
PROTOCOLS = ("holdout", *NEW_USER_PROTOCOLS, "ratings")
Scores = dict[str, dict[str, float]]  # model -> metric -> value


def _models(
    ratings: RatingMatrix,
    settings: dict[str, ModelSettings],
    trainer: Trainer,
    only: Iterable[str] | None,
) -> dict[str, Any]:
    """The compared models (or those named in ``only``), default first, all trained on the
    same ratings."""
    other = "explicit" if DEFAULT_KIND == "implicit" else "implicit"
    builders: dict[str, Callable[[], Any]] = {
        MODEL_NAMES[DEFAULT_KIND]: lambda: trainer(ratings, settings[DEFAULT_KIND]),
        MODEL_NAMES[other]: lambda: trainer(ratings, settings[other]),
        "most-popular": lambda: PopularityModel.fit(ratings),
        "item-knn-bm25": lambda: ItemKNNModel(ratings),
        "ease": lambda: EASEModel(ratings),
    }
    wanted = set(builders if only is None else only)
    return {name: build() for name, build in builders.items() if name in wanted}


def _seeded(settings: dict[str, ModelSettings] | None, seed: int) -> dict[str, ModelSettings]:
    chosen = settings or {kind: settings_for(kind) for kind in MODEL_NAMES}
    return {kind: replace(kind_settings, seed=seed) for kind, kind_settings in chosen.items()}


def _map_rows(mapping: str, user_ids: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """Ratings of these rows by each user's mapping over these rows only."""
    _, user_index = dense_index(user_ids)
    return np.asarray(MAPPINGS[mapping](user_index, listens), dtype=np.float64)


def holdout(
    data: ListeningData,
    seed: int,
    settings: dict[str, ModelSettings] | None = None,
    *,
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
    only: Iterable[str] | None = None,
) -> Scores:
    """The holdout protocol for one seed."""
    test = holdout_split(data.user_ids, seed=seed)
    ratings = _map_rows(mapping, data.user_ids[~test], data.listens[~test])
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[~test], data.item_ids[~test], ratings, catalogue=data.artist_ids
    )
    users, relevant = relevant_sets(data.user_ids[test], data.item_ids[test])
    models = _models(train_ratings, _seeded(settings, seed), trainer, only)
    return {
        name: ranking_metrics(model.recommend_batch(users, K), relevant, data.artist_ids.size)
        for name, model in models.items()
    }


def _recommend_new(model: Any, artist_ids: np.ndarray, ratings: np.ndarray) -> np.ndarray:
    """Top-K artist ids for a user not in ``model``, padded with -1."""
    if isinstance(model, ItemKNNModel | EASEModel):
        row = model.recommend_ids_for_ratings(artist_ids, ratings, K)
    else:
        recs = model.recommend_for_ratings(artist_ids, ratings, K, explain=0)
        row = np.array([r.artist_id for r in recs], dtype=np.int64)
    return np.pad(row, (0, K - row.size), constant_values=-1)


def new_users(
    data: ListeningData,
    seed: int,
    settings: dict[str, ModelSettings] | None = None,
    *,
    given: str = "top",
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
    only: Iterable[str] | None = None,
) -> Scores:
    """A new-users protocol for one seed: 10 given artists, the ``top`` or ``random`` ones."""
    split = new_user_split(data.user_ids, data.listens, seed=seed, given=given)
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[split.train],
        data.item_ids[split.train],
        _map_rows(mapping, data.user_ids[split.train], data.listens[split.train]),
        catalogue=data.artist_ids,
    )
    users, relevant = relevant_sets(data.user_ids[split.test], data.item_ids[split.test])
    given_users, given_items = data.user_ids[split.given], data.item_ids[split.given]
    given_ratings = _map_rows(mapping, given_users, data.listens[split.given])
    mine = {int(user): given_users == user for user in users}
    results = {}
    for name, model in _models(train_ratings, _seeded(settings, seed), trainer, only).items():
        rows = [_recommend_new(model, given_items[m], given_ratings[m]) for m in mine.values()]
        results[name] = ranking_metrics(np.array(rows), relevant, data.artist_ids.size)
    return results


def rating_errors(
    data: ListeningData,
    seed: int,
    settings: ExplicitSettings | None = None,
    *,
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
) -> Scores:
    """RMSE/MAE on an 80/20 random split of the listens, rated split-first (module docstring):
    the explicit model (with its rating-scale layer when on, and its factors alone), the global
    mean, the damped biases. Test pairs of users with no training pair (no scale) are left out.
    """
    explicit = replace(settings or settings_for("explicit"), seed=seed)
    test = random_split(data.user_ids.size, seed=seed)
    _, user_index = dense_index(data.user_ids)
    u, i = data.user_ids, data.item_ids
    train_r = MAPPINGS[mapping](user_index[~test], data.listens[~test]).astype(np.float64)
    test_r = rate_against_training(
        mapping, user_index[~test], data.listens[~test], user_index[test], data.listens[test]
    )
    rated = ~np.isnan(test_r)
    tu, ti, tr = u[test][rated], i[test][rated], test_r[rated]
    model = trainer(RatingMatrix.from_arrays(u[~test], i[~test], train_r), explicit)
    assert isinstance(model, ExplicitALSModel)
    baseline = DampedBias.fit(u[~test], i[~test], train_r)
    low, high = train_r.min(), train_r.max()
    predictions = {
        "explicit-als": np.clip(model.predict(tu, ti), low, high),
        "explicit-als-factors-only": np.clip(model.predict_uncalibrated(tu, ti), low, high),
        "global-mean": np.full(tr.size, train_r.mean()),
        "damped-bias": baseline.predict(tu, ti),
    }
    return {
        name: {"rmse": round(metrics.rmse(p, tr), 4), "mae": round(metrics.mae(p, tr), 4)}
        for name, p in predictions.items()
    }


def rating_protocol(
    data: ListeningData,
    seed: int,
    settings: ExplicitSettings | None = None,
    *,
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
) -> Scores:
    """The ``ratings`` protocol on the app's mapping and, with the suffix ``@minmax-5-10``, on
    the original app's min-max 5..10 ratings (the scale of the original RMSE target)."""
    out = rating_errors(data, seed, settings, trainer=trainer, mapping=mapping)
    original = rating_errors(data, seed, settings, trainer=trainer, mapping=ORIGINAL_APP_MAPPING)
    for name, values in original.items():
        out[f"{name}@{ORIGINAL_APP_MAPPING}"] = values
    return out


def summarise(per_seed: Sequence[Scores]) -> dict[str, dict[str, dict[str, Any]]]:
    """{model: {metric: {"mean", "std" (sample, ddof 1), "per_seed"}}} over the seeds."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for model, first in per_seed[0].items():
        out[model] = {}
        for metric in first:
            values = [scores[model][metric] for scores in per_seed]
            std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
            out[model][metric] = {
                "mean": round(float(np.mean(values)), 4),
                "std": round(std, 4),
                "per_seed": values,
            }
    return out


def evaluate_dataset(
    data: ListeningData,
    seeds: Sequence[int] = REPORT_SEEDS,
    *,
    mapping: str = DEFAULT_MAPPING,
    settings: dict[str, ModelSettings] | None = None,
    trainer: Trainer = train,
    protocols: Sequence[str] = PROTOCOLS,
) -> dict[str, Any]:
    """Run the protocols on every seed; returns the JSON of ``musicrec evaluate --json``:
    ``{"default_model", "report_seeds", "protocols": {protocol: summarise(...)}}``.

    ``settings`` (per kind, as from ``settings_for``; each model is trained with the seed of
    its split), ``mapping`` and ``trainer`` let comparisons run alternatives; the defaults are
    what the app uses.
    """
    unknown = set(protocols) - set(PROTOCOLS)
    if unknown:
        raise ValueError(f"unknown protocol(s) {sorted(unknown)}; use {PROTOCOLS}")
    settings = settings or {kind: settings_for(kind) for kind in MODEL_NAMES}
    runners: dict[str, Callable[[int], Scores]] = {
        "holdout": lambda s: holdout(data, s, settings, trainer=trainer, mapping=mapping),
        "ratings": lambda s: rating_protocol(
            data,
            s,
            settings["explicit"],  # type: ignore[arg-type]
            trainer=trainer,
            mapping=mapping,
        ),
    }
    for name, given in NEW_USER_PROTOCOLS.items():
        runners[name] = lambda s, g=given: new_users(  # type: ignore[misc]
            data, s, settings, given=g, trainer=trainer, mapping=mapping
        )
    return {
        "default_model": MODEL_NAMES[DEFAULT_KIND],
        "report_seeds": list(seeds),
        "protocols": {
            name: summarise([runners[name](seed) for seed in seeds])
            for name in PROTOCOLS
            if name in protocols
        },
    }


def format_report(result: dict[str, Any]) -> str:
    """A markdown table per protocol: each metric's mean +- sample std over the seeds."""
    seeds = ", ".join(str(s) for s in result["report_seeds"])
    lines = [f"report seeds: {seeds}  default model: {result['default_model']}"]
    for protocol, table in result["protocols"].items():
        columns = list(next(iter(table.values())).keys())
        lines += [
            "",
            f"{protocol} (mean +- std over {len(result['report_seeds'])} seeds):",
            "",
            "| model | " + " | ".join(columns) + " |",
            "|---" * (len(columns) + 1) + "|",
        ]
        for model, values in table.items():
            mark = " (default)" if model == result["default_model"] else ""
            cells = " | ".join(
                f"{values[c]['mean']:.4f} +- {values[c]['std']:.4f}" for c in columns
            )
            lines.append(f"| {model}{mark} | {cells} |")
    return "\n".join(lines)


CURVE_KS = (1, 2, 3, 5, 8, 10, 15, 20)


def fold_in_curve(
    data: ListeningData,
    seed: int = REPORT_SEEDS[0],
    ks: tuple[int, ...] = CURVE_KS,
    *,
    mapping: str = DEFAULT_MAPPING,
    settings: dict[str, ModelSettings] | None = None,
    trainer: Trainer = train,
) -> dict[str, Any]:
    """How many ratings a new user needs: the new-users protocol with k given ratings.

    10% of users (seeded) are removed from training, as in ``new-users-top10``; of those, only
    users with more than max(ks) artists are kept, and each is scored on the artists beyond
    their max(ks) most-listened ones: the same users and the same test artists for every k.
    For each k the user is folded in from their k most-listened artists, rated by the mapping
    applied to those k listens; their other max(ks) - k top artists are excluded from the
    recommendations (known to them, not part of the test). The default model and the
    popularity baseline are trained once. Returns ``{"seed", "users", "curve": {k: {model:
    {"ndcg@10", "precision@10"}}}}``.
    """
    ks = tuple(sorted(set(int(k) for k in ks)))
    if not ks or ks[0] < 1:
        raise ValueError("ks must be positive numbers of ratings")
    top = ks[-1]
    _, user_index = dense_index(data.user_ids)
    default = _seeded(settings, seed)[DEFAULT_KIND]
    split = new_user_split(data.user_ids, data.listens, n_given=top, seed=seed)
    counts = np.bincount(user_index)
    eligible = counts[user_index] > top
    given, test = split.given & eligible, split.test & eligible
    train_ratings = RatingMatrix.from_arrays(
        data.user_ids[split.train],
        data.item_ids[split.train],
        _map_rows(mapping, data.user_ids[split.train], data.listens[split.train]),
        catalogue=data.artist_ids,
    )
    models: dict[str, RecommenderModel] = {
        MODEL_NAMES[DEFAULT_KIND]: trainer(train_ratings, default),
        "most-popular": PopularityModel.fit(train_ratings),
    }
    users, relevant = relevant_sets(data.user_ids[test], data.item_ids[test])
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
                ids = data.item_ids[rows_of_user]
                values = MAPPINGS[mapping](
                    np.zeros(k, dtype=np.int64), data.listens[rows_of_user][:k]
                ).astype(np.float64)
                recs = model.recommend_for_ratings(ids[:k], values, K, exclude=ids[k:], explain=0)
                row = np.array([r.artist_id for r in recs], dtype=np.int64)
                rows.append(np.pad(row, (0, K - row.size), constant_values=-1))
            scored = ranking_metrics(np.array(rows), relevant, data.artist_ids.size)
            curve[k][name] = {m: scored[m] for m in (f"ndcg@{K}", f"precision@{K}")}
    return {"seed": seed, "users": int(users.size), "curve": curve}
