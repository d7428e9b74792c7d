"""train-lastfm2k and train-scale-*: our engine against Spark MLlib ALS in local mode.

Each side runs in its own child process (peak memory from os.wait4; the JVM's own peak read
from /proc before it stops). At scale, seconds per iteration: ours = one whole training (BM25
weighting + 15 iterations) / 15; Spark = one fit with few iterations / iterations, the data
cached in Spark beforehand (the fit still includes ALS's own partitioning of the ratings,
which is not subtracted).
"""

from __future__ import annotations

import statistics

from measure import run_child, run_spark_child, summary

OURS_TIMEOUT_S = 900
SPARK_TIMEOUT_S = 1500


def _ratio(project: dict, reference: dict) -> float:
    return reference["median_s"] / project["median_s"]


def train_lastfm2k(quick: bool) -> dict:
    """Whole process (fresh Python: read, map, train) and fit alone (median of several)."""
    whole_runs, fits, spark_fits = (1, 3, 2) if quick else (3, 5, 5)
    ours_args = ["benchmarks/ours_train.py", "--data", "lastfm2k"]
    spark_args = ["benchmarks/spark_als.py", "train", "--data", "lastfm2k"]
    ours_whole = [run_child(ours_args, OURS_TIMEOUT_S).wall_s for _ in range(whole_runs)]
    ours_fit = run_child([*ours_args, "--fits", str(fits)], OURS_TIMEOUT_S)
    spark_whole = [run_spark_child(spark_args, SPARK_TIMEOUT_S).wall_s for _ in range(whole_runs)]
    spark_fit = run_spark_child([*spark_args, "--fits", str(spark_fits)], SPARK_TIMEOUT_S)
    project = {
        "label": "musicrec engine (implicit ALS, 48 factors, 15 iterations, BM25 confidence)",
        **summary(ours_fit.result["fits_s"]),
        "whole_process_median_s": statistics.median(ours_whole),
        "whole_process_runs": whole_runs,
    }
    reference = {
        "label": "Spark MLlib ALS local[2], rank 48, 15 iterations, implicitPrefs, our confidences",
        **summary(spark_fit.result["fits_s"]),
        "whole_process_median_s": statistics.median(spark_whole),
        "whole_process_runs": whole_runs,
    }
    return {
        "case": "train-lastfm2k",
        "project": project,
        "reference": reference,
        "ratio": _ratio(project, reference),
    }


def train_scale(name: str, case: str, spark_iterations: int) -> dict:
    """Seconds per iteration at 64 factors and the peak memory of each side."""
    ours = run_child(
        ["benchmarks/ours_train.py", "--data", name, "--factors", "64", "--iterations", "15"],
        OURS_TIMEOUT_S,
    )
    spark = run_spark_child(
        [
            "benchmarks/spark_als.py",
            "train",
            "--data",
            name,
            "--rank",
            "64",
            "--iterations",
            str(spark_iterations),
            "--fits",
            "1",
            "--driver-memory",
            "6g",
        ],
        SPARK_TIMEOUT_S,
    )
    ours_total = ours.result["first_s"]
    spark_fit = spark.result["fits_s"][0]
    project = {
        "label": "musicrec engine, 64 factors, 15 iterations; s/iteration = training / 15",
        **summary([ours_total / 15]),
        "training_s": ours_total,
        "iterations": 15,
        "peak_rss_mb": ours.peak_rss_mb,
        "users": ours.result["users"],
        "artists": ours.result["artists"],
        "ratings": ours.result["ratings"],
    }
    reference = {
        "label": f"Spark MLlib ALS local[2], rank 64; s/iteration = fit({spark_iterations} "
        f"iterations) / {spark_iterations}",
        **summary([spark_fit / spark_iterations]),
        "fit_s": spark_fit,
        "iterations": spark_iterations,
        "peak_rss_mb": spark.result["jvm_peak_rss_mb"],
        "python_driver_peak_rss_mb": spark.peak_rss_mb,
    }
    return {
        "case": case,
        "project": project,
        "reference": reference,
        "ratio": _ratio(project, reference),
    }
