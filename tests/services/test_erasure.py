"""Deleting an account erases it from the database at once and, at the worker's next check,
from every kept model version (ids, factors, training ratings)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from musicrec.config import Settings
from musicrec.datasets import load_lastfm
from musicrec.db.models import Artist, Erasure, Job, Rating
from musicrec.db.session import transaction
from musicrec.engine.artifacts import ARRAYS, ModelStore
from musicrec.services import accounts, catalogue, ratings
from musicrec.services.model_loader import ModelLoader
from musicrec.services.popular_artists import PopularArtists
from musicrec.services.queue import JobQueue
from tests.factories import import_in_transaction, train_in_transaction, write_csv_pair

PASSWORD = "a long enough passphrase"
LISTENS = [
    (u, a, (u * 7 + a * 13) % 50 + 1) for u in range(1, 13) for a in range(1, 7) if (u + a) % 3
]


def _arrays(store: ModelStore, version: str) -> dict[str, np.ndarray]:
    with np.load(store.directory / version / ARRAYS, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _ratings_by_user(arrays: dict[str, np.ndarray]) -> dict[int, list[tuple[int, float]]]:
    """Each user's training ratings in a version: (artist id, value) pairs."""
    indptr, items = arrays["train_indptr"], arrays["item_ids"]
    return {
        int(user): [
            (int(items[j]), float(v))
            for j, v in zip(
                arrays["train_indices"][indptr[u] : indptr[u + 1]],
                arrays["train_data"][indptr[u] : indptr[u + 1]],
                strict=True,
            )
        ]
        for u, user in enumerate(arrays["user_ids"])
    }


@pytest.fixture
def member(db_engine: Engine, tmp_path: Path) -> int:
    """A signed-up user who rated four starter artists, among Last.fm listeners."""
    artists = [(a, f"Artist {a}") for a in range(1, 7)]
    data = load_lastfm(write_csv_pair(tmp_path / "data", artists=artists, listens=LISTENS))
    import_in_transaction(db_engine, data, location="small")
    with Session(db_engine, expire_on_commit=False) as session:  # sign-up commits before hashing
        user = accounts.sign_up(session, "ada", "ada@example.org", PASSWORD)
        rated = session.execute(select(Artist.id).order_by(Artist.id).limit(4)).scalars()
        for value, artist_id in zip((10, 9, 3, 7), rated, strict=False):
            ratings.rate(session, user.id, artist_id, value)
        session.commit()
        return user.id


def _delete(db_engine: Engine, user_id: int) -> None:
    with Session(db_engine, expire_on_commit=False) as session:  # commits before verifying
        user = accounts.users.get_user(session, user_id)
        assert user is not None
        accounts.delete_account(session, user, PASSWORD)
        session.commit()


def test_the_workers_check_strips_a_deleted_account_from_every_kept_version(
    db_engine: Engine, settings: Settings, member: int
) -> None:
    train_in_transaction(db_engine, settings.model_dir, factors=4, iterations=3)
    train_in_transaction(db_engine, settings.model_dir, "explicit", factors=3, iterations=2)
    store = ModelStore(settings.model_dir)
    before = {name: _arrays(store, name) for name in store.versions()}
    assert all(member in arrays["user_ids"] for arrays in before.values())
    loader = ModelLoader(settings.model_dir)
    assert loader.current() is not None

    _delete(db_engine, member)
    JobQueue(settings).tick()  # what `musicrec worker` runs once a minute

    after = [_arrays(store, name) for name in store.versions()]
    assert len(after) == len(before)
    assert not set(before) & set(store.versions())  # the originals are gone from the disk
    for old, new in zip(before.values(), after, strict=True):
        assert member not in new["user_ids"]
        kept = _ratings_by_user(old)
        del kept[member]
        assert _ratings_by_user(new) == kept  # everyone else's ratings exactly as trained
        rows = np.isin(old["user_ids"], new["user_ids"])
        np.testing.assert_array_equal(new["user_factors"], old["user_factors"][rows])
        np.testing.assert_array_equal(new["item_factors"], old["item_factors"])
    with db_engine.connect() as connection:
        erasure = connection.execute(select(Erasure)).one()
        assert erasure.user_id == member and erasure.applied_at is not None
    served = loader.current()  # the web serves the version without them from its next request
    assert served is not None and served.version == store.versions()[0]
    assert not served.model.has_user(member)
    assert served.recommend([1, 2], [9, 8], 3, exclude=[])


def test_a_version_published_after_the_deletion_is_caught_too(
    db_engine: Engine, settings: Settings, member: int
) -> None:
    """A training that read the ratings before the deletion publishes after it."""
    store = ModelStore(settings.model_dir)
    train_in_transaction(db_engine, settings.model_dir, factors=4, iterations=3)
    read_before = store.load(store.versions()[0]).model
    _delete(db_engine, member)
    JobQueue(settings).tick()

    late = store.publish(read_before, metrics={}, data_fingerprint="0" * 64)
    assert member in _arrays(store, late)["user_ids"]
    JobQueue(settings).tick()

    assert late not in store.versions()
    assert all(member not in _arrays(store, name)["user_ids"] for name in store.versions())


def test_deletion_removes_private_additions_and_imports_and_keeps_confirmed_artists(
    db_engine: Engine, member: int
) -> None:
    shelf = catalogue.Catalogue(PopularArtists())
    with transaction(db_engine) as session:
        private, _created = shelf.add(session, "Quillwort Ensemble", member)
        confirmed, _created = shelf.add(session, "Fennel Quartet", member)
        catalogue.confirm_additions(session, [confirmed.id])
        ratings.rate(session, member, private.id, 8)
        params = {"source": "spotify", "user_id": member}
        session.add(Job(kind="import", reason="spotify", params=params, user_id=member))

    _delete(db_engine, member)

    with db_engine.connect() as connection:
        ids = set(connection.execute(select(Artist.id)).scalars())
        assert private.id not in ids and confirmed.id in ids
        left = select(func.count()).select_from(Rating).where(Rating.user_id == member)
        assert connection.execute(left).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(Job)).scalar_one() == 0
