"""Turn listen counts into 1..10 ratings, one user at a time.

The importer and the offline evaluation both call :func:`listens_to_ratings`, so the mapping
is part of what the evaluation measures.
"""

from __future__ import annotations

import numpy as np


def minmax_5_10(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """The seed's mapping: per-user min-max scaling of listens onto 5..10.

    rating = 5 when the user's min equals their max, else ceil((x - min) / (max - min) * 5) + 5.
    """
    user_index = np.asarray(user_index)
    listens = np.asarray(listens, dtype=np.float64)
    n_users = int(user_index.max()) + 1 if user_index.size else 0
    low = np.full(n_users, np.inf)
    high = np.full(n_users, -np.inf)
    np.minimum.at(low, user_index, listens)
    np.maximum.at(high, user_index, listens)
    span = (high - low)[user_index]
    scaled = np.divide(listens - low[user_index], span, out=np.zeros_like(listens), where=span > 0)
    ratings = np.ceil(scaled * 5) + 5
    return ratings.astype(np.int16)


def listens_to_ratings(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """The mapping the import uses: ``user_index[i]`` is a dense user number for ``listens[i]``."""
    return minmax_5_10(user_index, listens)
