"""Model versions as the web loads them (issue 19): a corrupt newest version is remembered as
bad, not read again every few seconds on the request path, and retried after a backoff or
when a newer version appears; a newer version is read in the background while callers keep
the current one, then swapped in."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from musicrec.engine.artifacts import ModelStore, ModelVersion
from musicrec.services import model_loader
from musicrec.services.model_loader import ModelLoader
from tests.factories import seed_two_tastes, train_in_transaction
from tests.realistic_model import publish_realistic_model

pytestmark = [pytest.mark.fault]
CALLS = 20


def _corrupt_newer_version(models: Path) -> str:
    name = "29991231T235959Z-ffffffffffff"
    (models / name).mkdir()
    (models / name / "meta.json").write_text("{not json")
    (models / name / "arrays.npz").write_bytes(b"not a numpy archive")
    return name


def _count_reads(loader: ModelLoader) -> list[str]:
    """The versions ``loader`` reads from disk, in order (its store's ``load`` still runs)."""
    reads: list[str] = []
    load = loader.store.load

    def counted(version: str) -> ModelVersion:
        reads.append(version)
        return load(version)

    loader.store.load = counted  # type: ignore[method-assign]
    return reads


def test_a_corrupt_version_is_read_once_then_only_after_a_backoff_or_a_newer_one(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_two_tastes(db_engine)
    models = tmp_path / "models"
    first = train_in_transaction(db_engine, models, factors=4, iterations=2)
    monkeypatch.setattr(model_loader, "RELIST_SECONDS", 0.0)  # every call lists the folder
    monkeypatch.setattr(model_loader, "BAD_RETRY_SECONDS", 0.5, raising=False)
    loader = ModelLoader(models)
    reads = _count_reads(loader)
    assert loader.current().version == first.version  # type: ignore[union-attr]
    corrupt = _corrupt_newer_version(models)

    served = {loader.current().version for _ in range(CALLS)}  # type: ignore[union-attr]
    assert served == {first.version}
    assert reads == [first.version, corrupt]  # not once per call

    time.sleep(0.6)  # the backoff is over: tried once more
    assert loader.current().version == first.version  # type: ignore[union-attr]
    assert reads.count(corrupt) == 2

    ModelStore(models).prune(keep=0)  # nothing left but the served version and the corrupt one
    newer = publish_realistic_model(models, [1, 2, 3])  # named after now: older than "2999"
    assert loader.current().version == first.version  # type: ignore[union-attr]
    assert newer not in reads  # the corrupt one is still the newest: nothing else is read


def test_a_newer_version_is_read_in_the_background_and_swapped_in(
    db_engine: Engine, tmp_path: Path
) -> None:
    artists, _ = seed_two_tastes(db_engine)
    models = tmp_path / "models"
    first = train_in_transaction(db_engine, models, factors=4, iterations=2)
    loader = ModelLoader(models, background=True)  # type: ignore[call-arg]
    assert loader.current().version == first.version  # type: ignore[union-attr]

    newer = publish_realistic_model(models, artists)
    started = time.monotonic()
    right_after = loader.current()
    returned_in = time.monotonic() - started

    assert right_after is not None and right_after.version == first.version
    assert returned_in < 0.05  # the caller did not read the new arrays
    deadline = time.monotonic() + 30
    while loader.current().version != newer:  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "the newer version was never swapped in"
        time.sleep(0.05)
    assert loader.current().recommend(artists[:2], [9, 8], 3, exclude=[])  # type: ignore[union-attr]
