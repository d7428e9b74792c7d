"""Discover vs familiar: a popularity penalty applied to a model's scores before ranking.

With the user's setting d in [0, 1] (0 = familiar, 1 = discover), each candidate's score s_i
becomes

    s'_i = s_i / max_j |s_j|  -  d * log1p(n_i) / log1p(max_j n_j)

where n_i is the number of training users who rated artist i. Both terms lie in [-1, 1]
whatever the model's score scale, so d means the same for every model kind; at d = 1 the most
rated artist loses as much as the best candidate's whole score. d = 0 leaves the order as the
model ranks it. ``docs/evaluation.md`` ("Discover vs familiar") shows each setting's effect on
NDCG@10, the median popularity and the catalogue coverage of the picks, and why the default
is ``DEFAULT_DISCOVERY`` (chosen on the selection split, reported on the report seeds).
"""

from __future__ import annotations

import numpy as np

DISCOVERY_MIN, DISCOVERY_MAX = 0.0, 1.0
# Chosen by ``musicrec evaluate-taste`` on the selection split: the largest setting whose
# NDCG@10 stays within ``DEFAULT_TOLERANCE`` of the best setting's (docs/evaluation.md).
DEFAULT_DISCOVERY = 0.25
DEFAULT_TOLERANCE = 0.05


def check_discovery(value: float) -> float:
    """``value`` as a float in [0, 1], or ValueError."""
    number = float(value)
    if not DISCOVERY_MIN <= number <= DISCOVERY_MAX or np.isnan(number):
        raise ValueError("discovery must be from 0 to 1")
    return number


def popularity_share(counts: np.ndarray) -> np.ndarray:
    """log1p(n_i) / log1p(max_j n_j): each item's popularity in [0, 1]."""
    popularity = np.log1p(np.asarray(counts, dtype=np.float64))
    top = float(popularity.max()) if popularity.size else 0.0
    return popularity / top if top > 0 else np.zeros_like(popularity)


def score_scale(scores: np.ndarray) -> float:
    """max_j |s_j| over the finite scores (1 when there is none or it is 0)."""
    finite = np.isfinite(scores)
    scale = float(np.max(np.abs(scores[finite]))) if finite.any() else 0.0
    return scale if scale > 0 else 1.0


def penalise(scores: np.ndarray, shares: np.ndarray, discovery: float, scale: float) -> np.ndarray:
    """s_i / scale - d * share_i (module docstring), in the scores' own float type;
    ``discovery`` 0 returns the scores unchanged. Non-finite scores stay as they are."""
    if discovery == 0.0 or scores.size == 0:
        return scores
    out = scores / scores.dtype.type(scale) - scores.dtype.type(discovery) * shares
    finite = np.isfinite(scores)
    out[~finite] = scores[~finite]
    return out


def popularity_penalised(scores: np.ndarray, counts: np.ndarray, discovery: float) -> np.ndarray:
    """The scores with the popularity penalty of setting ``discovery`` (module docstring);
    non-finite scores (banned items) stay as they are."""
    d = check_discovery(discovery)
    scores = np.asarray(scores, dtype=np.float64)
    return penalise(scores, popularity_share(counts), d, score_scale(scores))
