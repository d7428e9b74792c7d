"""MUSICREC_MODEL_STORE=database: versions in the database, each node a cache folder of its own
(issue 22). Real databases (SQLite and PostgreSQL), real folders, real ModelLoaders."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, func, select, update

from musicrec.db import model_versions as rows
from musicrec.db.models import ModelChunk, ModelVersionRow
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import ARRAYS, ModelStore
from musicrec.services import model_loader as model_loader_module
from musicrec.services import model_store as model_store_module
from musicrec.services.model_loader import ModelLoader
from musicrec.services.model_store import ChecksumMismatch, DatabaseModels
from musicrec.services.training import train_and_publish
from tests.factories import seed_two_tastes

SERVED_WITHIN = 30.0  # seconds: the bound for a published version to reach every node


def _publish(engine: Engine, folder: Path, factors: int = 4) -> str:
    """A training on the worker's own folder, published to the database."""
    report = train_and_publish(
        engine, folder, "implicit", factors=factors, iterations=2, model_store="database"
    )
    return report.version


def _published(engine: Engine, worker: Path, count: int) -> list[str]:
    """Two tastes seeded, then ``count`` versions (4, 5... factors) published from ``worker``."""
    seed_two_tastes(engine)
    return [_publish(engine, worker, factors=4 + n) for n in range(count)]


def _node(engine: Engine, folder: Path) -> ModelLoader:
    return ModelLoader(folder, background=True, shared=DatabaseModels(engine, folder))


