"""Child process: the reference, Spark MLlib ALS in local mode (run by the cases).

Spark is configured as our own Spark trainer (``musicrec.engine.spark_als``) configures it, by
calling that module (through ``subjects``), so the two cannot drift: it gets C - 1 as its
ratings with alpha = 1 and implicitPrefs (so its confidence 1 + alpha * r is exactly our C),
regParam rescaled from our per-row lambda to its ALS-WR penalty, one block of users and one of
items per core, and the same checkpoint interval. Modes:

- ``train`` without ``--fits`` or ``--lengths``: the whole process, our Spark trainer's own
  ``fit_on_spark`` (session, weighting, Parquet snapshot, load, fit, collect, assemble);
- ``train --fits N --lengths A B``: the values cached in Spark first, a first fit of
  ``--warm-up`` iterations discarded (0: none), then N fits of ``--iterations`` and one fit of
  each length, each timed alone; ``--quality``: NDCG@10 of the last ``--iterations`` fit on
  the holdout split (``--data lastfm2k-train``);
- ``save``: fit on the shared data and save the model (the seed app's artefact);
- ``request``: the seed app's per-request path: a new session, load the saved model,
  ``recommendForUserSubset`` for one user.

Every run sets SPARK_LOCAL_IP=127.0.0.1 (from measure.child_environment).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import measure
import sources
import subjects


def session(cores: int, driver_memory: str, folder: Path | None = None):  # type: ignore[no-untyped-def]
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName("musicrec-bench")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(cores * 2))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    if folder is not None:  # as our trainer, so ALS's checkpointInterval takes effect
        spark.sparkContext.setCheckpointDir((folder / "checkpoints").resolve().as_uri())
    return spark


def jvm_peak_rss_mb(spark) -> float:  # type: ignore[no-untyped-def]
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    return measure.own_peak_rss_mb(pid)


def write_values(values, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    """Spark's ratings (our trainer's C - 1) as a Parquet file of (user, item, rating)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = folder / "values.parquet"
    table = pa.table(
        {
            "user": pa.array(values.row.astype("int32")),
            "item": pa.array(values.col.astype("int32")),
            "rating": pa.array(values.data.astype("float32")),
        }
    )
    pq.write_table(table, path)
    return path


def factors(frame, rows: int, rank: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A factor DataFrame (id, features) as a dense array (unseen ids: zero vectors)."""
    table = frame.toArrow()
    out = np.zeros((rows, rank))
    out[table.column("id").to_numpy()] = (
        table.column("features").combine_chunks().flatten().to_numpy().reshape(-1, rank)
    )
    return out


def settings_of(options: argparse.Namespace, iterations: int | None = None):  # type: ignore[no-untyped-def]
    return subjects.params(factors=options.rank, iterations=iterations or options.iterations)


def whole(options: argparse.Namespace, folder: Path) -> dict:
    """A fresh process training as ``musicrec train --engine spark`` does, data read first."""
    start = time.perf_counter()
    spark = session(options.cores, options.driver_memory, folder)
    try:
        matrix = sources.rating_matrix(options.data)
        subjects.fit_on_spark(matrix, settings_of(options), spark)
        return {"whole_s": time.perf_counter() - start}
    finally:
        spark.stop()


def fits(options: argparse.Namespace, folder: Path) -> dict:
    spark = session(options.cores, options.driver_memory, folder)
    try:
        matrix = sources.rating_matrix(options.data)
        values = subjects.spark_values(matrix, settings_of(options))
        frame = spark.read.parquet(write_values(values, folder).resolve().as_uri()).cache()
        frame.count()

        configured = subjects.spark_estimator(settings_of(options), values, spark)

        def fit(iterations: int):  # type: ignore[no-untyped-def]
            estimator = configured.copy().setMaxIter(iterations)
            began = time.perf_counter()
            model = estimator.fit(frame)
            return time.perf_counter() - began, model

        if options.warm_up:  # discarded, as our side discards its first training
            fit(options.warm_up)
        timed, model = [], None
        for _ in range(options.fits):
            seconds, model = fit(options.iterations)
            timed.append(seconds)
        lengths = {str(n): fit(n)[0] for n in options.lengths}
        result: dict = {
            "fits_s": timed,
            "lengths_s": lengths,
            "pairs": int(values.nnz),
            "reg_param": configured.getRegParam(),
            "blocks": configured.getNumUserBlocks(),
            "driver_memory": options.driver_memory,
            "jvm_peak_rss_mb": jvm_peak_rss_mb(spark),
        }
        if options.quality and model is not None:
            users, items = matrix.shape
            found = subjects.model_from_factors(
                matrix,
                settings_of(options),
                factors(model.userFactors, users, options.rank),
                factors(model.itemFactors, items, options.rank),
            )
            result["ndcg@10"] = subjects.holdout_ndcg(found, sources.holdout())
        return result
    finally:
        spark.stop()


def save(options: argparse.Namespace, folder: Path) -> dict:
    spark = session(options.cores, options.driver_memory, folder)
    try:
        matrix = sources.rating_matrix("lastfm2k")
        values = subjects.spark_values(matrix, settings_of(options))
        frame = spark.read.parquet(write_values(values, folder).resolve().as_uri())
        model = subjects.spark_estimator(settings_of(options), values, spark).fit(frame)
        model.write().overwrite().save(options.model)
        return {"saved": options.model}
    finally:
        spark.stop()


def request(options: argparse.Namespace) -> dict:
    from pyspark.ml.recommendation import ALSModel

    spark = session(options.cores, options.driver_memory)
    try:
        model = ALSModel.load(options.model)
        users = spark.createDataFrame([(options.user,)], ["user"])
        rows = model.recommendForUserSubset(users, 10).collect()
        return {"recommended": len(rows[0]["recommendations"]) if rows else 0}
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("train", "save", "request"))
    parser.add_argument("--data", choices=sources.NAMES, default="lastfm2k")
    parser.add_argument("--rank", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--fits", type=int, default=0)
    parser.add_argument("--lengths", type=int, nargs="*", default=[])
    parser.add_argument("--warm-up", type=int, default=0, help="iterations; 0: no warm-up")
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--model", default="")
    parser.add_argument("--user", type=int, default=0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="musicrec-spark-") as folder:
        if options.mode == "train" and (options.fits or options.lengths):
            result = fits(options, Path(folder))
        elif options.mode == "train":
            result = whole(options, Path(folder))
        elif options.mode == "save":
            result = save(options, Path(folder))
        else:
            result = request(options)
    measure.report(result)


if __name__ == "__main__":
    main()
