"""External ids <-> dense matrix positions, and the sparse user x artist rating matrix.

Models are trained and queried with database ids; internally everything is a dense position
into the factor matrices. ``IdMap`` does the translation with a sorted array and binary search
(a lookup table when many ids of a narrow range are translated at once).

Built by sorting, never ``np.unique``: NumPy 2.4 finds distinct integers with a hash table,
which took tens of seconds for the 17.5M (user, artist) keys of the Last.fm-360K shape where
a sort takes about a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# Translate through a lookup table when at least this many ids are asked for at once and the
# table (one entry per id in the map's range) is no larger than a few times the request.
LOOKUP_AT_LEAST = 100_000
LOOKUP_SPAN_PER_ID = 4


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """The distinct values in ascending order (``np.unique`` by a sort)."""
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    keep = np.empty(ordered.size, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


@dataclass(frozen=True)
class IdMap:
    """A sorted array of distinct external ids; an id's position is its dense index."""

    ids: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray) -> IdMap:
        return cls(distinct_sorted(ids))

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
        low, high = int(self.ids[0]), int(self.ids[-1])
        if (
            external_ids.size >= LOOKUP_AT_LEAST
            and high - low < LOOKUP_SPAN_PER_ID * external_ids.size
        ):
            # One pass through a table of every id in [low, high] instead of a binary search
            # per id (several times faster for millions of ids).
            table = np.full(high - low + 1, -1, dtype=np.int64)
            table[self.ids - low] = np.arange(self.ids.size)
            inside = (external_ids >= low) & (external_ids <= high)
            out = np.full(external_ids.shape, -1, dtype=np.int64)
            out[inside] = table[external_ids[inside] - low]
            return out
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
        # scipy sums repeated (row, column) entries while building CSR (sorting each row's
        # columns, linear in the pairs), so fewer stored entries than pairs means a repeat.
        matrix = sp.csr_matrix((ratings, (rows, cols)), shape=(len(users), len(items)))
        if matrix.nnz != rows.size:
            raise ValueError("a (user, artist) pair appears more than once")
        matrix.sort_indices()
        return cls(users, items, matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape  # type: ignore[return-value]
