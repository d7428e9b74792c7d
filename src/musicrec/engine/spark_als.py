"""ALS trained by Apache Spark MLlib, returned as the embedded engine's model classes.

PySpark is optional (``pip install -e '.[spark]'``) and imported only inside the functions
that need it. The result is an :class:`ImplicitALSModel` or :class:`ExplicitALSModel` built
from the same settings, so serving, fold-in, reasons, similar artists and model versions do
not care which engine trained it.

How the settings map onto ``pyspark.ml.recommendation.ALS``:

- rank = factors, maxIter = iterations, seed = seed (the random start differs: Spark draws
  its own; the tests compare quality, not factors).
- Implicit. The confidence C (BM25, linear or log, times alpha) is computed here by the
  embedded engine's own :func:`confidence_matrix`, before the data reaches Spark. ``implicit``
  solves with c = C for a rated pair (its ``alpha`` is 1: already applied); Spark uses
  c = 1 + alpha * |r| with preference [r > 0]. So Spark gets r = C - 1 with alpha = 1, and
  c agrees exactly. C < 1 (about 7% of the shared data's pairs) cannot be said to Spark, whose
  preference would become 0: those r are raised to a tiny positive value (c = 1, p = 1).
  ``implicit`` penalises every row by a constant lambda; Spark by regParam * n (ALS-WR, n the
  row's number of ratings). regParam = lambda * (users + items) / (2 * nnz) makes the total
  penalty weight, sum over rows of regParam * n, equal to the embedded one, lambda * rows.
- Explicit. Both engines regularise the factors by lambda * n (ALS-WR), so regParam = lambda.
  Spark has no biases: the damped baseline (mu, b_i with item damping, then b_u with user
  damping; Koren 2010) is fitted first and Spark factorises the residuals
  r - mu - b_u - b_i. Then, as the embedded trainer ends, one batched user solve against
  Spark's item factors and the item biases gives each user's [x_u, b_u] jointly: stored user
  vectors are exactly the fold-in of their ratings. The rating-scale layer is fitted on first
  prediction, as for an embedded model.

Data in and out, in bulk: the weighted triples (dense user and item positions, value) are
written as one Parquet file with pyarrow and read by Spark (executors read it in parallel; on
a cluster the work folder must be on storage every worker sees); the factor tables come back
as Arrow through ``DataFrame.toArrow()`` (small: rows x rank). No Python loop per row.

Spark's checkpoint directory is a run folder under ``checkpoint_dir`` and ALS's
``checkpointInterval`` cuts the lineage of long fits; the run folder is removed afterwards.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from musicrec.engine.data import RatingMatrix
from musicrec.engine.explicit_als import ExplicitALSModel, _augment, _regularisation
from musicrec.engine.implicit_als import (
    Bm25Stats,
    ImplicitALSModel,
    bm25_stats,
    confidence_matrix,
)
from musicrec.engine.settings import ExplicitSettings, ImplicitSettings, ModelSettings
from musicrec.engine.solve import solve_rows

INSTALL_HINT = (
    "Training on Spark needs the optional PySpark extra and Java 17: pip install -e '.[spark]'"
)
DEFAULT_MASTER = "local[*]"
DEFAULT_CHECKPOINT_INTERVAL = 5
# Spark's implicit preference is [r > 0]: the least value that still says "rated".
LEAST_POSITIVE = 1e-6


class SparkUnavailable(RuntimeError):
    """PySpark is not installed."""


def spark_available() -> bool:
    """Whether PySpark can be imported (without importing it)."""
    try:
        return importlib.util.find_spec("pyspark") is not None
    except ValueError:  # a stub module without __spec__ (tests hide PySpark that way)
        return False


def require_pyspark() -> None:
    """Raise :class:`SparkUnavailable` with the install command when PySpark is missing."""
    if not spark_available():
        raise SparkUnavailable(INSTALL_HINT)


@dataclass
class SparkRun:
    """A model trained on Spark and the wall-clock seconds of each stage."""

    model: ImplicitALSModel | ExplicitALSModel
    seconds: dict[str, float] = field(default_factory=dict)


class _Stopwatch:
    def __init__(self, seconds: dict[str, float]):
        self.seconds = seconds

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(time.perf_counter() - start, 3)


def spark_session(
    master: str | None = DEFAULT_MASTER,
    *,
    app_name: str = "musicrec-als",
    conf: Mapping[str, str] | None = None,
) -> Any:
    """A SparkSession on ``master`` (None: the one spark-submit chose, else local[*]).

    The JVM binds to SPARK_LOCAL_IP when set; callers on a machine without a routable host
    name set it (the CLI defaults it to 127.0.0.1)."""
    require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
    builder = builder.config("spark.pyspark.python", sys.executable)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def implicit_reg_param(regularization: float, matrix: sp.csr_matrix) -> float:
    """Spark's regParam whose ALS-WR penalty (regParam * n per row) sums to the embedded
    constant penalty over all rows: lambda * (users + items) / (2 * nnz)."""
    rows = matrix.shape[0] + matrix.shape[1]
    return regularization * rows / (2.0 * max(matrix.nnz, 1))


def implicit_spark_ratings(
    ratings: RatingMatrix, settings: ImplicitSettings
) -> tuple[sp.coo_matrix, Bm25Stats | None]:
    """The values Spark gets for implicit ALS, C - 1 (see the module docstring), as COO; and
    the BM25 statistics the model keeps for fold-in."""
    stats = None
    if settings.confidence == "bm25":
        stats = bm25_stats(ratings.matrix, settings.bm25_k1, settings.bm25_b)
    confidence = confidence_matrix(ratings.matrix, settings.confidence, settings.alpha, stats)
    coo = confidence.tocoo()
    coo.data = np.maximum(coo.data - 1.0, LEAST_POSITIVE)
    return coo, stats


@dataclass(frozen=True)
class DampedBaseline:
    """mu and damped biases in dense positions (``baselines.DampedBias`` without id maps)."""

    mu: float
    user_bias: np.ndarray
    item_bias: np.ndarray

    @classmethod
    def fit(cls, matrix: sp.csr_matrix, settings: ExplicitSettings) -> DampedBaseline:
        # b_i = sum_u (r_ui - mu) / (n_i + d_i);  b_u = sum_i (r_ui - mu - b_i) / (n_u + d_u)
        coo = matrix.tocoo()
        r = coo.data.astype(np.float64)
        n_users, n_items = matrix.shape
        mu = float(r.mean())
        item_bias = np.bincount(coo.col, r - mu, n_items) / (
            np.bincount(coo.col, minlength=n_items) + settings.item_bias_regularization
        )
        user_bias = np.bincount(coo.row, r - mu - item_bias[coo.col], n_users) / (
            np.bincount(coo.row, minlength=n_users) + settings.user_bias_regularization
        )
        return cls(mu, user_bias, item_bias)

    def residuals(self, matrix: sp.csr_matrix) -> sp.coo_matrix:
        coo = matrix.tocoo()
        data = coo.data - self.mu - self.user_bias[coo.row] - self.item_bias[coo.col]
        return sp.coo_matrix((data, (coo.row, coo.col)), shape=matrix.shape)


def _write_triples(coo: sp.coo_matrix, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "user": pa.array(coo.row.astype(np.int32)),
            "item": pa.array(coo.col.astype(np.int32)),
            "rating": pa.array(coo.data.astype(np.float32)),
        }
    )
    pq.write_table(table, path)


def _factor_matrix(frame: Any, rows: int, rank: int) -> np.ndarray:
    """A Spark factor DataFrame (id, features) as a dense (rows, rank) array; ids Spark did
    not see (items nobody rated) keep zero vectors, as in the embedded engines."""
    table = frame.toArrow()
    ids = table.column("id").to_numpy()
    features = table.column("features").combine_chunks().flatten().to_numpy()
    out = np.zeros((rows, rank))
    out[ids] = features.reshape(-1, rank)
    return out


def als_estimator(
    settings: ModelSettings,
    values: sp.coo_matrix,
    session: Any,
    checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL,
) -> Any:
    """The ``pyspark.ml.recommendation.ALS`` this module fits ``values`` with (columns user,
    item, rating; see the module docstring for the mapping of the settings): one block of
    users and one of items per task slot of ``session`` (the benchmarks use it too)."""
    from pyspark.ml.recommendation import ALS

    implicit = isinstance(settings, ImplicitSettings)
    blocks = max(1, int(session.sparkContext.defaultParallelism))
    return ALS(
        rank=settings.factors,
        maxIter=settings.iterations,
        regParam=(
            implicit_reg_param(settings.regularization, values.tocsr())
            if implicit
            else settings.regularization
        ),
        implicitPrefs=implicit,
        alpha=1.0,
        userCol="user",
        itemCol="item",
        ratingCol="rating",
        seed=settings.seed,
        numUserBlocks=blocks,
        numItemBlocks=blocks,
        checkpointInterval=checkpoint_interval,
    )


def _fit_factors(
    session: Any,
    coo: sp.coo_matrix,
    settings: ModelSettings,
    run_dir: Path,
    checkpoint_interval: int,
    clock: _Stopwatch,
) -> tuple[np.ndarray, np.ndarray]:
    with clock.stage("snapshot"):
        snapshot = run_dir / "ratings.parquet"
        _write_triples(coo, snapshot)
    with clock.stage("load"):
        frame = session.read.parquet(snapshot.resolve().as_uri())
        frame.count()
    estimator = als_estimator(settings, coo, session, checkpoint_interval)
    with clock.stage("fit"):
        fitted = estimator.fit(frame)
    with clock.stage("collect"):
        users = _factor_matrix(fitted.userFactors, coo.shape[0], settings.factors)
        items = _factor_matrix(fitted.itemFactors, coo.shape[1], settings.factors)
    return users, items


def _explicit_model(
    ratings: RatingMatrix,
    settings: ExplicitSettings,
    baseline: DampedBaseline,
    item_factors: np.ndarray,
) -> ExplicitALSModel:
    """Assemble the explicit model: a last batched user solve of [x_u, b_u] against the fixed
    item factors and biases, as the embedded trainer's last step."""
    k = settings.factors
    by_user = ratings.matrix.astype(np.float64).tocsr()
    targets = by_user.data - baseline.mu - baseline.item_bias[by_user.indices]
    reg = _regularisation(
        np.diff(by_user.indptr), k, settings.regularization, settings.user_bias_regularization
    )
    solved = solve_rows(by_user.indptr, by_user.indices, targets, _augment(item_factors), reg)
    return ExplicitALSModel(
        users=ratings.users,
        items=ratings.items,
        user_factors=solved[:, :k].copy(),
        item_factors=np.ascontiguousarray(item_factors),
        train=ratings.matrix,
        settings=settings,
        global_mean=baseline.mu,
        user_bias=solved[:, k].copy(),
        item_bias=baseline.item_bias.copy(),
        kind="explicit-als",
    )


