"""train-e2e: ``musicrec train`` on the Last.fm-360K shape, PostgreSQL to a published version.

Set-up (not timed, bounded): the synthetic full shape (``synthetic.py``) is loaded into a
fresh, migrated PostgreSQL database with COPY (``pg_load.py``). Then, each in a fresh
process: ``musicrec train --factors 64`` as an operator runs it (read every trainable rating,
build the matrix, weight, 15 iterations, publish a version), and beside it the solver alone
(``ours_train.py``: the same weighting and 15 iterations on the matrix already in memory).
Full ``make bench`` only.
"""

from __future__ import annotations

import tempfile
import time

import pg_load
import postgres
import subjects
import synthetic
from measure import run_child

SCALE = 1.0
DATA = "lastfm360k-full"
FACTORS = 64
TRAIN_TIMEOUT_S = 1800
SOLVER_TIMEOUT_S = 900


def train_e2e(quick: bool, scale: float = SCALE, data_name: str = DATA) -> dict:
    """End to end and solver alone, seconds and peak memory; the loading's seconds beside."""
    data = synthetic.load(scale)
    ratings = subjects.ratings_from_listens(data.user_ids, data.plays)
    with postgres.temporary_postgres_database() as url:
        engine = subjects.make_engine(url)
        try:
            subjects.migrate.upgrade(engine)
        finally:
            engine.dispose()
        start = time.perf_counter()
        loading = pg_load.load_listening(url, data, ratings)
        loading["total"] = time.perf_counter() - start
        with tempfile.TemporaryDirectory(prefix="musicrec-train-e2e-") as instance:
            command = run_child(
                ["benchmarks/ours_train_command.py", "--factors", str(FACTORS)],
                TRAIN_TIMEOUT_S,
                MUSICREC_DATABASE_URL=url,
                MUSICREC_INSTANCE_DIR=instance,
                MUSICREC_MODEL_DIR=f"{instance}/models",
            )
    solver = run_child(
        ["benchmarks/ours_train.py", "--data", data_name, "--factors", str(FACTORS)],
        SOLVER_TIMEOUT_S,
    )
    project = {
        "label": f"musicrec train --factors {FACTORS}: PostgreSQL to a published version",
        "median_s": command.result["wall_s"],
        "p99_s": command.result["wall_s"],
        "runs": 1,
        "read_and_train_s": command.result["read_and_train_s"],
        "peak_rss_mb": command.peak_rss_mb,
        "ratings": command.result["ratings"],
        "loading_s": loading,
        "factors": FACTORS,
    }
    reference = {
        "label": "the solver alone: weighting + 15 iterations, the matrix already in memory",
        "median_s": solver.result["first_s"],
        "p99_s": solver.result["first_s"],
        "runs": 1,
        "peak_rss_mb": solver.peak_rss_mb,
        "ratings": solver.result["ratings"],
    }
    return {
        "case": "train-e2e",
        "project": project,
        "reference": reference,
        "ratio": None,  # no reference to be faster than: the solver is part of the command
    }
