"""Child process: our engine trains on a named data set (run by case_train.py).

Without ``--fits`` or ``--lengths`` it is the whole process (read the data, map ratings,
train once; ``first_s`` is that training alone). Otherwise, as the Spark child does: a first
training of ``--warm-up`` iterations is discarded (0: none); then, for each solver of
``--solvers`` (``cg``: the library's default conjugate gradient, what the engine trains with;
``exact``: its exact solver), ``--fits`` trainings of ``--iterations`` (by the solvers of
``--fit-solvers``, default all) and one training of each of ``--lengths`` iterations are
timed. A training is what ``musicrec train`` does between reading the ratings and
publishing: confidence weighting plus implicit ALS. ``--quality``: NDCG@10 of the last
``--iterations`` training on the holdout split (``--data lastfm2k-train``).
"""

from __future__ import annotations

import argparse
import time

import measure
import sources
import subjects

SOLVERS = {"cg": True, "exact": False}


def timed_training(matrix, settings, use_cg: bool):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    model = subjects.train_model(matrix, settings, use_cg=use_cg)
    return time.perf_counter() - start, model


def solver_figures(matrix, options: argparse.Namespace, solver: str) -> dict:  # type: ignore[no-untyped-def]
    """Timed trainings of one solver, after the warm-up."""
    settings = subjects.params(factors=options.factors, iterations=options.iterations)
    use_cg = SOLVERS[solver]
    fits, model = [], None
    for _ in range(options.fits if solver in (options.fit_solvers or options.solvers) else 0):
        seconds, model = timed_training(matrix, settings, use_cg)
        fits.append(seconds)
    lengths = {}
    for iterations in options.lengths:
        seconds, _ = timed_training(
            matrix, subjects.params(**_lengthened(options, iterations)), use_cg
        )
        lengths[str(iterations)] = seconds
    out: dict = {"fits_s": fits, "lengths_s": lengths}
    if options.quality and model is not None:
        out["ndcg@10"] = subjects.holdout_ndcg(model, sources.holdout())
    return out


def _lengthened(options: argparse.Namespace, iterations: int) -> dict:
    return {"factors": options.factors, "iterations": iterations}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", choices=sources.NAMES, required=True)
    parser.add_argument("--factors", type=int, default=48)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--fits", type=int, default=0)
    parser.add_argument("--lengths", type=int, nargs="*", default=[])
    parser.add_argument("--warm-up", type=int, default=0, help="iterations; 0: no warm-up")
    parser.add_argument("--solvers", nargs="+", choices=SOLVERS, default=["cg"])
    parser.add_argument(
        "--fit-solvers", nargs="*", choices=SOLVERS, help="those --fits apply to (default: all)"
    )
    parser.add_argument("--quality", action="store_true")
    options = parser.parse_args()
    matrix = sources.rating_matrix(options.data)
    users, artists, ratings = subjects.matrix_shape(matrix)
    result: dict = {"users": users, "artists": artists, "ratings": ratings}
    if not options.fits and not options.lengths:
        settings = subjects.params(factors=options.factors, iterations=options.iterations)
        result["first_s"], _ = timed_training(matrix, settings, use_cg=True)
    else:
        if options.warm_up:  # discarded, as the Spark child discards its first fit
            warm_up = subjects.params(**_lengthened(options, options.warm_up))
            subjects.train_model(matrix, warm_up, use_cg=SOLVERS[options.solvers[0]])
        result["solvers"] = {
            name: solver_figures(matrix, options, name) for name in options.solvers
        }
    result["peak_rss_mb"] = measure.own_peak_rss_mb()
    measure.report(result)


if __name__ == "__main__":
    main()
