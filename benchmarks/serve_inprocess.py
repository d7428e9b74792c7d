"""Child process: fold-in + top 10 and known-user top 10 in process, ours against implicit's.

Ours: ``recommend_for_ratings`` (fold-in from 10 ratings, top 10, three reasons each: what a
request runs) and ``recommend`` for a user in the model. Reference: the implicit library's
``recommend(userid, row, N=10, recalculate_user=True)`` on the same factors and confidences
(for a known user, without recalculating). BLAS is limited to one thread for both
(threadpoolctl), as one request runs on one core. Inputs: 1,000 users drawn (seeded) from those
with at least 10 ratings; a new user is 10 of a real user's ratings.

Parts of a new user's request, on the same users: the float32 product of every item vector with
the folded-in vector (what choosing streams), the engine's ``top_n`` over those scores with 10
items banned (as a new user's 10 artists are), and, for comparison, a partial sort of every score
(``np.argpartition``, how the top n was chosen before).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

import measure
import sources
import subjects

WARM_UP = 20


def timings(function: Callable[..., object], inputs: list[tuple]) -> list[float]:
    for arguments in inputs[:WARM_UP]:
        function(*arguments)
    times = []
    for arguments in inputs:
        start = time.perf_counter()
        function(*arguments)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", choices=sources.NAMES, required=True)
    parser.add_argument("--factors", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--users", type=int, default=1000)
    options = parser.parse_args()
    from implicit.cpu.als import AlternatingLeastSquares

    matrix = sources.rating_matrix(options.data)
    settings = subjects.params(factors=options.factors, iterations=options.iterations)
    model = subjects.train_model(matrix, settings)
    rng = np.random.default_rng(7)
    chosen = rng.choice(subjects.users_with_ratings(matrix, 10), options.users)
    new_users, known_users = [], []
    for position in chosen:
        user_id, artists, ratings = subjects.rated_by(matrix, int(position))
        keep = rng.choice(artists.size, 10, replace=False)
        new_users.append((artists[keep], ratings[keep]))
        known_users.append((user_id,))
    with threadpool_limits(1, "blas"):
        library = AlternatingLeastSquares(
            factors=options.factors, regularization=settings.regularization, num_threads=1
        )
        library.user_factors, library.item_factors = subjects.factors(model)
        known_rows = [subjects.known_user_row(model, user_id) for (user_id,) in known_users]

        def reference_new(artists: np.ndarray, ratings: np.ndarray) -> None:
            row = subjects.confidence_row(model, artists, ratings)
            library.recommend(0, row, N=10, filter_already_liked_items=True, recalculate_user=True)

        def reference_known(index: int, row: object) -> None:
            library.recommend(index, row, N=10, filter_already_liked_items=True)

        def ours_new(artists: np.ndarray, ratings: np.ndarray) -> None:
            subjects.recommend_new_user(model, artists, ratings)

        def ours_known(user_id: int) -> None:
            subjects.recommend_known_user(model, user_id)

        items = np.ascontiguousarray(subjects.factors(model)[1], dtype=np.float32)
        vectors = [
            subjects.fold_in_vector(model, artists, ratings).astype(np.float32)
            for artists, ratings in new_users
        ]
        scores = [(items @ vector,) for vector in vectors]
        banned = np.arange(10, dtype=np.int64)

        def product(vector: np.ndarray) -> None:
            items @ vector

        def choose(values: np.ndarray) -> None:
            subjects.choose_top(values, 10, banned)

        def partial_sort(values: np.ndarray) -> None:
            np.argpartition(-values, 9)[:10]

        result = {
            "parts_s": {
                "product": timings(product, [(vector,) for vector in vectors]),
                "top_n": timings(choose, scores),
                "partial_sort": timings(partial_sort, scores),
            },
            "ours_new_s": timings(ours_new, new_users),
            "reference_new_s": timings(reference_new, new_users),
            "ours_known_s": timings(ours_known, known_users),
            "reference_known_s": timings(reference_known, known_rows),
        }
    users, artists, ratings = subjects.matrix_shape(matrix)
    measure.report(result | {"users": users, "artists": artists, "ratings": ratings})


if __name__ == "__main__":
    main()
