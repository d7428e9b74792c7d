"""Turn listen counts into 1..10 ratings, one user at a time.

Three candidates, all per user (a heavy listener's counts mean what a light one's mean):
the original app's min-max onto 5..10, min-max of log1p(listens) onto 1..10, and percentile
rank onto 1..10 (the default).

The importer and the offline evaluation both call :func:`listens_to_ratings`, so the mapping
is part of what the evaluation measures. The evaluation maps each user's *training* listens
only, and rates a held-out listen by where it falls among that user's training listens
(:func:`rate_against_training`): a held-out pair never shapes its own rating or anyone else's.
"""

from __future__ import annotations

import numpy as np


def _per_user_range(user_index: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each row's user minimum, each row's user max - min)."""
    n_users = int(user_index.max()) + 1 if user_index.size else 0
    low = np.full(n_users, np.inf)
    high = np.full(n_users, -np.inf)
    np.minimum.at(low, user_index, values)
    np.maximum.at(high, user_index, values)
    return low[user_index], (high - low)[user_index]


def minmax_5_10(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """The original app's mapping: per-user min-max scaling of listens onto 5..10.

    rating = 5 when the user's min equals their max, else ceil((x - min) / (max - min) * 5) + 5.
    """
    listens = np.asarray(listens, dtype=np.float64)
    low, span = _per_user_range(np.asarray(user_index, dtype=np.int64), listens)
    scaled = np.divide(listens - low, span, out=np.zeros_like(listens), where=span > 0)
    ratings = np.ceil(scaled * 5) + 5
    return ratings.astype(np.int16)


def rank_1_10(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """Per-user percentile rank of the listen count onto 1..10 (ties share their mean rank).

    rating = ceil(10 * mean_rank / n_u), rank 1 = fewest listens: each user's artists spread
    evenly over the whole scale, whatever the shape of their listening distribution.
    """
    user_index = np.asarray(user_index, dtype=np.int64)
    listens = np.asarray(listens, dtype=np.float64)
    if user_index.size == 0:
        return np.empty(0, dtype=np.int16)
    order = np.lexsort((listens, user_index))
    counts = np.bincount(user_index)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sorted_users, sorted_listens = user_index[order], listens[order]
    position = np.arange(order.size) - starts[sorted_users]  # 0-based rank within the user
    # Runs of equal (user, listens) get the mean of their first and last 1-based rank.
    new_run = np.ones(order.size, dtype=bool)
    new_run[1:] = (sorted_users[1:] != sorted_users[:-1]) | (
        sorted_listens[1:] != sorted_listens[:-1]
    )
    run = np.cumsum(new_run) - 1
    first = position[new_run]
    last = np.append(position[np.flatnonzero(new_run)[1:] - 1], position[-1])
    mean_rank = (first[run] + last[run]) / 2 + 1
    ratings = np.empty(order.size, dtype=np.int16)
    ratings[order] = np.clip(np.ceil(10 * mean_rank / counts[sorted_users] - 1e-9), 1, 10)
    return ratings


def log_minmax_1_10(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """Per-user min-max of log1p(listens) onto 1..10, rounded; 10 when min equals max."""
    logs = np.log1p(np.asarray(listens, dtype=np.float64))
    low, span = _per_user_range(np.asarray(user_index, dtype=np.int64), logs)
    scaled = np.divide(logs - low, span, out=np.ones_like(logs), where=span > 0)
    return np.rint(1 + 9 * scaled).astype(np.int16)


def _user_training_stats(
    train_user_index: np.ndarray, train_values: np.ndarray, n_users: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per user: (training row count, min, max) of ``train_values`` (inf / -inf when none)."""
    counts = np.bincount(train_user_index, minlength=n_users)
    low = np.full(n_users, np.inf)
    high = np.full(n_users, -np.inf)
    np.minimum.at(low, train_user_index, train_values)
    np.maximum.at(high, train_user_index, train_values)
    return counts, low, high


