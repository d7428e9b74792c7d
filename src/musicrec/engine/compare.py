"""The comparison that chose the defaults (docs/evaluation.md), reproducible from the CLI:

    .venv/bin/python -m musicrec.engine.compare --dataset ../shared/data/lastfm-2k --seeds 42 7

For every rating mapping and implicit-ALS candidate it runs the holdout and new-users protocols
(implicit ALS and the popularity baseline only, to stay fast) on each seed; then the ratings
protocol per mapping and a small explicit-ALS grid on the original app's mapping. ``--only`` picks
tables: ``implicit``, ``explicit``, ``robustness`` (the new-users ratio of a few variants of
the default on more seeds) and ``curve`` (how many ratings a new user needs,
``evaluate.fold_in_curve``). Prints markdown.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData, load_lastfm
from musicrec.engine.als import settings_for
from musicrec.engine.evaluate import (
    CURVE_KS,
    ORIGINAL_APP_MAPPING,
    fold_in_curve,
    holdout,
    new_users,
    rating_errors,
)
from musicrec.engine.mapping import MAPPINGS
from musicrec.engine.settings import ModelSettings
from musicrec.engine.split import dense_index

# (confidence weighting, factors, alpha, regularization)
IMPLICIT_CANDIDATES: list[tuple[str, int, float, float]] = [
    ("linear", 32, 1.0, 0.01),
    ("log", 64, 3.0, 1.0),
    ("bm25", 32, 0.2, 1.0),
    ("bm25", 48, 0.1, 1.0),
    ("bm25", 48, 0.2, 1.0),
    ("bm25", 48, 0.4, 1.0),
    ("bm25", 64, 0.2, 1.0),
    ("bm25", 96, 0.2, 1.0),
]
# Variants of the default implicit model checked for the new-users ratio over more seeds.
ROBUSTNESS_VARIANTS: dict[str, dict[str, Any]] = {
    "default": {},
    "regularization 5": {"regularization": 5.0},
    "regularization 10": {"regularization": 10.0},
    "iterations 30": {"iterations": 30},
    "bm25 B 0.5": {"bm25_b": 0.5},
    "bm25 B 0.9": {"bm25_b": 0.9},
    "bm25 K1 20": {"bm25_k1": 20.0},
    "alpha 0.15": {"alpha": 0.15},
}
ROBUSTNESS_SEEDS = [42, 7, 123, 1, 2]
# (factors, regularization, user bias damping, item bias damping)
EXPLICIT_CANDIDATES: list[tuple[int, float, float, float]] = [
    (8, 0.05, 10.0, 25.0),
    (8, 0.1, 10.0, 25.0),
    (8, 0.2, 10.0, 25.0),
    (16, 0.5, 10.0, 25.0),
    (16, 1.0, 10.0, 25.0),
    (16, 2.0, 10.0, 25.0),
    (16, 2.0, 5.0, 5.0),
]


def _ratings(data: ListeningData, mapping: str) -> np.ndarray:
    _, user_index = dense_index(data.user_ids)
    return np.asarray(MAPPINGS[mapping](user_index, data.listens), dtype=np.float64)


def implicit_table(data: ListeningData, seeds: list[int]) -> list[str]:
    header = "| mapping | confidence | factors | alpha | reg | " + " | ".join(
        f"NDCG s{s} | P s{s} | cov s{s} | new-users x pop s{s}" for s in seeds
    )
    lines = [header + " |", "|---" * (5 + 4 * len(seeds)) + "|"]
    print("\n".join(lines), flush=True)
    for mapping in MAPPINGS:
        ratings = _ratings(data, mapping)
        for confidence, factors, alpha, reg in IMPLICIT_CANDIDATES:
            cells = [mapping, confidence, str(factors), f"{alpha:g}", f"{reg:g}"]
            for seed in seeds:
                settings: dict[str, ModelSettings] = {
                    "implicit": settings_for(
                        "implicit",
                        confidence=confidence,
                        factors=factors,
                        alpha=alpha,
                        regularization=reg,
                        seed=seed,
                    )
                }
                only = {"implicit-als", "most-popular"}
                held = holdout(data, ratings, seed, settings, only)["implicit-als"]
                new = new_users(data, ratings, seed, settings, only)
                ratio = new["implicit-als"]["ndcg@10"] / new["most-popular"]["ndcg@10"]
                cells += [
                    f"{held['ndcg@10']:.4f}",
                    f"{held['precision@10']:.4f}",
                    f"{held['coverage@10']:.4f}",
                    f"{ratio:.2f}",
                ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def explicit_table(data: ListeningData, seeds: list[int]) -> list[str]:
    lines = [
        "| mapping | factors | reg | user damping | item damping | "
        + " | ".join(f"RMSE s{s} | damped-bias s{s} | global mean s{s}" for s in seeds)
        + " |",
        "|---" * (5 + 3 * len(seeds)) + "|",
    ]
    print("\n".join(lines), flush=True)
    for mapping in MAPPINGS:
        ratings = _ratings(data, mapping)
        candidates = (
            EXPLICIT_CANDIDATES if mapping == ORIGINAL_APP_MAPPING else EXPLICIT_CANDIDATES[3:6]
        )
        for factors, reg, user_damping, item_damping in candidates:
            cells = [mapping, str(factors), f"{reg:g}", f"{user_damping:g}", f"{item_damping:g}"]
            for seed in seeds:
                explicit = settings_for(
                    "explicit",
                    factors=factors,
                    regularization=reg,
                    user_bias_regularization=user_damping,
                    item_bias_regularization=item_damping,
                    seed=seed,
                )
                errors = rating_errors(data, ratings, seed, explicit)
                cells += [
                    f"{errors[name]['rmse']:.4f}"
                    for name in ("explicit-als", "damped-bias", "global-mean")
                ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def robustness_table(data: ListeningData, seeds: list[int]) -> list[str]:
    """New-users NDCG@10 / most-popular's per variant and seed (default mapping), with the
    holdout NDCG/P/coverage of the first two seeds."""
    ratings = _ratings(data, "rank-1-10")
    lines = [
        "| variant | "
        + " | ".join(f"x pop s{s}" for s in seeds)
        + " | mean | "
        + " | ".join(f"NDCG / P / cov s{s}" for s in seeds[:2])
        + " |",
        "|---" * (2 + len(seeds) + min(2, len(seeds))) + "|",
    ]
    print("\n".join(lines), flush=True)
    only = {"implicit-als", "most-popular"}
    for name, overrides in ROBUSTNESS_VARIANTS.items():
        ratios: list[float] = []
        held: list[str] = []
        for seed in seeds:
            variant = {"implicit": settings_for("implicit", seed=seed, **overrides)}
            new = new_users(data, ratings, seed, variant, only)
            ratios.append(new["implicit-als"]["ndcg@10"] / new["most-popular"]["ndcg@10"])
            if len(held) < 2:
                h = holdout(data, ratings, seed, variant, {"implicit-als"})["implicit-als"]
                held.append(
                    f"{h['ndcg@10']:.4f} / {h['precision@10']:.4f} / {h['coverage@10']:.4f}"
                )
        cells = [name, *(f"{r:.2f}" for r in ratios), f"{np.mean(ratios):.2f}", *held]
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
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


TABLES = ("implicit", "explicit", "robustness", "curve")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    parser.add_argument("--only", choices=TABLES, nargs="+", default=list(TABLES))
    args = parser.parse_args(argv)
    data = load_lastfm(args.dataset)
    if "implicit" in args.only:
        print("## Implicit ALS: holdout and new-users\n")
        implicit_table(data, args.seeds)
    if "explicit" in args.only:
        print("\n## Explicit ALS: ratings protocol (RMSE)\n")
        explicit_table(data, args.seeds)
    if "robustness" in args.only:
        print("\n## New-users ratio of variants of the default, more seeds\n")
        robustness_table(data, ROBUSTNESS_SEEDS)
    if "curve" in args.only:
        print("\n## How many ratings are enough\n")
        curve_table(data, args.seeds)


if __name__ == "__main__":
    main()