def fit_on_spark(
    ratings: RatingMatrix,
    settings: ModelSettings,
    *,
    master: str | None = DEFAULT_MASTER,
    checkpoint_dir: Path | None = None,
    checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL,
    conf: Mapping[str, str] | None = None,
    session: Any = None,
) -> SparkRun:
    """Train on Spark and time each stage (session, weighting, snapshot, load, fit, collect,
    assemble). ``session``: an existing SparkSession to use (not stopped); otherwise one is
    started on ``master`` with ``conf`` and stopped at the end. ``checkpoint_dir`` holds the
    run's snapshot and Spark checkpoints (default: a temporary folder)."""
    require_pyspark()
    if ratings.matrix.nnz == 0:
        raise ValueError("no ratings to train on")
    if checkpoint_interval < 1:
        raise ValueError("checkpoint_interval must be at least 1")
    seconds: dict[str, float] = {}
    clock = _Stopwatch(seconds)
    start = time.perf_counter()
    base = Path(checkpoint_dir) if checkpoint_dir is not None else _temporary_base()
    run_dir = base / f"run-{uuid.uuid4().hex[:12]}"
    run_dir.mkdir(parents=True)
    own_session = session is None
    try:
        with clock.stage("session"):
            if own_session:
                session = spark_session(master, conf=conf)
            session.sparkContext.setCheckpointDir((run_dir / "checkpoints").resolve().as_uri())
        model: ImplicitALSModel | ExplicitALSModel
        if isinstance(settings, ImplicitSettings):
            with clock.stage("weighting"):
                values, stats = implicit_spark_ratings(ratings, settings)
            users, items = _fit_factors(
                session, values, settings, run_dir, checkpoint_interval, clock
            )
            with clock.stage("assemble"):
                model = _implicit_model(ratings, settings, users, items, stats)
        else:
            with clock.stage("weighting"):
                baseline = DampedBaseline.fit(ratings.matrix, settings)
                values = baseline.residuals(ratings.matrix)
            _, items = _fit_factors(session, values, settings, run_dir, checkpoint_interval, clock)
            with clock.stage("assemble"):
                model = _explicit_model(ratings, settings, baseline, items)
    finally:
        if own_session and session is not None:
            session.stop()
        shutil.rmtree(run_dir if checkpoint_dir is not None else base, ignore_errors=True)
    seconds["total"] = round(time.perf_counter() - start, 3)
    return SparkRun(model, seconds)