def _rank_against_training(
    train_user_index: np.ndarray, train_listens: np.ndarray, user_index: np.ndarray, x: np.ndarray
) -> np.ndarray:
    """rank-1-10 of a listen count x inserted among its user's n training listens:
    mean_rank = #below + (#equal + 2) / 2 in a list of n + 1;
    rating = ceil(10 mean_rank / (n + 1))."""
    order = np.lexsort((train_listens, train_user_index))
    keys_user, keys_listens = train_user_index[order], train_listens[order]
    # Positions in the sorted (user, listens) training rows, found per query by binary search
    # on a combined key (user first, then listens).
    scale = float(max(keys_listens.max(initial=0.0), x.max(initial=0.0))) + 1.0
    keys = keys_user * scale + keys_listens
    query = user_index * scale + x
    below = np.searchsorted(keys, query, side="left")
    not_above = np.searchsorted(keys, query, side="right")
    user_start = np.searchsorted(keys, user_index * scale, side="left")
    n = np.bincount(train_user_index, minlength=int(user_index.max(initial=-1)) + 1)[user_index]
    mean_rank = (below - user_start) + (not_above - below + 2) / 2
    return np.clip(np.ceil(10 * mean_rank / (n + 1) - 1e-9), 1, 10)


def rate_against_training(
    mapping: str,
    train_user_index: np.ndarray,
    train_listens: np.ndarray,
    user_index: np.ndarray,
    listens: np.ndarray,
) -> np.ndarray:
    """Ratings of held-out listens by each user's mapping fitted on their training listens only.

    ``rank-1-10``: the percentile of the held-out count among the user's training counts;
    the two min-max mappings: the user's training min and max, the result clipped to the scale.
    Users with no training listens have no scale: their rows are nan.
    """
    train_user_index = np.asarray(train_user_index, dtype=np.int64)
    train_listens = np.asarray(train_listens, dtype=np.float64)
    user_index = np.asarray(user_index, dtype=np.int64)
    x = np.asarray(listens, dtype=np.float64)
    n_users = int(max(train_user_index.max(initial=-1), user_index.max(initial=-1))) + 1
    if mapping == "rank-1-10":
        ratings = _rank_against_training(train_user_index, train_listens, user_index, x)
        counts = np.bincount(train_user_index, minlength=n_users)[user_index]
        return np.where(counts > 0, ratings, np.nan)
    if mapping not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r}; use one of {tuple(MAPPINGS)}")
    log = mapping == "log-minmax-1-10"
    values = np.log1p(train_listens) if log else train_listens
    queries = np.log1p(x) if log else x
    counts, low, high = _user_training_stats(train_user_index, values, n_users)
    low, span = low[user_index], (high - low)[user_index]
    with np.errstate(invalid="ignore"):
        scaled = np.where(span > 0, (queries - low) / np.where(span > 0, span, 1), 0.0)
    scaled = np.clip(scaled, 0.0, 1.0)
    if log:  # min == max maps to 10: anything at or above the user's level is a 10
        ratings = np.where(span > 0, np.rint(1 + 9 * scaled), np.where(queries >= low, 10, 1))
    else:  # min == max maps to 5; a count above it is the user's new top
        ratings = np.where(span > 0, np.ceil(scaled * 5) + 5, np.where(queries > low, 10, 5))
    return np.where(counts[user_index] > 0, ratings.astype(np.float64), np.nan)


MAPPINGS = {"minmax-5-10": minmax_5_10, "rank-1-10": rank_1_10, "log-minmax-1-10": log_minmax_1_10}


DEFAULT_MAPPING = "rank-1-10"


def listens_to_ratings(user_index: np.ndarray, listens: np.ndarray) -> np.ndarray:
    """The mapping the import uses: ``user_index[i]`` is a dense user number for ``listens[i]``.

    The per-user rank mapping, chosen by the offline evaluation (docs/evaluation.md): it ties
    or beats the original app's min-max on both seeds for the default model, and its ratings
    use the whole 1..10 scale instead of being 78% sixes.
    """
    return rank_1_10(user_index, listens)
