"""Many small regularised least-squares problems at once, one per row of a CSR matrix.

For row g with stored columns J_g, targets t_j and features f_j (rows of ``features``):

    x_g = (sum_{j in J_g} f_j f_j^T + diag(reg_g))^-1 sum_{j in J_g} t_j f_j

This is the inner step of explicit ALS (users given item factors, and the reverse). Why by
hand: ``implicit`` solves only the implicit-feedback objective, and Spark is a JVM cluster
framework; no well-kept Python library solves the explicit, bias-augmented, weighted-lambda
problem. The fast version avoids a Python loop per row: rows are grouped into buckets of
similar length (powers of two), each bucket is padded to a dense (rows, width, k) block,
the normal equations are formed with one batched matmul and solved with one batched
``np.linalg.solve``. ``solve_rows_reference`` is the obvious per-row loop it is tested against.
"""

from __future__ import annotations

import numpy as np


def solve_rows(
    indptr: np.ndarray,
    indices: np.ndarray,
    targets: np.ndarray,
    features: np.ndarray,
    reg: np.ndarray,
) -> np.ndarray:
    """Solve every row's problem; ``reg`` is (rows, k) diagonal regularisation (> 0).

    ``indices``/``targets`` are the CSR column indices and values (per stored entry);
    ``features`` is (n_columns, k). Returns (rows, k); rows with no entries solve to 0.
    """
    n_rows, k = indptr.size - 1, features.shape[1]
    counts = np.diff(indptr)
    out = np.zeros((n_rows, k), dtype=np.float64)
    # One extra zero feature row / zero target: padding points at it and contributes nothing.
    padded_features = np.vstack([features, np.zeros((1, k))]).astype(np.float64, copy=False)
    padded_indices = np.append(indices, features.shape[0])
    padded_targets = np.append(np.asarray(targets, dtype=np.float64), 0.0)
    nnz = indices.size
    # Bucket b holds rows with 2^(b-1) < count <= 2^b, so padding at most doubles the work.
    bucket = np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64)
    for b in np.unique(bucket[counts > 0]):
        rows = np.flatnonzero((bucket == b) & (counts > 0))
        width = int(counts[rows].max())
        offsets = np.arange(width)
        entry = indptr[rows, None] + offsets[None, :]  # (rows, width) positions in CSR data
        entry = np.where(offsets[None, :] < counts[rows, None], entry, nnz)
        f = padded_features[padded_indices[entry]]  # (rows, width, k)
        t = padded_targets[entry]  # (rows, width)
        # A_g = F_g^T F_g + diag(reg_g);  b_g = F_g^T t_g
        a = np.matmul(f.transpose(0, 2, 1), f)
        a[:, np.arange(k), np.arange(k)] += reg[rows]
        rhs = np.einsum("gwk,gw->gk", f, t)
        out[rows] = np.linalg.solve(a, rhs[..., None])[..., 0]
    return out


def solve_rows_reference(
    indptr: np.ndarray,
    indices: np.ndarray,
    targets: np.ndarray,
    features: np.ndarray,
    reg: np.ndarray,
) -> np.ndarray:
    """The same as :func:`solve_rows`, one row at a time (slow, obviously correct)."""
    n_rows, k = indptr.size - 1, features.shape[1]
    out = np.zeros((n_rows, k))
    for g in range(n_rows):
        cols = indices[indptr[g] : indptr[g + 1]]
        if cols.size == 0:
            continue
        f = features[cols].astype(np.float64)
        t = np.asarray(targets[indptr[g] : indptr[g + 1]], dtype=np.float64)
        out[g] = np.linalg.solve(f.T @ f + np.diag(reg[g]), f.T @ t)
    return out
