"""Offline evaluation of the taste controls: the discovery setting and "not for me".

Choosing and reporting never share a user. The listeners are split once (``SELECTION_SEED``)
into two disjoint halves: the *selection* half picks the default discovery setting and the
weight of a "not for me" in the fold-in; the *report* half, over ``REPORT_SEEDS``, gives the
figures of ``docs/evaluation.md``. Within a half, each seed runs the new-users protocol of
``evaluate``: 10% of its users leave training, each is folded in from their 10 most-listened
artists (rated by the mapping of those listens) and scored on the rest.

Selection averages over ``SELECTION_SEEDS`` on its half, the report over ``REPORT_SEEDS``.

- **Discovery**: for each setting d, NDCG@10 of the picks, the median number of training
  ratings of the picked artists (their popularity) and the catalogue coverage of all picks.
  The default is the largest d whose NDCG@10 on the selection half is within
  ``DEFAULT_TOLERANCE`` (relative) of the best setting's there.
- **Not for me**: a first round of 10 picks is shown; the picks the user never listened to
  (none of their held-out artists) are marked "not for me". A second round of 10 excludes
  every first-round pick, as the app does, and is folded in with those dislikes held at
  weight w (w = 0: only filtered out, no signal). NDCG@10 of the second round on the held-out
  artists not already found shows whether the signal helps or hurts the user's other
  recommendations. The weight chosen is the largest whose NDCG@10 on the selection half is
  within ``DISLIKE_TOLERANCE`` of w = 0's (the firmest signal that does not hurt). Other
  users are untouched by construction: dislikes never enter training.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine.als import DEFAULT_KIND, settings_for, train
from musicrec.engine.data import RatingMatrix
from musicrec.engine.discovery import DEFAULT_TOLERANCE
from musicrec.engine.implicit_als import ImplicitALSModel
from musicrec.engine.mapping import DEFAULT_MAPPING, MAPPINGS
from musicrec.engine.metrics_batch import K, ranking_metrics, relevant_sets
from musicrec.engine.model import FactorModel
from musicrec.engine.split import dense_index, new_user_split
from musicrec.engine.validation import REPORT_SEEDS, SELECTION_SEED, Trainer

DISCOVERY_GRID = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
DISLIKE_WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
# The new-user splits of the selection half (its users are never in the report half).
SELECTION_SEEDS = tuple(SELECTION_SEED + offset for offset in range(5))
# A "not for me" must not cost the user's other picks more than this (relative NDCG@10).
DISLIKE_TOLERANCE = 0.01
NDCG = f"ndcg@{K}"


@dataclass(frozen=True)
class NewUsers:
    """A trained model and the held-out new users of one seed, ready to fold in."""

    model: FactorModel  # type: ignore[type-arg]
    given: list[tuple[np.ndarray, np.ndarray]]  # per user: (artist ids, ratings)
    relevant: list[set[int]]  # per user: held-out artist ids
    catalogue_size: int


def halves(data: ListeningData, seed: int = SELECTION_SEED) -> tuple[ListeningData, ...]:
    """(selection half, report half): the listeners split at random, none in both."""
    users, index = dense_index(data.user_ids)
    chosen = np.zeros(users.size, dtype=bool)
    chosen[np.random.default_rng(seed).permutation(users.size)[: users.size // 2]] = True
    return tuple(_rows(data, chosen[index] == side) for side in (True, False))


def _rows(data: ListeningData, mask: np.ndarray) -> ListeningData:
    return replace(
        data, user_ids=data.user_ids[mask], item_ids=data.item_ids[mask], listens=data.listens[mask]
    )


def new_users(
    data: ListeningData, seed: int, *, trainer: Trainer = train, mapping: str = DEFAULT_MAPPING
) -> NewUsers:
    """Train the default model without 10% of the users; those users, ready to fold in."""
    split = new_user_split(data.user_ids, data.listens, seed=seed)

    def rated(mask: np.ndarray) -> np.ndarray:
        _, index = dense_index(data.user_ids[mask])
        return np.asarray(MAPPINGS[mapping](index, data.listens[mask]), dtype=np.float64)

    matrix = RatingMatrix.from_arrays(
        data.user_ids[split.train],
        data.item_ids[split.train],
        rated(split.train),
        catalogue=data.artist_ids,
    )
    model = trainer(matrix, replace(settings_for(DEFAULT_KIND), seed=seed))
    users, relevant = relevant_sets(data.user_ids[split.test], data.item_ids[split.test])
    given_users, given_items = data.user_ids[split.given], data.item_ids[split.given]
    given_ratings = rated(split.given)
    given = [(given_items[given_users == u], given_ratings[given_users == u]) for u in users]
    return NewUsers(model, given, relevant, int(data.artist_ids.size))


def _padded(ids: list[int]) -> np.ndarray:
    return np.pad(np.asarray(ids, dtype=np.int64), (0, K - len(ids)), constant_values=-1)


def _picks(model: FactorModel, given: tuple[np.ndarray, np.ndarray], **options: Any) -> list[int]:  # type: ignore[type-arg]
    found = model.recommend_for_ratings(given[0], given[1], K, explain=0, **options)
    return [r.artist_id for r in found]


def discovery_effect(run: NewUsers, grid: Sequence[float] = DISCOVERY_GRID) -> dict[str, Any]:
    """{setting: {"ndcg@10", "median_popularity", "coverage@10"}} for one seed."""
    counts = run.model.rating_counts()
    out: dict[str, Any] = {}
    for d in grid:
        rows = [_picks(run.model, given, discovery=d) for given in run.given]
        scored = ranking_metrics(
            np.array([_padded(r) for r in rows]), run.relevant, run.catalogue_size
        )
        picked = run.model.items.indices(np.array([i for r in rows for i in r], dtype=np.int64))
        out[str(d)] = {
            NDCG: scored[NDCG],
            "median_popularity": float(np.median(counts[picked])) if picked.size else 0.0,
            f"coverage@{K}": scored[f"coverage@{K}"],
        }
    return out


def dislike_effect(run: NewUsers, weights: Sequence[float] = DISLIKE_WEIGHTS) -> dict[str, Any]:
    """{weight: {"ndcg@10" of the second round, "dislikes" per user}} for one seed."""
    first = [_picks(run.model, given) for given in run.given]
    disliked = [
        [i for i in picks if i not in rel] for picks, rel in zip(first, run.relevant, strict=True)
    ]
    still = [rel - set(picks) for picks, rel in zip(first, run.relevant, strict=True)]
    keep = [bool(rel) for rel in still]
    out: dict[str, Any] = {}
    for w in weights:
        rows = []
        model = run.model
        assert isinstance(model, ImplicitALSModel), "the weight is implicit ALS's"
        saved, model.dislike_weight = model.dislike_weight, w
        try:
            for given, shown, against, kept in zip(run.given, first, disliked, keep, strict=True):
                if kept:
                    rows.append(_padded(_picks(model, given, exclude=shown, disliked=against)))
        finally:
            model.dislike_weight = saved
        scored = ranking_metrics(
            np.array(rows), [s for s, k in zip(still, keep, strict=True) if k], run.catalogue_size
        )
        out[str(w)] = {NDCG: scored[NDCG], "dislikes": float(np.mean([len(d) for d in disliked]))}
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


def evaluate_taste(
    data: ListeningData,
    report_seeds: Sequence[int] = REPORT_SEEDS,
    *,
    trainer: Trainer = train,
    mapping: str = DEFAULT_MAPPING,
) -> dict[str, Any]:
    """Choose on the selection half (``SELECTION_SEED``), report on the other half."""
    selection, report = halves(data)
    tuning = [new_users(selection, s, trainer=trainer, mapping=mapping) for s in SELECTION_SEEDS]
    chosen_table = _mean([discovery_effect(run) for run in tuning])
    weight_table = _mean([dislike_effect(run) for run in tuning])
    runs = [new_users(report, seed, trainer=trainer, mapping=mapping) for seed in report_seeds]
    return {
        "model": DEFAULT_KIND,
        "selection": {
            "seeds": list(SELECTION_SEEDS),
            "discovery": chosen_table,
            "chosen_discovery": choose_discovery(chosen_table),
            "dislike_weight": weight_table,
            "chosen_dislike_weight": choose_weight(weight_table),
        },
        "report": {
            "seeds": list(report_seeds),
            "users_per_seed": [len(run.given) for run in runs],
            "discovery": _mean([discovery_effect(run) for run in runs]),
            "dislike_weight": _mean([dislike_effect(run) for run in runs]),
        },
    }


def format_taste_report(result: dict[str, Any]) -> str:
    """Markdown tables of ``evaluate_taste``'s result."""
    chosen = result["selection"]
    lines = [
        f"model: {result['model']}; chosen on the selection half: "
        f"discovery {chosen['chosen_discovery']}, dislike weight {chosen['chosen_dislike_weight']}",
    ]
    for part in ("selection", "report"):
        block = result[part]
        seeds = block["seeds"]
        for name, title in (("discovery", "discovery"), ("dislike_weight", "not-for-me weight")):
            table = block[name]
            columns = list(next(iter(table.values())))
            lines += [
                "",
                f"{part} half, {title} (seeds {', '.join(str(s) for s in seeds)}):",
                "",
                f"| {title} | " + " | ".join(columns) + " |",
                "|---" * (len(columns) + 1) + "|",
            ]
            lines += [
                f"| {setting} | " + " | ".join(f"{row[c]:.4f}" for c in columns) + " |"
                for setting, row in table.items()
            ]
    return "\n".join(lines)
