"""What a new user is served is what the evaluation measured: the same fold-in and the same
default discovery, through a published and loaded model version (issue 20, item 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from musicrec.datasets import ListeningData
from musicrec.engine.artifacts import ModelStore
from musicrec.engine.discovery import DEFAULT_DISCOVERY
from musicrec.engine.evaluate import _recommend_new
from musicrec.engine.evaluate_taste import Choice, NewUsers, _picks, new_users, served_with
from musicrec.services.model_loader import ModelLoader


def long_tail(
    seed: int = 3, users: int = 300, genres: int = 8, per_genre: int = 60
) -> ListeningData:
    """Listeners of two genres each, drawing artists with Zipf-like popularity: a few artists
    most listen to, and a long tail of artists with one to four listeners."""
    rng = np.random.default_rng(seed)
    weight = 1.0 / np.arange(1, per_genre + 1) ** 1.1
    user_ids: list[int] = []
    item_ids: list[int] = []
    listens: list[int] = []
    for u in range(users):
        tastes = rng.choice(genres, size=2, replace=False)
        pool = np.concatenate([g * per_genre + np.arange(per_genre) for g in tastes])
        p = np.concatenate([3 * weight, weight])
        n = int(rng.integers(15, 35))
        user_ids += [u] * n
        item_ids += rng.choice(pool, size=n, replace=False, p=p / p.sum()).tolist()
        listens += (rng.pareto(1.0, size=n) * 50 + 1).astype(int).tolist()
    artists = np.arange(genres * per_genre)
    return ListeningData(
        artist_ids=artists,
        artist_names=[f"artist {a}" for a in artists],
        artist_urls=["" for _ in artists],
        user_ids=np.array(user_ids),
        item_ids=np.array(item_ids),
        listens=np.array(listens, dtype=np.int64),
        source_rows=len(user_ids),
    )


@pytest.fixture(scope="module")
def run() -> NewUsers:
    """A model trained without 10% of the listeners, and those listeners' top 10s."""
    return new_users(long_tail(), seed=11)


def test_the_api_path_serves_what_the_evaluation_measured(run: NewUsers, tmp_path: Path) -> None:
    ModelStore(tmp_path).publish(run.model, metrics={}, data_fingerprint="parity" * 4)
    loaded = ModelLoader(tmp_path).current()
    assert loaded is not None
    assert Choice().discovery == DEFAULT_DISCOVERY > 0  # a new user's setting: the default

    for ids, ratings in run.given[:12]:
        with served_with(run.model, Choice()) as model:
            measured = _picks(model, (ids, ratings), discovery=Choice().discovery)
        protocol = [int(i) for i in _recommend_new(run.model, ids, ratings) if i >= 0]
        served = loaded.recommend(
            [int(i) for i in ids],
            [int(r) for r in ratings],
            10,
            (),
            disliked=(),
            discovery=DEFAULT_DISCOVERY,  # preferences_of's answer for a user who never set it
        )

        assert len(measured) == 10
        assert [artist for artist, _score, _because in served] == measured == protocol


def test_the_parity_is_not_vacuous(run: NewUsers) -> None:
    """The served answer differs from the old fold-in's, and from discovery 0's, for some
    users: the comparison above would notice either being served instead."""
    old = Choice(1.0, run.model.settings.regularization, 0.0, evidence_floor=False)
    differs_from_old = differs_from_familiar = 0
    for given in run.given[:12]:
        with served_with(run.model, Choice()) as model:
            served = _picks(model, given, discovery=DEFAULT_DISCOVERY)
            familiar = _picks(model, given, discovery=0.0)
        with served_with(run.model, old) as model:
            before = _picks(model, given, discovery=0.0)
        differs_from_old += served != before
        differs_from_familiar += served != familiar
    assert differs_from_old and differs_from_familiar
