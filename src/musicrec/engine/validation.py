"""The validation split that selection (tuning, default-choosing tables) scores on.

On a dataset, selection never sees a reported user: the users are split once
(``split.user_groups``) into a selection group and a report group, and selection reads the
selection group's rows only. Of those it holds out ``VALIDATION_FRACTION`` of each user's
artists with ``SELECTION_SEED`` (``split.validation_split``), maps each user's training
listens to ratings, trains on them and ranks. The report (``evaluate``) scores the report
group only, over ``REPORT_SEEDS``. The app's database has no report: its split
(``split_ratings``) draws validation pairs from every user.

Each split carries ``data_key``, a fingerprint of the data it was cut from (``fingerprint``):
tuning studies are keyed by it, so a study never mixes trials on different data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine.data import RatingMatrix
from musicrec.engine.mapping import DEFAULT_MAPPING, MAPPINGS
from musicrec.engine.metrics_batch import K, ranking_metrics, relevant_sets
from musicrec.engine.model import FactorModel
from musicrec.engine.settings import ModelSettings
from musicrec.engine.split import UserGroups, dense_index, user_groups, validation_split

SELECTION_SEED = 0
REPORT_SEEDS = (11, 12, 13, 14, 15)
VALIDATION_FRACTION = 0.2

# What the protocols and the tuner train with: ``als.train`` by default, another engine's
# trainer (same signature) to evaluate or tune that engine.
Trainer = Callable[[RatingMatrix, ModelSettings], FactorModel]  # type: ignore[type-arg]


class BatchRecommender(Protocol):
    def recommend_batch(self, user_ids: np.ndarray, n: int = 10) -> np.ndarray: ...


@dataclass(frozen=True)
class ValidationSplit:
    """Training ratings and, per validation user, the artists held out from them."""

    train: RatingMatrix
    users: np.ndarray  # validation user ids
    relevant: list[set[int]]  # per user: held-out artist ids
    catalogue_size: int
    data_key: str  # ``fingerprint`` of the rows the split was cut from (and the mapping)

    def score(self, model: BatchRecommender) -> dict[str, float]:
        """Ranking metrics at 10 of ``model`` (trained on ``train``) on the held-out artists."""
        return ranking_metrics(
            model.recommend_batch(self.users, K), self.relevant, self.catalogue_size
        )


def fingerprint(user_ids: np.ndarray, item_ids: np.ndarray, values: np.ndarray) -> str:
    """``<users>u-<items>i-<pairs>p-<hash>``: the counts and the first 12 hex digits of the
    SHA-256 of the (user, item, value) rows sorted by user then item, whatever their order."""
    users = np.asarray(user_ids, dtype=np.int64)
    items = np.asarray(item_ids, dtype=np.int64)
    order = np.lexsort((items, users))
    digest = hashlib.sha256()
    for column in (users[order], items[order], np.asarray(values, dtype=np.float64)[order]):
        digest.update(np.ascontiguousarray(column).tobytes())
    n_users, n_items = np.unique(users).size, np.unique(items).size
    return f"{n_users}u-{n_items}i-{users.size}p-{digest.hexdigest()[:12]}"


def selection_data(data: ListeningData, groups: UserGroups | None = None) -> ListeningData:
    """The rows of the selection group's users (``split.user_groups`` of ``data``)."""
    groups = groups or user_groups(data.user_ids)
    keep = groups.selection_rows(data.user_ids)
    return replace(
        data, user_ids=data.user_ids[keep], item_ids=data.item_ids[keep], listens=data.listens[keep]
    )


def split_ratings(
    user_ids: np.ndarray,
    artist_ids: np.ndarray,
    ratings: np.ndarray,
    *,
    catalogue: np.ndarray | None = None,
    seed: int = SELECTION_SEED,
) -> ValidationSplit:
    """Validation split of ratings as they are (the app's database: every user, no report)."""
    every = np.ones(user_ids.size, dtype=bool)
    held = validation_split(user_ids, every, fraction=VALIDATION_FRACTION, seed=seed)
    train = RatingMatrix.from_arrays(
        user_ids[~held], artist_ids[~held], ratings[~held], catalogue=catalogue
    )
    users, relevant = relevant_sets(user_ids[held], artist_ids[held])
    key = fingerprint(user_ids, artist_ids, ratings)
    return ValidationSplit(train, users, relevant, len(train.items), key)


def split_listens(
    data: ListeningData, *, mapping: str = DEFAULT_MAPPING, seed: int = SELECTION_SEED
) -> ValidationSplit:
    """Validation split of a listening dataset's selection group (the report group's rows are
    never read): split first, then map each user's training listens to ratings (the
    held-out listens shape no rating)."""
    data = selection_data(data)
    every = np.ones(data.user_ids.size, dtype=bool)
    held = validation_split(data.user_ids, every, fraction=VALIDATION_FRACTION, seed=seed)
    _, user_index = dense_index(data.user_ids)
    ratings = MAPPINGS[mapping](user_index[~held], data.listens[~held]).astype(np.float64)
    train = RatingMatrix.from_arrays(
        data.user_ids[~held], data.item_ids[~held], ratings, catalogue=data.artist_ids
    )
    users, relevant = relevant_sets(data.user_ids[held], data.item_ids[held])
    key = f"{fingerprint(data.user_ids, data.item_ids, data.listens)}-{mapping}"
    return ValidationSplit(train, users, relevant, int(data.artist_ids.size), key)
