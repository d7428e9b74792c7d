"""The validation split that selection (tuning, default-choosing tables) scores on.

Selection never sees the report's splits: it holds out ``VALIDATION_FRACTION`` of each user's
artists with ``SELECTION_SEED`` from the data it is given (the training part: the app's
ratings, or a dataset's listens mapped per user after the split), trains on the rest and
ranks. The report (``evaluate``) uses ``REPORT_SEEDS``, never used to choose anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine.data import RatingMatrix
from musicrec.engine.mapping import DEFAULT_MAPPING, MAPPINGS
from musicrec.engine.metrics_batch import K, ranking_metrics, relevant_sets
from musicrec.engine.model import FactorModel
from musicrec.engine.settings import ModelSettings
from musicrec.engine.split import dense_index, holdout_split

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

    def score(self, model: BatchRecommender) -> dict[str, float]:
        """Ranking metrics at 10 of ``model`` (trained on ``train``) on the held-out artists."""
        return ranking_metrics(
            model.recommend_batch(self.users, K), self.relevant, self.catalogue_size
        )


def split_ratings(
    user_ids: np.ndarray,
    artist_ids: np.ndarray,
    ratings: np.ndarray,
    *,
    catalogue: np.ndarray | None = None,
    seed: int = SELECTION_SEED,
) -> ValidationSplit:
    """Validation split of ratings as they are (the app's database)."""
    held = holdout_split(user_ids, fraction=VALIDATION_FRACTION, seed=seed)
    train = RatingMatrix.from_arrays(
        user_ids[~held], artist_ids[~held], ratings[~held], catalogue=catalogue
    )
    users, relevant = relevant_sets(user_ids[held], artist_ids[held])
    return ValidationSplit(train, users, relevant, len(train.items))


def split_listens(
    data: ListeningData, *, mapping: str = DEFAULT_MAPPING, seed: int = SELECTION_SEED
) -> ValidationSplit:
    """Validation split of a listening dataset: split first, then map each user's training
    listens to ratings (the held-out listens shape no rating)."""
    held = holdout_split(data.user_ids, fraction=VALIDATION_FRACTION, seed=seed)
    _, user_index = dense_index(data.user_ids)
    ratings = MAPPINGS[mapping](user_index[~held], data.listens[~held]).astype(np.float64)
    train = RatingMatrix.from_arrays(
        data.user_ids[~held], data.item_ids[~held], ratings, catalogue=data.artist_ids
    )
    users, relevant = relevant_sets(data.user_ids[held], data.item_ids[held])
    return ValidationSplit(train, users, relevant, int(data.artist_ids.size))
