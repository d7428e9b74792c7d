"""Offline evaluation of what a new user gets: the fold-in, the discovery setting and "not
for me", chosen on one group of listeners and reported on another.

Choosing and reporting never share a user: the listeners are split once into the selection
and report groups of ``split.user_groups``, the groups every evaluation uses. **Selection**
runs inside its own group only: over ``SELECTION_SEEDS``, 10% of its users leave training,
the rest of the group trains the default model, and each held-out user is folded in from
their 10 most-listened artists (rated by the mapping of those listens, as in ``evaluate``'s
``new-users-top10``) and scored on the rest. **Report**, over ``REPORT_SEEDS``: a fifth of the
*report group* (``evaluate.REPORT_NEW_USERS``) is held out the same way and the model trains
on every other listener, the very split of ``musicrec evaluate``'s ``new-users-top10``; no
report user ever shapes a choice.

Chosen on the selection group, in this order (each with the earlier choices applied):

- **The new-user fold-in** (``implicit_als``): the rating power p and the regularisation of
  the fold-in, the pair with the best NDCG@10 at discovery 0 over ``FOLD_IN_GRID``.
- **The default discovery**: the largest setting whose NDCG@10 is within
  ``DEFAULT_TOLERANCE`` (relative) of the best setting's. For each setting the tables give
  NDCG@10, the median training listeners of the picks, the share of picks with fewer than
  ``THIN_LISTENERS`` and the catalogue coverage. Beside it, the same table without the
  penalty's evidence floor (``discovery``; fixed, not chosen): the penalty as it was.
- **Not for me**: a first round of 10 picks is shown; the picks the user never listened to
  (none of their held-out artists) are marked "not for me". A second round of 10 excludes
  every first-round pick, as the app does, and is folded in with those dislikes held at
  weight w (w = 0: only filtered out, no signal). The weight chosen is the largest whose
  second-round NDCG@10 is within ``DISLIKE_TOLERANCE`` of w = 0's. Other users are
  untouched by construction: dislikes never enter training.

The report measures the code's settings (what the app serves: ``recommend_for_ratings`` with
the default discovery) beside popularity, item-kNN and EASE on the same held-out users, and
says whether the code's settings are the ones selection chose.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import product
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine.als import DEFAULT_KIND, settings_for, train
from musicrec.engine.data import RatingMatrix
from musicrec.engine.discovery import DEFAULT_DISCOVERY, DEFAULT_TOLERANCE, THIN_LISTENERS
from musicrec.engine.ease import EASEModel
from musicrec.engine.evaluate import NEW_USERS, REPORT_NEW_USERS, map_rows
from musicrec.engine.implicit_als import (
    DISLIKE_WEIGHT,
    NEW_USER_RATING_POWER,
    NEW_USER_REGULARIZATION,
    ImplicitALSModel,
)
from musicrec.engine.knn import ItemKNNModel
from musicrec.engine.mapping import DEFAULT_MAPPING
from musicrec.engine.metrics_batch import K, ranking_metrics, relevant_sets
from musicrec.engine.popularity import PopularityModel
from musicrec.engine.split import new_user_split, user_groups
from musicrec.engine.validation import REPORT_SEEDS, SELECTION_SEED, Trainer

DISCOVERY_GRID = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
DISLIKE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
# (rating power p, regularisation) of the new-user fold-in; (1, the training's reg) is the
# training's own solve, what new users got before.
FOLD_IN_GRID = tuple(product((0.0, 0.5, 1.0), (1.0, 3.0, 10.0, 30.0)))
# The new-user splits of the selection group (its users are never in the report group).
SELECTION_SEEDS = tuple(SELECTION_SEED + offset for offset in range(5))
# A "not for me" must not cost the user's other picks more than this (relative NDCG@10).
DISLIKE_TOLERANCE = 0.01
NDCG = f"ndcg@{K}"
THIN = f"picks < {THIN_LISTENERS} listeners"


@dataclass(frozen=True)
class Choice:
    """The settings a new user is served with."""

    rating_power: float = NEW_USER_RATING_POWER
    regularization: float = NEW_USER_REGULARIZATION
    discovery: float = DEFAULT_DISCOVERY
    dislike_weight: float = DISLIKE_WEIGHT
    evidence_floor: bool = True  # the discovery penalty's (False: the penalty as it was)


@dataclass(frozen=True)
class NewUsers:
    """A trained model and the held-out new users of one seed, ready to fold in."""

    model: ImplicitALSModel
    ratings: RatingMatrix  # what the model was trained on (for the other models)
    given: list[tuple[np.ndarray, np.ndarray]]  # per user: (artist ids, ratings)
    relevant: list[set[int]]  # per user: held-out artist ids
    catalogue_size: int


def halves(data: ListeningData) -> tuple[ListeningData, ...]:
    """(selection group, report group): the rows of ``split.user_groups``' two groups, the
    same users every evaluation chooses and reports with."""
    groups = user_groups(data.user_ids)
    return _rows(data, groups.selection_rows(data.user_ids)), _rows(
        data, groups.report_rows(data.user_ids)
    )


def _rows(data: ListeningData, mask: np.ndarray) -> ListeningData:
    return replace(
        data, user_ids=data.user_ids[mask], item_ids=data.item_ids[mask], listens=data.listens[mask]
    )


def new_users(
    data: ListeningData,
    seed: int,
    *,
    among: np.ndarray | None = None,
    fraction: float = NEW_USERS,
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
) -> NewUsers:
    """Hold out ``fraction`` of the users ``among`` (ids; default: all of ``data``'s), as
    ``evaluate``'s ``new-users-top10`` does; train the default model on every other user;
    the held-out users, ready to fold in."""
    split = new_user_split(data.user_ids, data.listens, seed=seed, among=among, fraction=fraction)
    matrix = RatingMatrix.from_arrays(
        data.user_ids[split.train],
        data.item_ids[split.train],
        map_rows(mapping, data.user_ids[split.train], data.listens[split.train]),
        catalogue=data.artist_ids,
    )
    model = trainer(matrix, replace(settings_for(DEFAULT_KIND), seed=seed))
    assert isinstance(model, ImplicitALSModel), "the new-user settings are implicit ALS's"
    users, relevant = relevant_sets(data.user_ids[split.test], data.item_ids[split.test])
    given_users, given_items = data.user_ids[split.given], data.item_ids[split.given]
    given_ratings = map_rows(mapping, given_users, data.listens[split.given])
    given = [(given_items[given_users == u], given_ratings[given_users == u]) for u in users]
    return NewUsers(model, matrix, given, relevant, int(data.artist_ids.size))


@contextmanager
def served_with(model: ImplicitALSModel, choice: Choice) -> Iterator[ImplicitALSModel]:
    """The model answering as it would with ``choice``'s settings (restored afterwards)."""
    saved = (
        model.new_user_rating_power,
        model.new_user_regularization,
        model.dislike_weight,
        model.min_listeners,
    )
    model.new_user_rating_power = choice.rating_power
    model.new_user_regularization = choice.regularization
    model.dislike_weight = choice.dislike_weight
    model.set_min_listeners(None if choice.evidence_floor else 0.0)
    try:
        yield model
    finally:
        model.new_user_rating_power, model.new_user_regularization = saved[:2]
        model.dislike_weight = saved[2]
        model.set_min_listeners(saved[3])


def _padded(ids: Sequence[int]) -> np.ndarray:
    row = np.asarray(ids, dtype=np.int64)[:K]
    return np.pad(row, (0, K - row.size), constant_values=-1)


def _picks(model: Any, given: tuple[np.ndarray, np.ndarray], **options: Any) -> list[int]:
    """The top K of the app's path (``recommend_for_ratings``) for one new user."""
    found = model.recommend_for_ratings(given[0], given[1], K, explain=0, **options)
    return [r.artist_id for r in found]


def _scored(run: NewUsers, rows: Sequence[Sequence[int]]) -> dict[str, float]:
    """NDCG@10 and coverage@10 of one list per held-out user, with what the lists are made
    of: the median training listeners of the picks and the share of thin-evidence picks."""
    scored = ranking_metrics(np.array([_padded(r) for r in rows]), run.relevant, run.catalogue_size)
    ids = np.array([i for r in rows for i in r if i >= 0], dtype=np.int64)
    picked = run.model.items.indices(ids)
    listeners = run.model.rating_counts()[picked]
    return {
        NDCG: scored[NDCG],
        "median listeners": float(np.median(listeners)) if listeners.size else 0.0,
        THIN: float(np.mean(listeners < THIN_LISTENERS)) if listeners.size else 0.0,
        f"coverage@{K}": scored[f"coverage@{K}"],
    }


def fold_in_effect(
    run: NewUsers, grid: Sequence[tuple[float, float]] = FOLD_IN_GRID
) -> dict[str, Any]:
    """{"p=.. reg=..": {"ndcg@10", ...}} at discovery 0, for one seed."""
    out: dict[str, Any] = {}
    cap = run.model.new_user_regularization_cap
    run.model.new_user_regularization_cap = np.inf  # each reg as named (the cap is a guard
    try:  # for short vectors: on the data the grid chose on, it does not bind at the default)
        for power, reg in grid:
            with served_with(run.model, Choice(power, reg)) as model:
                out[_fold_key(power, reg)] = _scored(
                    run, [_picks(model, g, discovery=0.0) for g in run.given]
                )
    finally:
        run.model.new_user_regularization_cap = cap
    return out


def _fold_key(power: float, reg: float) -> str:
    return f"p={power:g} reg={reg:g}"


def discovery_effect(
    run: NewUsers, choice: Choice = Choice(), grid: Sequence[float] = DISCOVERY_GRID
) -> dict[str, Any]:
    """{setting: {"ndcg@10", "median listeners", thin share, "coverage@10"}} for one seed."""
    with served_with(run.model, choice) as model:
        return {
            str(d): _scored(run, [_picks(model, g, discovery=d) for g in run.given]) for d in grid
        }


def dislike_effect(
    run: NewUsers, choice: Choice = Choice(), weights: Sequence[float] = DISLIKE_WEIGHTS
) -> dict[str, Any]:
    """{weight: {"ndcg@10" of the second round, "dislikes" per user}} for one seed."""
    with served_with(run.model, choice) as model:
        first = [_picks(model, g, discovery=choice.discovery) for g in run.given]
    disliked = [
        [i for i in picks if i not in rel] for picks, rel in zip(first, run.relevant, strict=True)
    ]
    still = [rel - set(picks) for picks, rel in zip(first, run.relevant, strict=True)]
    keep = [bool(rel) for rel in still]
    out: dict[str, Any] = {}
    for w in weights:
        rows = []
        with served_with(run.model, replace(choice, dislike_weight=w)) as model:
            for given, shown, against, kept in zip(run.given, first, disliked, keep, strict=True):
                if kept:
                    found = _picks(
                        model, given, exclude=shown, disliked=against, discovery=choice.discovery
                    )
                    rows.append(_padded(found))
        scored = ranking_metrics(
            np.array(rows), [s for s, k in zip(still, keep, strict=True) if k], run.catalogue_size
        )
        out[str(w)] = {NDCG: scored[NDCG], "dislikes": float(np.mean([len(d) for d in disliked]))}
    return out


SERVED = "implicit-als (as served)"
BEFORE = "implicit-als, training's fold-in, discovery 0 (before)"
COMPARED = ("most-popular", "item-knn-bm25", "item-knn-bm25 (given as presence)", "ease")


def model_comparison(run: NewUsers, choice: Choice = Choice()) -> dict[str, Any]:
    """NDCG@10 (and the rest of ``_scored``) of the served fold-in and of the alternatives on
    the same held-out users: popularity, item-kNN (the given ratings as ``evaluate`` passes
    them, and as presence), EASE, and the fold-in new users got before."""
    before = Choice(1.0, run.model.settings.regularization, 0.0, evidence_floor=False)
    out: dict[str, Any] = {}
    with served_with(run.model, choice) as model:
        out[SERVED] = _scored(
            run, [_picks(model, g, discovery=choice.discovery) for g in run.given]
        )
        out["implicit-als (discovery 0)"] = _scored(
            run, [_picks(model, g, discovery=0.0) for g in run.given]
        )
    with served_with(run.model, before) as model:
        out[BEFORE] = _scored(run, [_picks(model, g, discovery=0.0) for g in run.given])
    popular = PopularityModel.fit(run.ratings)
    knn, ease = ItemKNNModel(run.ratings), EASEModel(run.ratings)
    out["most-popular"] = _scored(run, [_picks(popular, g) for g in run.given])
    out["item-knn-bm25"] = _scored(
        run, [knn.recommend_ids_for_ratings(ids, r, K).tolist() for ids, r in run.given]
    )
    out["item-knn-bm25 (given as presence)"] = _scored(
        run,
        [knn.recommend_ids_for_ratings(ids, np.ones_like(r), K).tolist() for ids, r in run.given],
    )
    out["ease"] = _scored(
        run, [ease.recommend_ids_for_ratings(ids, r, K).tolist() for ids, r in run.given]
    )
    return out


def _mean(per_seed: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each setting's metrics averaged over the seeds."""
    return {
        setting: {
            metric: round(float(np.mean([run[setting][metric] for run in per_seed])), 4)
            for metric in per_seed[0][setting]
        }
        for setting in per_seed[0]
    }


def choose_fold_in(table: dict[str, dict[str, float]]) -> tuple[float, float]:
    """(rating power, regularisation) of the best NDCG@10 (the first listed among ties)."""
    best = max(table, key=lambda key: table[key][NDCG])
    power, reg = (float(part.split("=")[1]) for part in best.split())
    return power, reg


def choose_discovery(
    table: dict[str, dict[str, float]], tolerance: float = DEFAULT_TOLERANCE
) -> float:
    """The largest setting whose NDCG@10 is within ``tolerance`` (relative) of the best."""
    best = max(row[NDCG] for row in table.values())
    return max(float(d) for d, row in table.items() if row[NDCG] >= (1 - tolerance) * best)


def choose_weight(
    table: dict[str, dict[str, float]], tolerance: float = DISLIKE_TOLERANCE
) -> float:
    """The largest weight whose second-round NDCG@10 is within ``tolerance`` (relative) of
    filtering alone (weight 0) or better."""
    floor = (1 - tolerance) * table["0.0"][NDCG]
    return max(float(w) for w, row in table.items() if row[NDCG] >= floor)


def select(runs: Sequence[NewUsers]) -> dict[str, Any]:
    """The selection group's tables and choices, each made with the earlier ones applied."""
    fold_table = _mean([fold_in_effect(run) for run in runs])
    power, reg = choose_fold_in(fold_table)
    choice = Choice(power, reg)
    unfloored = _mean(
        [discovery_effect(run, replace(choice, evidence_floor=False)) for run in runs]
    )
    discovery_table = _mean([discovery_effect(run, choice) for run in runs])
    choice = replace(choice, discovery=choose_discovery(discovery_table))
    weight_table = _mean([dislike_effect(run, choice) for run in runs])
    choice = replace(choice, dislike_weight=choose_weight(weight_table))
    return {
        "fold_in": fold_table,
        "discovery": discovery_table,
        "discovery_without_floor": unfloored,
        "dislike_weight": weight_table,
        "chosen": vars(choice),
    }


def evaluate_taste(
    data: ListeningData,
    report_seeds: Sequence[int] = REPORT_SEEDS,
    *,
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
) -> dict[str, Any]:
    """Choose on the selection group (``SELECTION_SEED``), report on the report group with
    the code's settings; the JSON of ``musicrec evaluate-taste --json``."""
    selection, _ = halves(data)
    tuning = [new_users(selection, s, trainer=trainer, mapping=mapping) for s in SELECTION_SEEDS]
    chosen = select(tuning)
    report = user_groups(data.user_ids).report
    runs = [
        new_users(
            data,
            seed,
            among=report,
            fraction=REPORT_NEW_USERS,
            trainer=trainer,
            mapping=mapping,
        )
        for seed in report_seeds
    ]
    comparison = [model_comparison(run) for run in runs]
    served = vars(Choice())
    return {
        "model": DEFAULT_KIND,
        "selection": {"seeds": list(SELECTION_SEEDS), **chosen},
        "report": {
            "seeds": list(report_seeds),
            "users_per_seed": [len(run.given) for run in runs],
            "served": served,
            "served_is_chosen": served == chosen["chosen"],
            "new_users": _mean(comparison),
            "new_users_ndcg_per_seed": {
                name: [row[name][NDCG] for row in comparison] for name in comparison[0]
            },
            "goal": new_user_goal(comparison),
            "discovery": _mean([discovery_effect(run) for run in runs]),
            "discovery_without_floor": _mean(
                [discovery_effect(run, Choice(evidence_floor=False)) for run in runs]
            ),
            "dislike_weight": _mean([dislike_effect(run) for run in runs]),
        },
    }


# Issue 20's goal for new users given their top 10 (ratio of mean NDCG@10 over the seeds).
GOAL_OVER_POPULARITY = 2.7
GOAL_OVER_BEST_ALTERNATIVE = 1.05


def new_user_goal(comparison: list[dict[str, Any]]) -> dict[str, Any]:
    """The served fold-in's NDCG@10 against popularity and the best of item-kNN and EASE
    (means over the seeds), and whether the goal is met."""
    mean = {name: float(np.mean([row[name][NDCG] for row in comparison])) for name in comparison[0]}
    rivals = [name for name in COMPARED if name != "most-popular"]
    best = max(rivals, key=lambda name: mean[name])
    over_popularity = mean[SERVED] / mean["most-popular"]
    over_best = mean[SERVED] / mean[best]
    return {
        "over_popularity": round(over_popularity, 3),
        "over_popularity_per_seed": [
            round(row[SERVED][NDCG] / row["most-popular"][NDCG], 3) for row in comparison
        ],
        "best_alternative": best,
        "over_best_alternative": round(over_best, 3),
        "met": bool(
            over_popularity >= GOAL_OVER_POPULARITY and over_best >= GOAL_OVER_BEST_ALTERNATIVE
        ),
    }


def _table(title: str, key: str, table: dict[str, dict[str, float]]) -> list[str]:
    columns = list(next(iter(table.values())))
    return [
        "",
        f"{title}:",
        "",
        f"| {key} | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *(
            f"| {setting} | " + " | ".join(_cell(c, row[c]) for c in columns) + " |"
            for setting, row in table.items()
        ),
    ]


def _cell(column: str, value: float) -> str:
    return f"{value:.1f}" if column in ("median listeners", "dislikes") else f"{value:.4f}"


def _settings(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" if isinstance(v, bool) else f"{k} {v:g}" for k, v in values.items())


def format_taste_report(result: dict[str, Any]) -> str:
    """Markdown tables of ``evaluate_taste``'s result."""
    chosen, report = result["selection"], result["report"]
    picked = chosen["chosen"]
    goal = report["goal"]
    seeds = ", ".join(str(s) for s in report["seeds"])
    lines = [
        f"model: {result['model']}; chosen on the selection group (seeds "
        f"{', '.join(str(s) for s in chosen['seeds'])}): " + _settings(picked),
        "served by the code: "
        + _settings(report["served"])
        + ("" if report["served_is_chosen"] else "  ** NOT what selection chose **"),
    ]
    lines += _table(
        "selection group, new-user fold-in at discovery 0", "fold-in", chosen["fold_in"]
    )
    lines += _table("selection group, discovery", "discovery", chosen["discovery"])
    lines += _table(
        "selection group, discovery without the evidence floor (the penalty as it was)",
        "discovery",
        chosen["discovery_without_floor"],
    )
    lines += _table("selection group, not-for-me weight", "weight", chosen["dislike_weight"])
    users = ", ".join(str(n) for n in report["users_per_seed"])
    lines += _table(
        f"report group, new users given their top 10 (seeds {seeds}; users {users})",
        "model",
        report["new_users"],
    )
    lines += [
        "",
        f"served / most-popular: {goal['over_popularity']:.3f} (goal >= {GOAL_OVER_POPULARITY}; "
        f"per seed {', '.join(f'{r:.2f}' for r in goal['over_popularity_per_seed'])}); "
        f"served / {goal['best_alternative']}: {goal['over_best_alternative']:.3f} "
        f"(goal >= {GOAL_OVER_BEST_ALTERNATIVE}); goal met: {'yes' if goal['met'] else 'no'}",
        "NDCG@10 per seed: "
        + "; ".join(
            f"{name} {', '.join(f'{v:.4f}' for v in values)}"
            for name, values in report["new_users_ndcg_per_seed"].items()
        ),
    ]
    lines += _table(f"report group, discovery (seeds {seeds})", "discovery", report["discovery"])
    lines += _table(
        f"report group, discovery without the evidence floor (seeds {seeds})",
        "discovery",
        report["discovery_without_floor"],
    )
    lines += _table(
        f"report group, not-for-me weight (seeds {seeds})", "weight", report["dislike_weight"]
    )
    return "\n".join(lines)
