"""External ids <-> dense matrix positions, and the sparse user x artist rating matrix.

Models are trained and queried with database ids; internally everything is a dense position
into the factor matrices. ``IdMap`` does the translation with a sorted array and binary search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class IdMap:
    """A sorted array of distinct external ids; an id's position is its dense index."""

    ids: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray) -> IdMap:
        return cls(np.unique(np.asarray(ids, dtype=np.int64)))

    def __len__(self) -> int:
        return int(self.ids.size)

    def __contains__(self, external_id: object) -> bool:
        return isinstance(external_id, int | np.integer) and self.index(int(external_id)) >= 0

    def index(self, external_id: int) -> int:
        """Dense position of one id, -1 when unknown."""
        position = int(np.searchsorted(self.ids, external_id))
        if position < self.ids.size and self.ids[position] == external_id:
            return position
        return -1

    def indices(self, external_ids: np.ndarray) -> np.ndarray:
        """Dense positions of many ids, -1 for those unknown."""
        external_ids = np.asarray(external_ids, dtype=np.int64)
        if self.ids.size == 0:
            return np.full(external_ids.shape, -1, dtype=np.int64)
        positions = np.searchsorted(self.ids, external_ids).clip(0, self.ids.size - 1)
        return np.where(self.ids[positions] == external_ids, positions, -1)


@dataclass(frozen=True)
class RatingMatrix:
    """Ratings as a CSR matrix (rows: users, columns: items) with the two id maps."""

    users: IdMap
    items: IdMap
    matrix: sp.csr_matrix  # float32 ratings; a stored entry means "rated"

    @classmethod
    def from_arrays(
        cls,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        ratings: np.ndarray,
        *,
        catalogue: np.ndarray | None = None,
    ) -> RatingMatrix:
        """Build from parallel arrays; ``catalogue`` adds items nobody rated (yet)."""
        user_ids = np.asarray(user_ids, dtype=np.int64)
        item_ids = np.asarray(item_ids, dtype=np.int64)
        ratings = np.asarray(ratings, dtype=np.float32)
        if not user_ids.shape == item_ids.shape == ratings.shape:
            raise ValueError("user_ids, item_ids and ratings must have the same length")
        users = IdMap.of(user_ids)
        items = IdMap.of(item_ids if catalogue is None else np.concatenate([item_ids, catalogue]))
        rows, cols = users.indices(user_ids), items.indices(item_ids)
        if np.unique(rows * len(items) + cols).size != rows.size:
            raise ValueError("a (user, artist) pair appears more than once")
        matrix = sp.csr_matrix((ratings, (rows, cols)), shape=(len(users), len(items)))
        matrix.sort_indices()
        return cls(users, items, matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape  # type: ignore[return-value]
