"""Shrunk similarities on hand-computed cases, and the similar-artist evaluation on a tiny set."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from musicrec.datasets import ListeningData
from musicrec.engine.neighbour_eval import choose_setting, evaluate_similar, split_users
from musicrec.engine.neighbours import (
    PLAIN_COSINE,
    Neighbourhood,
    most_similar,
    shared_listeners,
    shrunk,
)


def test_shared_listeners_count_users_who_rated_both() -> None:
    # users x items: user 0 rated items 0, 1; user 1 items 0, 2; user 2 item 2.
    by_user = sp.csr_matrix(np.array([[5, 3, 0], [4, 0, 2], [0, 0, 1]], dtype=np.float32))

    assert shared_listeners(by_user, by_user.tocsc(), 0).tolist() == [2, 1, 1]
    assert shared_listeners(by_user, by_user.tocsc(), 2).tolist() == [1, 0, 2]


def test_shrinkage_weighs_cosine_by_support_and_drops_thin_pairs() -> None:
    cosine = np.array([1.0, 0.9, 0.5])
    shared = np.array([10, 1, 30])

    scores = shrunk(cosine, shared, Neighbourhood(shrinkage=10.0, min_shared=2))

    assert scores[1] == -np.inf  # one shared listener: never listed
    assert scores[2] == pytest.approx(0.5 * 30 / 40)
    assert shrunk(cosine, shared, PLAIN_COSINE).tolist() == cosine.tolist()


def test_a_well_supported_neighbour_outranks_a_thin_one_with_a_higher_cosine() -> None:
    cosine = np.array([1.0, 0.95, 0.7])
    shared = np.array([100, 2, 60])

    assert most_similar(cosine, shared, 0, 2, PLAIN_COSINE).tolist() == [1, 2]
    assert most_similar(cosine, shared, 0, 2, Neighbourhood(20.0, 1)).tolist() == [2, 1]


def test_choose_setting_takes_the_least_shrinkage_close_to_the_best() -> None:
    precision = {
        Neighbourhood(0.0, 1): 0.20,
        Neighbourhood(50.0, 1): 0.345,
        Neighbourhood(100.0, 1): 0.349,
        Neighbourhood(500.0, 1): 0.35,
    }

    assert choose_setting(precision) == Neighbourhood(50.0, 1)


def test_split_users_keeps_each_user_in_one_group() -> None:
    user_ids = np.repeat(np.arange(100), 3)

    groups = split_users(user_ids)

    assert (groups.train.astype(int) + groups.choose + groups.report == 1).all()
    assert {int(u) for u in user_ids[groups.report]}.isdisjoint(user_ids[groups.choose].tolist())
    assert np.unique(user_ids[groups.report]).size == 10


def test_evaluation_of_two_clear_taste_groups_beats_popularity() -> None:
    # 200 users in two camps of 10 artists each, plus one artist everybody plays.
    rng = np.random.default_rng(3)
    rows = []
    for user in range(200):
        camp = user % 2
        for artist in rng.choice(10, size=5, replace=False):
            rows.append((user, camp * 10 + int(artist) + 1, int(rng.integers(1, 50))))
        rows.append((user, 21, 1))
    users, items, listens = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    data = ListeningData(
        artist_ids=np.arange(1, 22),
        artist_names=[f"a{i}" for i in range(1, 22)],
        artist_urls=[""] * 21,
        user_ids=users,
        item_ids=items,
        listens=listens,
        source_rows=len(rows),
    )

    result = evaluate_similar(data, training_seeds=(1,))

    report = result["report"]
    assert isinstance(report, dict)
    assert report["chosen"]["precision"] > report["most-popular"]["precision"]
