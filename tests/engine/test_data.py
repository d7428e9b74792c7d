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
