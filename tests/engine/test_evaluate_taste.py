"""The taste evaluation: disjoint halves, and the rules that choose the defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musicrec.datasets import ListeningData
from musicrec.engine.evaluate_taste import choose_discovery, choose_weight, evaluate_taste, halves


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


@pytest.mark.slow
@pytest.mark.realdata
def test_the_defaults_in_the_code_are_the_ones_the_evaluation_chooses(shared_data: Path) -> None:
    """`musicrec evaluate-taste` on the shared data chooses what the code uses (about 40 s)."""
    from musicrec.datasets import load_lastfm
    from musicrec.engine.discovery import DEFAULT_DISCOVERY
    from musicrec.engine.implicit_als import DISLIKE_WEIGHT

    result = evaluate_taste(load_lastfm(shared_data))

    assert result["selection"]["chosen_discovery"] == DEFAULT_DISCOVERY
    assert result["selection"]["chosen_dislike_weight"] == DISLIKE_WEIGHT
    report = result["report"]
    assert (
        report["dislike_weight"][str(DISLIKE_WEIGHT)]["ndcg@10"]
        >= (report["dislike_weight"]["0.0"]["ndcg@10"])
    )
