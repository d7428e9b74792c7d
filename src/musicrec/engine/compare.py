"""The comparisons that choose defaults (docs/evaluation.md), on the selection group only:

    .venv/bin/python -m musicrec.engine.compare --dataset ../shared/data/lastfm-2k

Selection never reads a reported user: every table reads the rows of the selection group of
users (``split.user_groups``) alone; the ranking tables score on ``validation.split_listens``
(seed ``SELECTION_SEED``), the ``explicit`` table on the ratings protocol's split of the
selection group with that seed. ``--only`` picks tables: ``implicit`` (rating mapping x
implicit-ALS candidates), ``baselines`` (the item-kNN and EASE grids, each model's best by
NDCG@10 named) and ``explicit`` (a small explicit-ALS grid by RMSE). Prints markdown. How many
ratings a new user needs is a report, not a choice: ``musicrec evaluate --curve``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from musicrec.datasets import ListeningData, load_lastfm
from musicrec.engine.als import settings_for, train
from musicrec.engine.ease import EASEModel
from musicrec.engine.evaluate import ORIGINAL_APP_MAPPING, rating_errors
from musicrec.engine.knn import ItemKNNModel
from musicrec.engine.mapping import MAPPINGS
from musicrec.engine.validation import SELECTION_SEED, selection_data, split_listens

# (confidence weighting, factors, alpha, regularization)
IMPLICIT_CANDIDATES: list[tuple[str, int, float, float]] = [
    ("linear", 32, 1.0, 0.01),
    ("log", 64, 3.0, 1.0),
    ("bm25", 32, 0.2, 1.0),
    ("bm25", 48, 0.2, 1.0),
    ("bm25", 48, 0.4, 1.0),
    ("bm25", 64, 0.2, 1.0),
]
# item-kNN: (neighbours, K1, B); EASE: (lambda, min_support)
KNN_CANDIDATES: list[tuple[int, float, float]] = [
    (50, 1.2, 0.75),
    (100, 1.2, 0.75),
    (200, 1.2, 0.75),
    (400, 1.2, 0.75),
    (100, 3.0, 0.75),
    (100, 0.5, 0.75),
    (100, 1.2, 0.3),
    (100, 1.2, 1.0),
    (400, 0.5, 0.75),
    (400, 1.2, 0.3),
    (400, 0.5, 0.3),
    (800, 0.5, 0.3),
    (400, 0.2, 0.3),
]
EASE_CANDIDATES: list[tuple[float, int]] = [
    (10.0, 3),
    (20.0, 3),
    (50.0, 3),
    (200.0, 3),
    (500.0, 3),
    (1000.0, 3),
]
# (factors, regularization, user bias damping, item bias damping)
EXPLICIT_CANDIDATES: list[tuple[int, float, float, float]] = [
    (8, 0.2, 10.0, 25.0),
    (16, 0.5, 10.0, 25.0),
    (16, 2.0, 10.0, 25.0),
    (16, 2.0, 5.0, 5.0),
]


def _row(cells: Sequence[str]) -> str:
    line = "| " + " | ".join(cells) + " |"
    print(line, flush=True)
    return line


def _header(columns: Sequence[str]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|---" * len(columns) + "|"]
    print("\n".join(lines), flush=True)
    return lines


def _scores(values: dict[str, float]) -> list[str]:
    return [f"{values[m]:.4f}" for m in ("ndcg@10", "precision@10", "coverage@10")]


def implicit_table(data: ListeningData) -> list[str]:
    lines = _header(["mapping", "confidence", "factors", "alpha", "reg", "NDCG", "P", "cov"])
    for mapping in MAPPINGS:
        split = split_listens(data, mapping=mapping)
        for confidence, factors, alpha, reg in IMPLICIT_CANDIDATES:
            settings = settings_for(
                "implicit",
                confidence=confidence,
                factors=factors,
                alpha=alpha,
                regularization=reg,
                seed=SELECTION_SEED,
            )
            scores = split.score(train(split.train, settings))
            cells = [mapping, confidence, str(factors), f"{alpha:g}", f"{reg:g}"]
            lines.append(_row(cells + _scores(scores)))
    return lines


def baselines_table(data: ListeningData) -> list[str]:
    split = split_listens(data)
    lines = _header(["model", "parameters", "NDCG", "P", "cov"])
    builders: list[tuple[str, str, Callable[[], Any]]] = []
    for k, k1, b in KNN_CANDIDATES:
        builders.append(
            (
                "item-knn-bm25",
                f"K={k} K1={k1:g} B={b:g}",
                partial(ItemKNNModel, split.train, neighbours=k, k1=k1, b=b),
            )
        )
    for lam, support in EASE_CANDIDATES:
        builders.append(
            (
                "ease",
                f"lambda={lam:g} min_support={support}",
                partial(EASEModel, split.train, lam=lam, min_support=support),
            )
        )
    best: dict[str, tuple[float, str]] = {}
    for name, parameters, build in builders:
        scores = split.score(build())
        lines.append(_row([name, parameters, *_scores(scores)]))
        if scores["ndcg@10"] > best.get(name, (-1.0, ""))[0]:
            best[name] = (scores["ndcg@10"], parameters)
    for name, (ndcg, parameters) in best.items():
        lines.append(f"best {name} by NDCG@10: {parameters} ({ndcg:.4f})")
        print(lines[-1], flush=True)
    return lines


def explicit_table(data: ListeningData) -> list[str]:
    lines = _header(
        ["mapping", "factors", "reg", "user damping", "item damping", "RMSE", "damped-bias"]
    )
    data = selection_data(data)
    for mapping in ("rank-1-10", ORIGINAL_APP_MAPPING):
        for factors, reg, user_damping, item_damping in EXPLICIT_CANDIDATES:
            explicit = settings_for(
                "explicit",
                factors=factors,
                regularization=reg,
                user_bias_regularization=user_damping,
                item_bias_regularization=item_damping,
            )
            errors = rating_errors(data, SELECTION_SEED, explicit, mapping=mapping)  # type: ignore[arg-type]
            cells = [mapping, str(factors), f"{reg:g}", f"{user_damping:g}", f"{item_damping:g}"]
            lines.append(
                _row(cells + [f"{errors[m]['rmse']:.4f}" for m in ("explicit-als", "damped-bias")])
            )
    return lines


TABLES = ("implicit", "baselines", "explicit")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--only", choices=TABLES, nargs="+", default=list(TABLES))
    args = parser.parse_args(argv)
    data = load_lastfm(args.dataset)
    if "implicit" in args.only:
        print("## Implicit ALS on the selection group's validation split\n")
        implicit_table(data)
    if "baselines" in args.only:
        print("\n## Item-kNN and EASE on the selection group's validation split\n")
        baselines_table(data)
    if "explicit" in args.only:
        print(f"\n## Explicit ALS: ratings protocol, selection group, seed {SELECTION_SEED}\n")
        explicit_table(data)


if __name__ == "__main__":
    main()
