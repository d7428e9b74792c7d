"""The comparison that chose the defaults (docs/evaluation.md), reproducible from the CLI:

    .venv/bin/python -m musicrec.engine.compare --dataset ../shared/data/lastfm-2k --seeds 42 7

For every rating mapping and implicit-ALS candidate it runs the holdout and new-users protocols
(implicit ALS and the popularity baseline only, to stay fast) on each seed; then the ratings
protocol per mapping and a small explicit-ALS grid on the seed's mapping. Prints markdown.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from musicrec.datasets import ListeningData, load_lastfm
from musicrec.engine.als import make_params
from musicrec.engine.evaluate import holdout, new_users, rating_errors
from musicrec.engine.mapping import MAPPINGS
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
                params: dict[str, dict[str, Any]] = {
                    "implicit": make_params(
                        "implicit",
                        confidence=confidence,
                        factors=factors,
                        alpha=alpha,
                        regularization=reg,
                        seed=seed,
                    )
                }
                only = {"implicit-als", "most-popular"}
                held = holdout(data, ratings, seed, params, only)["implicit-als"]
                new = new_users(data, ratings, seed, params, only)
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
        candidates = EXPLICIT_CANDIDATES if mapping == "minmax-5-10" else EXPLICIT_CANDIDATES[3:6]
        for factors, reg, user_damping, item_damping in candidates:
            cells = [mapping, str(factors), f"{reg:g}", f"{user_damping:g}", f"{item_damping:g}"]
            for seed in seeds:
                params = make_params(
                    "explicit",
                    factors=factors,
                    regularization=reg,
                    user_bias_regularization=user_damping,
                    item_bias_regularization=item_damping,
                    seed=seed,
                )
                errors = rating_errors(data, ratings, seed, params)
                cells += [
                    f"{errors[name]['rmse']:.4f}"
                    for name in ("explicit-als", "damped-bias", "global-mean")
                ]
            lines.append("| " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7])
    args = parser.parse_args(argv)
    data = load_lastfm(args.dataset)
    print("## Implicit ALS: holdout and new-users\n")
    implicit_table(data, args.seeds)
    print("\n## Explicit ALS: ratings protocol (RMSE)\n")
    explicit_table(data, args.seeds)


if __name__ == "__main__":
    main()
