"""Child process: the reference, Spark MLlib ALS in local mode (run by the cases).

Spark gets the confidences our engine trains on (BM25-weighted, times alpha, computed by our
engine) as its "ratings", with implicitPrefs=True and alpha=1, so both solve the same problem;
rank, iterations and regParam are ours. Modes:

- ``train --fits 0``: the whole process: start a session, read the data, fit, collect factors;
- ``train --fits N``: the data cached in Spark first, then N fits timed alone (also used with
  few iterations at scale, seconds per iteration = fit seconds / iterations);
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

import measure

SEED = 42


def session(cores: int, driver_memory: str):  # type: ignore[no-untyped-def]
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
    return spark


def jvm_peak_rss_mb(spark) -> float:  # type: ignore[no-untyped-def]
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    return measure.own_peak_rss_mb(pid)


def write_confidences(name: str, folder: Path) -> tuple[Path, int]:
    """Our engine's training confidences of a data set as a Parquet file of (user, item, c)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import sources
    import subjects

    matrix = sources.rating_matrix(name)
    confidence = subjects.training_confidence(matrix, subjects.params()).tocoo()
    path = folder / f"{name}.parquet"
    table = pa.table(
        {
            "user": pa.array(confidence.row.astype("int32")),
            "item": pa.array(confidence.col.astype("int32")),
            "confidence": pa.array(confidence.data.astype("float32")),
        }
    )
    pq.write_table(table, path)
    return path, int(confidence.nnz)


def estimator(rank: int, iterations: int):  # type: ignore[no-untyped-def]
    from pyspark.ml.recommendation import ALS

    return ALS(
        rank=rank,
        maxIter=iterations,
        regParam=1.0,
        implicitPrefs=True,
        alpha=1.0,
        userCol="user",
        itemCol="item",
        ratingCol="confidence",
        seed=SEED,
    )


def train(options: argparse.Namespace, folder: Path) -> dict:
    start = time.perf_counter()
    spark = session(options.cores, options.driver_memory)
    try:
        path, pairs = write_confidences(options.data, folder)
        frame = spark.read.parquet(str(path))
        als = estimator(options.rank, options.iterations)
        if options.fits == 0:
            model = als.fit(frame)
            model.userFactors.collect()
            model.itemFactors.collect()
            return {"whole_s": time.perf_counter() - start, "pairs": pairs}
        frame = frame.cache()
        frame.count()
        fits = []
        for _ in range(options.fits):
            began = time.perf_counter()
            als.fit(frame)
            fits.append(time.perf_counter() - began)
        return {"fits_s": fits, "pairs": pairs, "jvm_peak_rss_mb": jvm_peak_rss_mb(spark)}
    finally:
        spark.stop()


def save(options: argparse.Namespace, folder: Path) -> dict:
    spark = session(options.cores, options.driver_memory)
    try:
        path, _pairs = write_confidences("lastfm2k", folder)
        model = estimator(options.rank, options.iterations).fit(spark.read.parquet(str(path)))
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
    parser.add_argument("--data", default="lastfm2k")
    parser.add_argument("--rank", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--fits", type=int, default=0)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--model", default="")
    parser.add_argument("--user", type=int, default=0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="musicrec-spark-") as folder:
        if options.mode == "train":
            result = train(options, Path(folder))
        elif options.mode == "save":
            result = save(options, Path(folder))
        else:
            result = request(options)
    measure.report(result)


if __name__ == "__main__":
    main()
