"""The comparisons that choose defaults (docs/evaluation.md), on the validation split only:

    .venv/bin/python -m musicrec.engine.compare --dataset ../shared/data/lastfm-2k

Selection never looks at a report seed: every table but ``curve`` scores on
``validation.split_listens`` (seed ``SELECTION_SEED``), and the ``explicit`` table on the
ratings protocol's split with that seed. ``--only`` picks tables: ``implicit`` (rating mapping
x implicit-ALS candidates), ``baselines`` (the item-kNN and EASE grids), ``explicit`` (a small
explicit-ALS grid by RMSE) and ``curve`` (how many ratings a new user needs, on the report
seeds: a description, it chooses nothing). Prints markdown.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData, load_lastfm
from musicrec.engine.als import settings_for, train
from musicrec.engine.ease import EASEModel
from musicrec.engine.evaluate import CURVE_KS, ORIGINAL_APP_MAPPING, fold_in_curve, rating_errors
from musicrec.engine.knn import ItemKNNModel
from musicrec.engine.mapping import MAPPINGS
from musicrec.engine.validation import REPORT_SEEDS, SELECTION_SEED, split_listens

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
    for name, parameters, build in builders:
        lines.append(_row([name, parameters, *_scores(split.score(build()))]))
    return lines


def explicit_table(data: ListeningData) -> list[str]:
    lines = _header(
        ["mapping", "factors", "reg", "user damping", "item damping", "RMSE", "damped-bias"]
    )
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


def curve_table(data: ListeningData, seeds: list[int], ks: tuple[int, ...] = CURVE_KS) -> list[str]:
    """``fold_in_curve`` per seed: NDCG@10 and P@10 of the default model and popularity."""
    results = [fold_in_curve(data, seed, ks) for seed in seeds]
    lines = [
        "users per seed: " + ", ".join(f"s{r['seed']}: {r['users']}" for r in results),
        "",
        "| k | "
        + " | ".join(f"NDCG s{s} | P s{s} | pop NDCG s{s} | pop P s{s} | x pop s{s}" for s in seeds)
        + " | mean NDCG | mean x pop |",
        "|---" * (3 + 5 * len(seeds)) + "|",
    ]
    for k in results[0]["curve"]:
        cells, ndcgs, ratios = [str(k)], [], []
        for result in results:
            model, pop = result["curve"][k]["implicit-als"], result["curve"][k]["most-popular"]
            ratio = model["ndcg@10"] / pop["ndcg@10"]
            ndcgs.append(model["ndcg@10"])
            ratios.append(ratio)
            cells += [
                f"{model['ndcg@10']:.4f}",
                f"{model['precision@10']:.4f}",
                f"{pop['ndcg@10']:.4f}",
                f"{pop['precision@10']:.4f}",
                f"{ratio:.2f}",
            ]
        cells += [f"{np.mean(ndcgs):.4f}", f"{np.mean(ratios):.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    print("\n".join(lines), flush=True)
    return lines


TABLES = ("implicit", "baselines", "explicit", "curve")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--only", choices=TABLES, nargs="+", default=list(TABLES))
    args = parser.parse_args(argv)
    data = load_lastfm(args.dataset)
    if "implicit" in args.only:
        print("## Implicit ALS on the validation split\n")
        implicit_table(data)
    if "baselines" in args.only:
        print("\n## Item-kNN and EASE on the validation split\n")
        baselines_table(data)
    if "explicit" in args.only:
        print(f"\n## Explicit ALS: ratings protocol, selection seed {SELECTION_SEED}\n")
        explicit_table(data)
    if "curve" in args.only:
        print("\n## How many ratings are enough (report seeds)\n")
        curve_table(data, list(REPORT_SEEDS))


if __name__ == "__main__":
    main()
