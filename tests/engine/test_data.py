"""Id maps and the rating matrix."""

from __future__ import annotations

import numpy as np
import pytest

from musicrec.engine.data import IdMap, RatingMatrix


def test_id_map_translates_both_ways_and_flags_unknown_ids() -> None:
    ids = IdMap.of(np.array([30, 10, 20, 10]))
    np.testing.assert_array_equal(ids.ids, [10, 20, 30])
    assert ids.index(20) == 1 and ids.index(25) == -1 and ids.index(99) == -1
    np.testing.assert_array_equal(ids.indices(np.array([30, 5, 10, 31])), [2, -1, 0, -1])
    assert 10 in ids and 11 not in ids and len(ids) == 3
    assert IdMap.of(np.array([], dtype=np.int64)).indices(np.array([1])).tolist() == [-1]


def test_rating_matrix_keeps_catalogue_items_and_rejects_duplicates() -> None:
    matrix = RatingMatrix.from_arrays(
        np.array([7, 7, 9]),
        np.array([100, 300, 100]),
        np.array([5, 9, 1]),
        catalogue=np.array([100, 200, 300]),
    )
    assert matrix.shape == (2, 3)
    np.testing.assert_array_equal(matrix.matrix.toarray(), [[5, 0, 9], [1, 0, 0]])
    with pytest.raises(ValueError, match="more than once"):
        RatingMatrix.from_arrays(np.array([1, 1]), np.array([2, 2]), np.array([3, 4]))
    with pytest.raises(ValueError, match="same length"):
        RatingMatrix.from_arrays(np.array([1]), np.array([2, 3]), np.array([3]))


def _reference_matrix(
    users: np.ndarray, items: np.ndarray, ratings: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The obvious construction: np.unique id maps and a dictionary per pair."""
    user_ids, item_ids = np.unique(users), np.unique(items)
    dense = np.zeros((user_ids.size, item_ids.size), dtype=np.float32)
    row = {int(u): r for r, u in enumerate(user_ids)}
    col = {int(i): c for c, i in enumerate(item_ids)}
    for u, i, value in zip(users.tolist(), items.tolist(), ratings.tolist(), strict=True):
        dense[row[u], col[i]] = value
    return user_ids, item_ids, dense


@pytest.mark.parametrize("pairs", [500, 150_000])  # below and above the lookup-table size
def test_rating_matrix_matches_the_obvious_construction(pairs: int) -> None:
    rng = np.random.default_rng(pairs)
    # Sparse, shuffled, non-contiguous database-like ids; distinct (user, item) pairs.
    keys = rng.choice(3_000 * 2_000, size=pairs, replace=False)
    users = (keys // 2_000) * 7 + 11
    items = (keys % 2_000) * 3 + 5
    ratings = rng.integers(1, 11, size=pairs).astype(np.float64)
    built = RatingMatrix.from_arrays(users, items, ratings)
    user_ids, item_ids, dense = _reference_matrix(users, items, ratings)
    np.testing.assert_array_equal(built.users.ids, user_ids)
    np.testing.assert_array_equal(built.items.ids, item_ids)
    np.testing.assert_array_equal(built.matrix.toarray(), dense)
    assert built.matrix.nnz == pairs and built.matrix.has_sorted_indices
    # Translating many ids at once (lookup table) agrees with one at a time (binary search).
    asked = np.concatenate([users[:1000], [0, 10**12, -5, int(users.max()) + 1]])
    expected = [built.users.index(int(u)) for u in asked]
    np.testing.assert_array_equal(
        built.users.indices(np.resize(asked, 200_000))[: asked.size], expected
    )


@pytest.mark.parametrize("pairs", [50, 150_000])
def test_rating_matrix_rejects_one_repeated_pair_among_many(pairs: int) -> None:
    rng = np.random.default_rng(pairs)
    keys = rng.choice(10**6, size=pairs, replace=False)
    users, items = keys // 1_000, keys % 1_000
    ratings = np.ones(pairs)
    RatingMatrix.from_arrays(users, items, ratings)  # distinct: accepted
    repeat = rng.integers(pairs)
    with pytest.raises(ValueError, match="more than once"):
        RatingMatrix.from_arrays(
            np.append(users, users[repeat]), np.append(items, items[repeat]), np.append(ratings, 2)
        )
