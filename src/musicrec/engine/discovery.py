"""Discover vs familiar: a popularity penalty applied to a model's scores before ranking.

With the user's setting d in [0, 1] (0 = familiar, 1 = discover), each candidate's score s_i
becomes

    s'_i = s_i / max_j |s_j|  -  d * max(share_i, share_f),   share_i = log1p(n_i) / log1p(N)

where n_i is the number of training users who rated artist i. Both terms lie in [-1, 1]
whatever the model's score scale, so d means the same for every model kind; at d = 1 the most
rated artist loses as much as the best candidate's whole score. d = 0 leaves the order as the
model ranks it.

At any d > 0 an artist rated by fewer than

    f = min(THIN_LISTENERS, sqrt(max_j n_j))

users is left out: its score rests on next to no evidence, and without the floor the penalty
ranked such artists first at the far end of the slider (one-listener obscurities). So the far
end is "lesser known but loved by people like you": artists with a few listeners at least,
that the user's vector scores well. ``THIN_LISTENERS`` is the least evidence a pick should
rest on; on data too small for it (an app's first days, whose most-rated artist has fewer than
THIN_LISTENERS^2 listeners) the floor falls with the square root of the top count, so there is
always something to recommend. It was fixed before measuring, not tuned.

``docs/evaluation.md`` ("Discover vs familiar") shows each setting's NDCG@10, the median
listeners of the picks and the share of picks with fewer than 5 listeners, and why the default
is ``DEFAULT_DISCOVERY`` (chosen on the selection group, reported on the report group).
"""

from __future__ import annotations

import numpy as np

DISCOVERY_MIN, DISCOVERY_MAX = 0.0, 1.0
# Chosen by ``musicrec evaluate-taste`` on the selection group: the largest setting whose
# NDCG@10 stays within ``DEFAULT_TOLERANCE`` of the best setting's (docs/evaluation.md).
DEFAULT_DISCOVERY = 0.25
DEFAULT_TOLERANCE = 0.05
# Picks rated by fewer users than this are "thin": left out at any discovery above 0.
THIN_LISTENERS = 5


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


def evidence_floor(counts: np.ndarray) -> float:
    """f = min(THIN_LISTENERS, sqrt(max_j n_j)): fewer ratings than this, and an item is
    left out at any discovery above 0 (module docstring)."""
    top = float(np.max(counts)) if np.size(counts) else 0.0
    return min(float(THIN_LISTENERS), float(np.sqrt(top)))


def penalty_weights(counts: np.ndarray, floor: float | None = None) -> np.ndarray:
    """What ``penalise`` subtracts d times: the popularity share, and +inf (the item is left
    out at any d > 0) below the evidence ``floor`` (default: ``evidence_floor``)."""
    counts = np.asarray(counts, dtype=np.float64)
    weights = popularity_share(counts)
    weights[counts < (evidence_floor(counts) if floor is None else floor)] = np.inf
    return weights


def score_scale(scores: np.ndarray) -> float:
    """max_j |s_j| over the finite scores (1 when there is none or it is 0)."""
    finite = np.isfinite(scores)
    scale = float(np.max(np.abs(scores[finite]))) if finite.any() else 0.0
    return scale if scale > 0 else 1.0


def penalise(scores: np.ndarray, shares: np.ndarray, discovery: float, scale: float) -> np.ndarray:
    """s_i / scale - d * share_i (module docstring), in the scores' own float type;
    ``discovery`` 0 returns the scores unchanged. Non-finite scores stay as they are, and an
    infinite share (below the evidence floor) makes the score -inf."""
    if discovery == 0.0 or scores.size == 0:
        return scores
    out = scores / scores.dtype.type(scale) - scores.dtype.type(discovery) * shares
    finite = np.isfinite(scores)
    out[~finite] = scores[~finite]
    return out


def popularity_penalised(
    scores: np.ndarray, counts: np.ndarray, discovery: float, floor: float | None = None
) -> np.ndarray:
    """The scores with the popularity penalty of setting ``discovery`` (module docstring);
    non-finite scores (banned items) stay as they are."""
    d = check_discovery(discovery)
    scores = np.asarray(scores, dtype=np.float64)
    return penalise(scores, penalty_weights(counts, floor), d, score_scale(scores))
