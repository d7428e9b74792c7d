"""The taste evaluation: disjoint halves, and the rules that choose the defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musicrec.datasets import ListeningData
from musicrec.engine.data import RatingMatrix
from musicrec.engine.evaluate_taste import (
    choose_discovery,
    choose_fold_in,
    choose_weight,
    evaluate_taste,
    halves,
    new_users,
)
from musicrec.engine.implicit_als import ImplicitALSModel
from musicrec.engine.settings import ModelSettings


def _data() -> ListeningData:
    users = np.repeat(np.arange(10), 3)
    items = np.tile(np.arange(3), 10)
    return ListeningData(
        artist_ids=np.arange(3),
        artist_names=["a", "b", "c"],
        artist_urls=["", "", ""],
        user_ids=users,
        item_ids=items,
        listens=np.ones(30, dtype=np.int64),
        source_rows=30,
    )


def test_the_halves_share_no_listener_and_lose_no_row() -> None:
    selection, report = halves(_data())

    assert not set(selection.user_ids.tolist()) & set(report.user_ids.tolist())
    assert selection.user_ids.size + report.user_ids.size == 30
    assert selection.artist_ids.size == report.artist_ids.size == 3


def test_discovery_is_the_largest_within_the_tolerance_of_the_best() -> None:
    table = {
        "0.0": {"ndcg@10": 0.40},
        "0.25": {"ndcg@10": 0.41},
        "0.5": {"ndcg@10": 0.39},
        "1.0": {"ndcg@10": 0.20},
    }

    assert choose_discovery(table, tolerance=0.05) == 0.5
    assert choose_discovery(table, tolerance=0.0) == 0.25


def test_fold_in_is_the_best_pair_the_first_listed_among_ties() -> None:
    table = {
        "p=1 reg=1": {"ndcg@10": 0.40},
        "p=0 reg=10": {"ndcg@10": 0.45},
        "p=0 reg=30": {"ndcg@10": 0.45},
    }

    assert choose_fold_in(table) == (0.0, 10.0)


def test_report_users_are_held_out_from_their_group_and_the_model_trains_on_the_rest() -> None:
    users = np.repeat(np.arange(40), 15)  # 15 artists each: 10 given, 5 to find
    data = ListeningData(
        artist_ids=np.arange(20),
        artist_names=[str(i) for i in range(20)],
        artist_urls=[""] * 20,
        user_ids=users,
        item_ids=(users + np.tile(np.arange(15), 40)) % 20,
        listens=np.arange(600, dtype=np.int64) + 1,
        source_rows=600,
    )
    selection, report = halves(data)

    run = new_users(data, seed=11, among=np.unique(report.user_ids), trainer=_count_only)

    held_out = {int(u) for u in report.user_ids} - {int(u) for u in run.ratings.users.ids}
    assert len(held_out) == len(run.given) == 2  # 10% of the report group's 20
    assert set(selection.user_ids.tolist()) <= set(run.ratings.users.ids.tolist())
    assert all(ids.size == 10 for ids, _ in run.given)
    assert all(len(found) == 5 for found in run.relevant)


def _count_only(ratings: RatingMatrix, settings: ModelSettings) -> ImplicitALSModel:
    """A stand-in trainer that keeps the data it was given (the split is what is tested)."""
    k = 2
    return ImplicitALSModel(
        users=ratings.users,
        items=ratings.items,
        user_factors=np.zeros((len(ratings.users), k)),
        item_factors=np.zeros((len(ratings.items), k)),
        train=ratings.matrix,
        settings=settings,  # type: ignore[arg-type]
    )


def test_dislike_weight_is_the_firmest_that_does_not_hurt() -> None:
    table = {"0.0": {"ndcg@10": 0.30}, "0.5": {"ndcg@10": 0.299}, "1.0": {"ndcg@10": 0.25}}

    assert choose_weight(table, tolerance=0.01) == 0.5
    assert choose_weight(table, tolerance=0.0) == 0.0


@pytest.mark.slow
@pytest.mark.realdata
def test_the_defaults_in_the_code_are_the_ones_the_evaluation_chooses(shared_data: Path) -> None:
    """`musicrec evaluate-taste` on the shared data chooses what the code serves (a few
    minutes): the new-user fold-in, the default discovery and the not-for-me weight."""
    from musicrec.datasets import load_lastfm

    result = evaluate_taste(load_lastfm(shared_data), report_seeds=(11,))

    assert result["report"]["served_is_chosen"], (
        result["selection"]["chosen"],
        result["report"]["served"],
    )
