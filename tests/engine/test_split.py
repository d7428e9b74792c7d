"""Seeded splits for the evaluation protocols."""

from __future__ import annotations

import numpy as np

from musicrec.engine.split import holdout_split, new_user_split, random_split


def test_holdout_hides_a_fifth_of_each_eligible_user() -> None:
    user_ids = np.repeat([10, 20, 30], [10, 4, 23])
    test = holdout_split(user_ids, seed=1)
    assert test[user_ids == 10].sum() == 2
    assert test[user_ids == 20].sum() == 0  # fewer than 5 artists: stays in training
    assert test[user_ids == 30].sum() == 5  # round(4.6)
    np.testing.assert_array_equal(test, holdout_split(user_ids, seed=1))
    assert not np.array_equal(test, holdout_split(user_ids, seed=2))


def test_new_user_split_gives_top_listened_and_scores_the_rest() -> None:
    user_ids = np.repeat(np.arange(20), 15)
    listens = np.tile(np.arange(15), 20)
    split = new_user_split(user_ids, listens, fraction=0.1, n_given=10, seed=3)
    assert split.new_users.size == 2
    for user in split.new_users:
        mine = user_ids == user
        assert not split.train[mine].any()
        assert split.given[mine].sum() == 10 and split.test[mine].sum() == 5
        assert listens[mine & split.given].min() > listens[mine & split.test].max()
    others = ~np.isin(user_ids, split.new_users)
    assert split.train[others].all()


def test_random_split_size_and_seed() -> None:
    test = random_split(100, fraction=0.2, seed=5)
    assert test.sum() == 20
    np.testing.assert_array_equal(test, random_split(100, fraction=0.2, seed=5))
