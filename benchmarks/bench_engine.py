"""Engine benchmark: training time of the default model, fold-in + top-10 latency.

Ours: ``musicrec.engine`` (implicit ALS via the ``implicit`` library, our own fold-in that also
returns the per-artist score decomposition). Reference for the fold-in: the library's own
``recommend(userid, row, N=10, recalculate_user=True)`` on the same model and confidences.
The data is the shared Last.fm set mapped with the import's ``listens_to_ratings``; a fold-in
user is a real user's 10 most-listened artists. Run:
`.venv/bin/python benchmarks/bench_engine.py` (STARTER_DATA overrides the data folder).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section  # noqa: E402

from musicrec.datasets import load_lastfm  # noqa: E402
from musicrec.engine.als import settings_for, train  # noqa: E402
from musicrec.engine.data import RatingMatrix  # noqa: E402
from musicrec.engine.mapping import listens_to_ratings  # noqa: E402
from musicrec.engine.split import dense_index  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("STARTER_DATA") or REPO.parent / "shared" / "data" / "lastfm-2k")
N_USERS = 1000
N_GIVEN = 10


def fold_in_inputs(data, ratings: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:  # type: ignore[no-untyped-def]
    """For up to 1,000 users (cycled if fewer): their 10 most-listened artists and ratings."""
    users, index = dense_index(data.user_ids)
    order = np.lexsort((-data.listens, index))
    out = []
    for u in range(users.size):
        rows = order[index[order] == u][:N_GIVEN]
        if rows.size == N_GIVEN:
            out.append((data.item_ids[rows], ratings[rows]))
    return [out[i % len(out)] for i in range(N_USERS)]


def median_ms(function, inputs) -> float:  # type: ignore[no-untyped-def]
    for args in inputs[:20]:  # warm-up
        function(*args)
    times = []
    for args in inputs:
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    data = load_lastfm(DATA)
    _, user_index = dense_index(data.user_ids)
    ratings = listens_to_ratings(user_index, data.listens).astype(np.float64)
    matrix = RatingMatrix.from_arrays(
        data.user_ids, data.item_ids, ratings, catalogue=data.artist_ids
    )
    settings = settings_for()
    start = time.perf_counter()
    model = train(matrix, settings)
    train_s = time.perf_counter() - start
    inputs = fold_in_inputs(data, ratings)

    def ours(ids: np.ndarray, values: np.ndarray) -> None:
        model.recommend_for_ratings(ids, values, n=10, explain=3)

    def ours_plain(ids: np.ndarray, values: np.ndarray) -> None:
        model.recommend_for_ratings(ids, values, n=10, explain=0)

    # Reference: the library's model with the same factors, given the same confidences.
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(1, "blas"):
        library = AlternatingLeastSquares(
            factors=settings.factors, regularization=settings.regularization, num_threads=1
        )
    library.user_factors = model.user_factors.astype(np.float32)
    library.item_factors = model.item_factors.astype(np.float32)
    n_items = len(model.items)

    def reference(ids: np.ndarray, values: np.ndarray) -> None:
        cols = model.items.indices(ids)
        confidence = model.confidence(cols, values)
        row = sp.csr_matrix((confidence, (np.zeros(cols.size, int), cols)), shape=(1, n_items))
        library.recommend(0, row, N=10, filter_already_liked_items=True, recalculate_user=True)

    with threadpool_limits(1, "blas"):
        ours_ms, reference_ms = median_ms(ours, inputs), median_ms(reference, inputs)
        plain_ms = median_ms(ours_plain, inputs)

    table = "\n".join(
        [
            "| measure | ours | reference | target |",
            "|---|---|---|---|",
            f"| train default model ({settings.kind} ALS, {settings.factors} factors, "
            f"{settings.iterations} iterations) | {train_s:.2f} s | - | < 5 s |",
            f"| fold-in + top-10 of a new user with {N_GIVEN} ratings, median of {N_USERS} "
            f"| {ours_ms:.2f} ms with `because`, {plain_ms:.2f} ms without | {reference_ms:.2f} ms "
            "(implicit `recommend(recalculate_user=True)`, no explanation) | < 5 ms |",
        ]
    )
    body = (
        f"`{DATA}`: {len(model.users):,} users, {n_items:,} artists, {matrix.matrix.nnz:,} "
        "ratings from the import's mapping. In-process; BLAS limited to one thread.\n\n" + table
    )
    print(table)
    write_section("Engine", body)


if __name__ == "__main__":
    main()