def train_on_spark(
    ratings: RatingMatrix,
    settings: ModelSettings,
    *,
    master: str | None = DEFAULT_MASTER,
    checkpoint_dir: Path | None = None,
    checkpoint_interval: int = DEFAULT_CHECKPOINT_INTERVAL,
    conf: Mapping[str, str] | None = None,
    session: Any = None,
) -> ImplicitALSModel | ExplicitALSModel:
    """``als.train`` on Spark: the same settings, the same model classes (see
    :func:`fit_on_spark` for the options)."""
    return fit_on_spark(
        ratings,
        settings,
        master=master,
        checkpoint_dir=checkpoint_dir,
        checkpoint_interval=checkpoint_interval,
        conf=conf,
        session=session,
    ).model


def _implicit_model(
    ratings: RatingMatrix,
    settings: ImplicitSettings,
    users: np.ndarray,
    items: np.ndarray,
    stats: Bm25Stats | None,
) -> ImplicitALSModel:
    model = ImplicitALSModel(
        users=ratings.users,
        items=ratings.items,
        user_factors=users,
        item_factors=items,
        train=ratings.matrix,
        settings=settings,
        kind="implicit-als",
    )
    model.bm25 = stats  # the fold-in weights a new user's row as training did
    return model


def _temporary_base() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp(prefix="musicrec-spark-"))
