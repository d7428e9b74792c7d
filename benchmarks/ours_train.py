"""Child process: our engine trains on a named data set (run by case_train.py).

The whole process is one measure (read the data, map ratings, train once); ``first_s`` is
that first training alone. ``--fits N`` trains N more times and reports each one's seconds
("fit alone": confidence weighting plus implicit ALS, what ``musicrec train`` does between
reading the ratings and publishing).
"""

from __future__ import annotations

import argparse
import time

import measure
import sources
import subjects


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", choices=sources.NAMES, required=True)
    parser.add_argument("--factors", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--fits", type=int, default=0)
    options = parser.parse_args()
    matrix = sources.rating_matrix(options.data)
    settings = subjects.params(factors=options.factors, iterations=options.iterations)
    start = time.perf_counter()
    subjects.train_model(matrix, settings)
    first = time.perf_counter() - start
    fits = []
    for _ in range(options.fits):
        start = time.perf_counter()
        subjects.train_model(matrix, settings)
        fits.append(time.perf_counter() - start)
    users, artists, ratings = subjects.matrix_shape(matrix)
    measure.report(
        {
            "first_s": first,
            "fits_s": fits,
            "users": users,
            "artists": artists,
            "ratings": ratings,
            "peak_rss_mb": measure.own_peak_rss_mb(),
        }
    )


if __name__ == "__main__":
    main()
