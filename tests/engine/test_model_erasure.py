"""Erasing users from a version's arrays, on a matrix small enough to check by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from musicrec.engine.als import train_arrays
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.model_erasure import erase_users, versions_holding, without_users

# users 10, 20, 30 x items 1, 2, 3: user 20 rated items 1 and 3
TRAIN = sp.csr_matrix(np.array([[5.0, 0, 1], [2, 0, 7], [0, 4, 0]]))


def _arrays() -> dict[str, np.ndarray]:
    return {
        "user_ids": np.array([10, 20, 30]),
        "item_ids": np.array([1, 2, 3]),
        "user_factors": np.array([[1.0, 1], [2, 2], [3, 3]]),
        "item_factors": np.array([[0.5, 0], [0, 0.5], [0.25, 0.25]]),
        "user_bias": np.array([0.1, 0.2, 0.3]),
        "train_indptr": TRAIN.indptr,
        "train_indices": TRAIN.indices,
        "train_data": TRAIN.data,
        "global_mean": np.array(4.0),
    }


def test_the_users_rows_go_and_everything_else_stays() -> None:
    out = without_users(_arrays(), [20])

    assert out is not None
    np.testing.assert_array_equal(out["user_ids"], [10, 30])
    np.testing.assert_array_equal(out["user_factors"], [[1, 1], [3, 3]])
    np.testing.assert_array_equal(out["user_bias"], [0.1, 0.3])
    train = sp.csr_matrix(
        (out["train_data"], out["train_indices"], out["train_indptr"]), shape=(2, 3)
    )
    np.testing.assert_array_equal(train.toarray(), [[5, 0, 1], [0, 4, 0]])
    np.testing.assert_array_equal(out["item_factors"], _arrays()["item_factors"])


def test_a_version_without_the_users_is_left_alone() -> None:
    assert without_users(_arrays(), [99]) is None


def test_an_unknown_per_user_array_is_refused_rather_than_kept() -> None:
    with pytest.raises(ValueError, match="user_history"):
        without_users({**_arrays(), "user_history": np.zeros(3)}, [20])


def test_versions_of_one_second_keep_their_order(tmp_path: Path) -> None:
    users, items = np.array([10, 10, 20, 20, 30]), np.array([1, 2, 1, 3, 2])
    model = train_arrays(users, items, np.array([9, 3, 8, 6, 7]))
    store = ModelStore(tmp_path)
    older = store.publish(model, metrics={"n": 1}, data_fingerprint="a" * 64)
    newer = store.publish(model, metrics={"n": 2}, data_fingerprint="b" * 64)
    assert store.versions() == [newer, older]

    replaced = erase_users(store, [20])

    assert store.versions() == [replaced[newer], replaced[older]]
    assert [store.meta(name)["metrics"]["n"] for name in store.versions()] == [2, 1]
    assert versions_holding(store, [20]) == []
    assert store.load(store.versions()[0]).model.users.ids.tolist() == [10, 30]
    assert erase_users(store, [20]) == {}
