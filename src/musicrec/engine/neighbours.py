"""Similar artists: factor cosine shrunk by how many listeners two artists share.

The cosine of two artists' factor vectors says how alike their listeners' tastes look to the
model, but an artist with a handful of listeners gets a noisy vector that can point anywhere,
including straight at a well-known artist's. So the cosine is shrunk by the support s, the
number of users who rated both (Koren 2008, "Factorization meets the neighborhood", eq. 2):

    sim(i, j) = cos(y_i, y_j) * s_ij / (s_ij + shrinkage)

and a pair sharing fewer than ``min_shared`` listeners is never listed. The defaults were
chosen on a choosing split of held-out users and reported on another (docs/evaluation.md,
"Similar artists"; ``musicrec evaluate-similar``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from musicrec.engine.ranking import top_n


@dataclass(frozen=True)
class Neighbourhood:
    """How similarities are shrunk: ``shrinkage`` 0 and ``min_shared`` 0 is the plain cosine."""

    shrinkage: float = 100.0
    min_shared: int = 1


PLAIN_COSINE = Neighbourhood(shrinkage=0.0, min_shared=0)
DEFAULT_NEIGHBOURHOOD = Neighbourhood()


def unit_rows(factors: np.ndarray) -> np.ndarray:
    """Each row divided by its norm (zero rows stay zero)."""
    norms = np.linalg.norm(factors, axis=1, keepdims=True)
    return np.divide(factors, norms, out=np.zeros_like(factors), where=norms > 0)


def shared_listeners(by_user: sp.csr_matrix, by_item: sp.csc_matrix, i: int) -> np.ndarray:
    """For every item j, how many users rated both item i and j (s_ij; s_ii is i's raters)."""
    users = by_item.indices[by_item.indptr[i] : by_item.indptr[i + 1]]
    if users.size == 0:
        return np.zeros(by_user.shape[1], dtype=np.int64)
    starts, ends = by_user.indptr[users], by_user.indptr[users + 1]
    items = np.concatenate([by_user.indices[s:e] for s, e in zip(starts, ends, strict=True)])
    return np.bincount(items, minlength=by_user.shape[1])


def shrunk(cosine: np.ndarray, shared: np.ndarray, setting: Neighbourhood) -> np.ndarray:
    """cos * s / (s + shrinkage), and -inf where s < min_shared."""
    weight = (
        shared / (shared + setting.shrinkage) if setting.shrinkage > 0 else np.ones(len(shared))
    )
    scores = np.where(shared >= setting.min_shared, cosine * weight, -np.inf)
    return np.asarray(scores, dtype=np.float64)


def most_similar(
    cosine: np.ndarray, shared: np.ndarray, i: int, n: int, setting: Neighbourhood
) -> np.ndarray:
    """Indices of the n items most similar to item i under ``setting``, best first."""
    return top_n(shrunk(cosine, shared, setting), n, np.array([i]))
