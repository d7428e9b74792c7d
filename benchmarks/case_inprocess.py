"""serve-inprocess and serve-inprocess-292k (see serve_inprocess.py for what is timed)."""

from __future__ import annotations

from measure import run_child, summary

TIMEOUT_S = 900


def serve_inprocess(case: str, data: str, factors: int, iterations: int) -> dict:
    """ratio and median_s/p99_s: fold-in + top 10 of a new user with 10 ratings; the known
    user's top 10 beside it."""
    child = run_child(
        [
            "benchmarks/serve_inprocess.py",
            "--data",
            data,
            "--factors",
            str(factors),
            "--iterations",
            str(iterations),
        ],
        TIMEOUT_S,
    )
    figures = child.result
    shape = f"{figures['artists']:,} artists, {factors} factors"
    project = {
        "label": f"recommend_for_ratings (fold-in, top 10, 3 reasons), {shape}, 1 BLAS thread",
        **summary(figures["ours_new_s"]),
        "known_user": summary(figures["ours_known_s"]),
        "parts": {name: summary(values) for name, values in figures["parts_s"].items()},
        "artists": figures["artists"],
        "factors": factors,
        "iterations": iterations,
    }
    reference = {
        "label": "implicit recommend(recalculate_user=True), same factors, 1 BLAS thread",
        **summary(figures["reference_new_s"]),
        "known_user": summary(figures["reference_known_s"]),
    }
    if iterations < 15:
        project["note"] = f"factors trained with {iterations} iterations (timing only)"
    return {
        "case": case,
        "project": project,
        "reference": reference,
        "ratio": reference["median_s"] / project["median_s"],
    }
