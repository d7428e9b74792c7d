"""Seeded splits for the evaluation protocols."""

from __future__ import annotations

import numpy as np
import pytest

from musicrec.engine.split import (
    holdout_split,
    new_user_split,
    random_split,
    user_groups,
    user_order,
    validation_split,
)


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


def test_new_user_split_can_give_random_artists() -> None:
    user_ids = np.repeat(np.arange(40), 30)
    listens = np.tile(np.arange(30), 40)
    split = new_user_split(user_ids, listens, fraction=0.25, n_given=10, seed=3, given="random")
    given_listens = [listens[(user_ids == u) & split.given] for u in split.new_users]
    assert all(g.size == 10 for g in given_listens)
    # Not the top 10 (listens 20..29) for every user, as "top" would give.
    assert any(g.min() < 20 for g in given_listens)
    top = new_user_split(user_ids, listens, fraction=0.25, n_given=10, seed=3)
    np.testing.assert_array_equal(top.new_users, split.new_users)
    with pytest.raises(ValueError):
        new_user_split(user_ids, listens, given="best")


def test_validation_is_carved_from_the_training_rows_only() -> None:
    user_ids = np.repeat(np.arange(30), 20)
    test = holdout_split(user_ids, seed=11)
    validation = validation_split(user_ids, ~test, seed=0)
    assert validation.any() and not (validation & test).any()
    # A fifth of each user's training rows (16 -> round(3.2) = 3).
    assert {int(validation[user_ids == u].sum()) for u in range(30)} == {3}


def test_user_groups_are_disjoint_covering_and_fixed_by_the_seed() -> None:
    user_ids = np.repeat(np.arange(101, 201), 3)
    groups = user_groups(user_ids, seed=4)
    assert groups.selection.size == 50 and groups.report.size == 50
    assert not np.intersect1d(groups.selection, groups.report).size
    np.testing.assert_array_equal(np.union1d(groups.selection, groups.report), np.arange(101, 201))
    again = user_groups(user_ids[::-1], seed=4)  # row order does not matter
    np.testing.assert_array_equal(again.selection, groups.selection)
    other = user_groups(user_ids, seed=5)
    assert not np.array_equal(other.selection, groups.selection)
    assert groups.describe() == {"seed": 4, "selection_users": 50, "report_users": 50}
    rows = groups.report_rows(user_ids)
    assert (
        np.isin(user_ids[rows], groups.report).all()
        and not rows[groups.selection_rows(user_ids)].any()
    )


def test_user_groups_are_the_halves_the_taste_evaluation_uses() -> None:
    from musicrec.engine.evaluate_taste import halves
    from tests.engine.test_evaluate import tiny_listening_data

    data = tiny_listening_data()
    selection, report = halves(data)
    groups = user_groups(data.user_ids)
    np.testing.assert_array_equal(np.unique(selection.user_ids), groups.selection)
    np.testing.assert_array_equal(np.unique(report.user_ids), groups.report)


def test_new_users_are_drawn_among_the_users_asked_for() -> None:
    user_ids = np.repeat(np.arange(40), 15)
    listens = np.tile(np.arange(15), 40)
    among = np.arange(20, 40)
    split = new_user_split(user_ids, listens, fraction=0.25, seed=3, among=among)
    assert split.new_users.size == 5 and np.isin(split.new_users, among).all()
    everyone = new_user_split(user_ids, listens, fraction=0.25, seed=3)
    assert everyone.new_users.size == 10


def test_the_similar_artist_groups_are_cut_from_the_same_order_of_users() -> None:
    from musicrec.engine.neighbour_eval import split_users

    user_ids = np.repeat(np.arange(200), 2)
    users, position = user_order(user_ids, seed=0)
    groups = split_users(user_ids, seed=0)
    assert set(user_ids[groups.report]) == set(users[position >= 180])
    assert set(user_ids[groups.choose]) == set(users[(position >= 160) & (position < 180)])
    assert groups.train.sum() == 2 * 160
