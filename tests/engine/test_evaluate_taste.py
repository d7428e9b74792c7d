"""The taste evaluation: disjoint halves, and the rules that choose the defaults."""

from __future__ import annotations

import numpy as np

from musicrec.datasets import ListeningData
from musicrec.engine.evaluate_taste import choose_discovery, choose_weight, halves


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


def test_dislike_weight_is_the_firmest_that_does_not_hurt() -> None:
    table = {"0.0": {"ndcg@10": 0.30}, "0.5": {"ndcg@10": 0.299}, "1.0": {"ndcg@10": 0.25}}

    assert choose_weight(table, tolerance=0.01) == 0.5
    assert choose_weight(table, tolerance=0.0) == 0.0
