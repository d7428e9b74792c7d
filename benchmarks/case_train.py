"""train-lastfm2k and train-scale-*: our engine against Spark MLlib ALS in local mode.

Each side runs in its own child process (peak memory from os.wait4; the JVM's own peak read
from /proc before it stops) and is measured the same way:

- both discard a first fit (``--warm-up``) before any timing, in the same process;
- fit alone: fits of the same iterations on data already in memory (cached in Spark);
- seconds per iteration (scale): (fit of B iterations - fit of A iterations) / (B - A) on
  each side, so one-off set-up (our weighting, Spark's partitioning into blocks) cancels;
- quality: NDCG@10 of the timed fits' model on the shared data's holdout split, for our two
  solvers (conjugate gradient, the default; exact) and Spark (exact).
"""

from __future__ import annotations

import dataclasses
import statistics

import sources
import subjects
import synthetic
from measure import run_child, run_spark_child, summary

OURS_TIMEOUT_S = 1500  # the exact solver at full scale takes minutes
SPARK_TIMEOUT_S = 1500
SOLVERS = ("cg", "exact")
SOLVER_LABELS = {"cg": "conjugate gradient (default)", "exact": "exact solver"}
# (A, B) iterations of the two fits whose difference gives seconds per iteration.
SCALE_LENGTHS = {"train-scale-tenth": (1, 4), "train-scale-full": (1, 3)}
QUICK_LENGTHS = (1, 3)
SCALE_FACTORS = 64


def _ratio(project: dict, reference: dict) -> float:
    return reference["median_s"] / project["median_s"]


def _per_iteration(lengths_s: dict[str, float], lengths: tuple[int, int]) -> float:
    short, long = lengths
    return (lengths_s[str(long)] - lengths_s[str(short)]) / (long - short)


def train_lastfm2k(quick: bool) -> dict:
    """Fit alone (median of several, after a discarded first fit) with the NDCG@10 each fit
    reaches on the holdout split; whole process (fresh Python: read, map, train)."""
    whole_runs, fits = (1, 1) if quick else (3, 5)
    data = ["--data", "lastfm2k-train"]
    ours_fit = run_child(
        [
            "benchmarks/ours_train.py",
            *data,
            "--fits",
            str(fits),
            "--warm-up",
            "15",
            "--solvers",
            *SOLVERS,
            "--quality",
        ],
        OURS_TIMEOUT_S,
    )
    spark_fit = run_spark_child(
        [
            "benchmarks/spark_als.py",
            "train",
            *data,
            "--fits",
            str(fits),
            "--warm-up",
            "15",
            "--quality",
        ],
        SPARK_TIMEOUT_S,
    )
    ours_whole = [
        run_child(["benchmarks/ours_train.py", "--data", "lastfm2k"], OURS_TIMEOUT_S).wall_s
        for _ in range(whole_runs)
    ]
    spark_whole = [
        run_spark_child(
            ["benchmarks/spark_als.py", "train", "--data", "lastfm2k"], SPARK_TIMEOUT_S
        ).wall_s
        for _ in range(whole_runs)
    ]
    solvers = ours_fit.result["solvers"]
    project = {
        "label": "musicrec engine (implicit ALS, 48 factors, 15 iterations, BM25 confidence)",
        **summary(solvers["cg"]["fits_s"]),
        "ndcg@10": solvers["cg"]["ndcg@10"],
        "exact": {**summary(solvers["exact"]["fits_s"]), "ndcg@10": solvers["exact"]["ndcg@10"]},
        "whole_process_median_s": statistics.median(ours_whole),
        "whole_process_runs": whole_runs,
        "users": ours_fit.result["users"],
        "ratings": ours_fit.result["ratings"],
        "holdout_seed": sources.HOLDOUT_SEED,
        "settings": dataclasses.asdict(subjects.params()),
    }
    reference = {
        "label": "Spark MLlib ALS local[2], configured by musicrec.engine.spark_als",
        **summary(spark_fit.result["fits_s"]),
        "ndcg@10": spark_fit.result["ndcg@10"],
        "reg_param": spark_fit.result["reg_param"],
        "blocks": spark_fit.result["blocks"],
        "whole_process_median_s": statistics.median(spark_whole),
        "whole_process_runs": whole_runs,
    }
    return {
        "case": "train-lastfm2k",
        "project": project,
        "reference": reference,
        "ratio": _ratio(project, reference),
        "ratio_exact": _ratio(project["exact"], reference),
    }


def train_scale(name: str, case: str, quick: bool) -> dict:
    """Seconds per iteration at 64 factors, both solvers; our 15-iteration training and the
    peak memory of each side."""
    lengths = QUICK_LENGTHS if quick else SCALE_LENGTHS[case]
    spans = [str(n) for n in lengths]
    ours = run_child(
        [
            "benchmarks/ours_train.py",
            "--data",
            name,
            "--factors",
            str(SCALE_FACTORS),
            "--fits",
            "1",
            "--lengths",
            *spans,
            "--warm-up",
            "1",
            "--solvers",
            *SOLVERS,
            "--fit-solvers",
            "cg",  # the 15-iteration training of the target: the default solver's
        ],
        OURS_TIMEOUT_S,
    )
    spark = run_spark_child(
        [
            "benchmarks/spark_als.py",
            "train",
            "--data",
            name,
            "--rank",
            str(SCALE_FACTORS),
            "--lengths",
            *spans,
            "--warm-up",
            "1",
            "--driver-memory",
            "6g",
        ],
        SPARK_TIMEOUT_S,
    )
    solvers = ours.result["solvers"]
    per_iteration = {s: _per_iteration(solvers[s]["lengths_s"], lengths) for s in SOLVERS}
    project = {
        "label": f"musicrec engine, {SCALE_FACTORS} factors",
        "factors": SCALE_FACTORS,
        "genres": synthetic.GENRES,
        **summary([per_iteration["cg"]]),
        "exact": {**summary([per_iteration["exact"]]), "lengths_s": solvers["exact"]["lengths_s"]},
        "lengths_s": solvers["cg"]["lengths_s"],
        "training_s": solvers["cg"]["fits_s"][0],
        "iterations": subjects.params().iterations,
        "peak_rss_mb": ours.peak_rss_mb,
        "users": ours.result["users"],
        "artists": ours.result["artists"],
        "ratings": ours.result["ratings"],
    }
    reference = {
        "label": f"Spark MLlib ALS local[2], rank {SCALE_FACTORS}, configured by engine.spark_als",
        **summary([_per_iteration(spark.result["lengths_s"], lengths)]),
        "lengths_s": spark.result["lengths_s"],
        "peak_rss_mb": spark.result["jvm_peak_rss_mb"],
        "python_driver_peak_rss_mb": spark.peak_rss_mb,
        "reg_param": spark.result["reg_param"],
        "blocks": spark.result["blocks"],
        "driver_memory": spark.result["driver_memory"],
    }
    return {
        "case": case,
        "lengths": list(lengths),
        "project": project,
        "reference": reference,
        "ratio": _ratio(project, reference),
        "ratio_exact": _ratio(project["exact"], reference),
    }
