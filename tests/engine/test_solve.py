"""The batched per-row solver against the one-row-at-a-time reference."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from musicrec.engine.solve import solve_rows, solve_rows_reference


def test_fast_solver_matches_reference_on_uneven_rows(rng: np.random.Generator) -> None:
    # rows of every length 0..40, so several power-of-two buckets and an empty row occur
    lengths = np.arange(41)
    rows = np.repeat(np.arange(lengths.size), lengths)
    cols = np.concatenate([rng.choice(60, size=n, replace=False) for n in lengths])
    matrix = sp.csr_matrix((rng.normal(size=rows.size), (rows, cols)), shape=(lengths.size, 60))
    features = rng.normal(size=(60, 5))
    reg = rng.random((lengths.size, 5)) + 0.05
    args = (matrix.indptr, matrix.indices, matrix.data, features, reg)
    fast, slow = solve_rows(*args), solve_rows_reference(*args)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)
    assert np.all(fast[0] == 0)  # the empty row


def test_solver_recovers_exact_least_squares_solution(rng: np.random.Generator) -> None:
    features = rng.normal(size=(30, 3))
    truth = np.array([1.0, -2.0, 0.5])
    targets = features @ truth  # noiseless
    indptr, indices = np.array([0, 30]), np.arange(30)
    solved = solve_rows(indptr, indices, targets, features, np.full((1, 3), 1e-10))
    np.testing.assert_allclose(solved[0], truth, atol=1e-6)