def _wait_for(loader: ModelLoader, version: str, timeout: float = SERVED_WITHIN) -> float:
    """Seconds until ``loader`` serves ``version`` (requests every 50 ms, as traffic would)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        loaded = loader.current()
        if loaded is not None and loaded.version == version:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{version} not served within {timeout} s")


def test_two_nodes_with_their_own_folders_serve_what_a_worker_publishes(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_loader_module, "REFRESH_SECONDS", 0.5)
    seed_two_tastes(db_engine)
    worker = tmp_path / "worker"
    first = _publish(db_engine, worker)
    nodes = [_node(db_engine, tmp_path / f"node{n}") for n in (1, 2)]

    # An empty cache: the first call fetches and serves before answering.
    assert [node.condition() for node in nodes] == ["ok", "ok"]
    assert [node.current().version for node in nodes] == [first, first]  # type: ignore[union-attr]

    second = _publish(db_engine, worker, factors=6)
    waits = [_wait_for(node, second) for node in nodes]

    assert second != first and max(waits) < SERVED_WITHIN
    published = ModelStore(worker).load(second).model
    for n, node in enumerate(nodes, start=1):
        served = node.current()
        assert served is not None
        assert np.array_equal(served.model.item_factors, published.item_factors)
        assert ModelStore(tmp_path / f"node{n}").versions()[0] == second
        assert not (tmp_path / f"node{n}" / "worker").exists()


def test_a_node_with_nothing_published_reports_missing(db_engine: Engine, tmp_path: Path) -> None:
    assert _node(db_engine, tmp_path / "node").condition() == "missing"


def test_a_half_written_version_is_never_fetched(db_engine: Engine, tmp_path: Path) -> None:
    seed_two_tastes(db_engine)
    worker = tmp_path / "worker"
    version = train_and_publish(db_engine, worker, "implicit", factors=4, iterations=2).version
    with transaction(db_engine) as session:  # an upload that died after its first chunk
        rows.start_version(session, version, "{}", "0" * 64, 10**6, 3)
        rows.add_chunk(session, version, 0, b"x" * 1000)

    node = _node(db_engine, tmp_path / "node")

    assert node.condition() == "missing"
    assert ModelStore(tmp_path / "node").versions() == []


def test_bytes_that_do_not_match_the_checksum_are_refused(
    db_engine: Engine, tmp_path: Path
) -> None:
    seed_two_tastes(db_engine)
    version = _publish(db_engine, tmp_path / "worker")
    with transaction(db_engine) as session:
        session.execute(
            update(ModelChunk)
            .where(ModelChunk.version == version, ModelChunk.seq == 0)
            .values(data=b"\0" * 64)
        )

    with pytest.raises(ChecksumMismatch):
        DatabaseModels(db_engine, tmp_path / "node").pull()
    assert ModelStore(tmp_path / "node").versions() == []
    assert not [p for p in (tmp_path / "node").iterdir() if p.name.startswith(".tmp-")]


def test_a_large_version_travels_in_chunks_and_arrives_intact(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_store_module, "CHUNK_BYTES", 64 * 1024)
    seed_two_tastes(db_engine, listeners=400, artists_per_taste=200)
    version = _publish(db_engine, tmp_path / "worker", factors=32)
    size = (tmp_path / "worker" / version / ARRAYS).stat().st_size

    DatabaseModels(db_engine, tmp_path / "node").pull()

    with transaction(db_engine) as session:
        chunks = session.execute(select(func.count()).select_from(ModelChunk)).scalar_one()
    assert chunks == -(-size // (64 * 1024)) and chunks > 3
    assert (tmp_path / "node" / version / ARRAYS).read_bytes() == (
        tmp_path / "worker" / version / ARRAYS
    ).read_bytes()


def test_pruning_keeps_the_newest_and_every_version_a_live_node_serves(
    db_engine: Engine, tmp_path: Path
) -> None:
    worker = tmp_path / "worker"
    versions = _published(db_engine, worker, 4)
    with transaction(db_engine) as session:
        rows.record_node(session, "other-host-1", "f" * 64, versions[0], utcnow())

    deleted = DatabaseModels(db_engine, worker, keep=2).prune()

    with transaction(db_engine) as session:
        left = set(session.execute(select(ModelVersionRow.name)).scalars())
    assert set(deleted) == {versions[1]}
    assert left == {versions[0], versions[2], versions[3]}


def test_a_dead_nodes_version_and_a_dead_upload_are_pruned(
    db_engine: Engine, tmp_path: Path
) -> None:
    worker = tmp_path / "worker"
    old, new = _published(db_engine, worker, 2)
    long_ago = utcnow().replace(year=2000)
    with transaction(db_engine) as session:
        rows.record_node(session, "gone-host-1", "f" * 64, old, long_ago)
        rows.start_version(session, "19990101T000000Z-dead", "{}", "0" * 64, 1, 1)
        session.execute(
            update(ModelVersionRow)
            .where(ModelVersionRow.name.like("1999%"))
            .values(created_at=long_ago)
        )

    DatabaseModels(db_engine, worker, keep=1).prune()

    with transaction(db_engine) as session:
        assert set(session.execute(select(ModelVersionRow.name)).scalars()) == {new}


def test_a_cache_drops_versions_the_database_no_longer_holds(
    db_engine: Engine, tmp_path: Path
) -> None:
    seed_two_tastes(db_engine)
    worker = tmp_path / "worker"
    first = _publish(db_engine, worker)
    cache = DatabaseModels(db_engine, tmp_path / "node")
    cache.pull()
    second = _publish(db_engine, worker, factors=6)
    with transaction(db_engine) as session:
        rows.delete_versions(session, [first])  # pruned, or replaced without an erased account

    assert cache.pull() == second
    assert ModelStore(tmp_path / "node").versions() == [second]


def test_an_erased_account_leaves_the_database_versions_and_every_cache(
    db_engine: Engine, tmp_path: Path
) -> None:
    from musicrec.db.models import User
    from musicrec.services.erasure import erase_account, erase_from_models

    worker = tmp_path / "worker"
    old = _published(db_engine, worker, 2)
    node_cache = DatabaseModels(db_engine, tmp_path / "node")
    node_cache.pull()
    with transaction(db_engine) as session:
        erased = session.execute(select(User.id).order_by(User.id)).scalars().first()
        assert erased is not None
        erase_account(session, erased)

    outcome = erase_from_models(db_engine, worker, "database")

    assert set(outcome.replaced) == set(old) and outcome.still_holding == []
    stored = DatabaseModels(db_engine, tmp_path / "fresh").stored()
    assert {v.name for v in stored} == set(outcome.replaced.values())
    node_cache.pull()
    fresh = DatabaseModels(db_engine, tmp_path / "fresh")
    fresh.pull(every=True)
    for folder in (tmp_path / "node", tmp_path / "fresh"):
        store = ModelStore(folder)
        assert store.versions() and not set(store.versions()) & set(old)
        for name in store.versions():
            assert erased not in store.load(name).model.users


@pytest.mark.slow
def test_a_realistic_version_of_over_100_mb_round_trips(db_engine: Engine, tmp_path: Path) -> None:
    """The Last.fm 360K scale (tests/realistic_model.py): about 130 MB in 8 MiB chunks."""
    from tests.realistic_model import add_realistic_catalogue, publish_realistic_model

    worker = tmp_path / "worker"
    version = publish_realistic_model(worker, add_realistic_catalogue(db_engine)[:100])
    size = (worker / version / ARRAYS).stat().st_size
    DatabaseModels(db_engine, worker).upload(version)

    node = _node(db_engine, tmp_path / "node")

    assert size > 100 * 1024 * 1024
    assert node.current() is not None and node.current().version == version  # type: ignore[union-attr]
    assert (tmp_path / "node" / version / ARRAYS).read_bytes() == (
        worker / version / ARRAYS
    ).read_bytes()
