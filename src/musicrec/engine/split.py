"""Seeded splits: users into a selection and a report group, and train/test splits of
(user, item) rows for the evaluation protocols.

Row splits return boolean masks over the input rows, so callers keep one copy of the data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def dense_index(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique ids, the dense 0..n-1 position of each input id)."""
    unique, inverse = np.unique(np.asarray(ids), return_inverse=True)
    return unique, inverse


GROUP_SEED = 0  # the one draw of users into the selection and report groups
SELECTION_SHARE = 0.5


def user_order(user_ids: np.ndarray, seed: int = GROUP_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique user ids, each one's position 0..n-1 in a seeded random order of the
    users): every grouping of whole users is cut from this one order."""
    users = np.unique(np.asarray(user_ids))
    position = np.empty(users.size, dtype=np.int64)
    position[np.random.default_rng(seed).permutation(users.size)] = np.arange(users.size)
    return users, position


@dataclass(frozen=True)
class UserGroups:
    """Whole users, disjoint and covering: ``selection`` chooses settings and defaults,
    ``report`` is the only group reported on (sorted user ids)."""

    selection: np.ndarray
    report: np.ndarray
    seed: int

    def selection_rows(self, user_ids: np.ndarray) -> np.ndarray:
        return np.isin(user_ids, self.selection)

    def report_rows(self, user_ids: np.ndarray) -> np.ndarray:
        return np.isin(user_ids, self.report)

    def describe(self) -> dict[str, int]:
        """Sizes and seed, for reports."""
        return {
            "seed": self.seed,
            "selection_users": int(self.selection.size),
            "report_users": int(self.report.size),
        }


def user_groups(
    user_ids: np.ndarray, *, seed: int = GROUP_SEED, share: float = SELECTION_SHARE
) -> UserGroups:
    """Split the users once: the first floor(share * n) of ``user_order`` select, the rest
    report. The same users and seed always give the same groups."""
    if not 0.0 < share < 1.0:
        raise ValueError("share must be between 0 and 1")
    users, position = user_order(user_ids, seed)
    chosen = position < int(share * users.size)
    return UserGroups(selection=users[chosen], report=users[~chosen], seed=seed)


def _rank_within_user(user_index: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each row among its user's rows when sorted by ``keys`` (0 = smallest)."""
    order = np.lexsort((keys, user_index))
    counts = np.bincount(user_index)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size) - np.repeat(starts, counts)
    return rank


def holdout_split(
    user_ids: np.ndarray, *, fraction: float = 0.2, min_items: int = 5, seed: int = 42
) -> np.ndarray:
    """Test mask: for each user with >= ``min_items`` rows, round(fraction * n) rows (>= 1)
    chosen uniformly at random; other users keep all their rows in training."""
    _, user_index = dense_index(user_ids)
    counts = np.bincount(user_index)
    n_hidden = np.where(counts >= min_items, np.maximum(1, np.rint(fraction * counts)), 0)
    keys = np.random.default_rng(seed).random(user_index.size)
    return _rank_within_user(user_index, keys) < n_hidden[user_index]


def validation_split(
    user_ids: np.ndarray, train: np.ndarray, *, fraction: float = 0.2, seed: int = 0
) -> np.ndarray:
    """Validation mask carved from the rows where ``train`` is true (never from the others):
    :func:`holdout_split` of those rows. Selection calls it with ``train`` = the selection
    group's rows (``validation.split_listens``)."""
    train = np.asarray(train, dtype=bool)
    validation = np.zeros(train.size, dtype=bool)
    validation[train] = holdout_split(np.asarray(user_ids)[train], fraction=fraction, seed=seed)
    return validation


GIVEN_CHOICES = ("top", "random")


@dataclass(frozen=True)
class NewUserSplit:
    """Masks over rows: ``train`` (other users), ``given`` (a new user's fold-in input),
    ``test`` (the rest of a new user's rows); ``new_users`` are the held-out user ids."""

    train: np.ndarray
    given: np.ndarray
    test: np.ndarray
    new_users: np.ndarray


def new_user_split(
    user_ids: np.ndarray,
    listens: np.ndarray,
    *,
    fraction: float = 0.1,
    n_given: int = 10,
    seed: int = 42,
    given: str = "top",
    among: np.ndarray | None = None,
) -> NewUserSplit:
    """Remove ``fraction`` of the users in ``among`` (default: all; seeded) from training;
    each gives ``n_given`` rows and is scored on the rest: their most-listened rows
    (``given="top"``, ties broken at random) or rows drawn at random from their history
    (``given="random"``)."""
    if given not in GIVEN_CHOICES:
        raise ValueError(f"given must be one of {GIVEN_CHOICES}")
    users, user_index = dense_index(user_ids)
    rng = np.random.default_rng(seed)
    pool = np.arange(users.size) if among is None else np.flatnonzero(np.isin(users, among))
    n_new = max(1, int(round(fraction * pool.size)))
    chosen = np.zeros(users.size, dtype=bool)
    chosen[pool[rng.permutation(pool.size)[:n_new]]] = True
    is_new = chosen[user_index]
    noise = rng.random(user_index.size)
    # "top": sort by listens descending, the random key only breaks ties; "random": by the key.
    keys = noise if given == "random" else -np.asarray(listens, dtype=np.float64) + noise * 1e-3
    top = _rank_within_user(user_index, keys) < n_given
    return NewUserSplit(
        train=~is_new, given=is_new & top, test=is_new & ~top, new_users=users[chosen]
    )


def random_split(n_rows: int, *, fraction: float = 0.2, seed: int = 42) -> np.ndarray:
    """Test mask with round(fraction * n_rows) rows chosen uniformly at random."""
    test = np.zeros(n_rows, dtype=bool)
    test[np.random.default_rng(seed).permutation(n_rows)[: int(round(fraction * n_rows))]] = True
    return test
