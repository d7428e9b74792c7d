"""Model versions: atomic publish, listing, loading (old versions too), fingerprints."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from musicrec.engine import artifacts
from musicrec.engine.als import settings_for, train
from musicrec.engine.artifacts import ModelStore, ratings_fingerprint
from musicrec.engine.data import RatingMatrix
from musicrec.engine.settings import settings_to_json

NOW = datetime(2026, 11, 25, 1, 22, 33, tzinfo=UTC)


@pytest.fixture(params=["implicit", "explicit"])
def model(request: pytest.FixtureRequest, blocks_mixed: RatingMatrix):  # type: ignore[no-untyped-def]
    return train(blocks_mixed, settings_for(request.param, factors=3, iterations=5))


def test_publish_then_load_gives_the_same_recommendations(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(tmp_path / "models")
    assert store.versions() == [] and store.current() is None
    version = store.publish(model, metrics={"ndcg@10": 0.5}, data_fingerprint="ab" * 32, now=NOW)
    assert version == "20261125T012233Z-abababababab"
    assert store.versions() == [version]
    loaded = store.current()
    assert loaded is not None and loaded.version == version
    assert loaded.meta["metrics"] == {"ndcg@10": 0.5}
    assert loaded.meta["fingerprint"] == "ab" * 32
    assert loaded.meta["created_at"] == NOW.isoformat()
    assert loaded.model.recommend(1004, n=5) == model.recommend(1004, n=5)
    given = ([500, 520, 521], [9, 3, 10])
    assert loaded.model.recommend_for_ratings(*given) == model.recommend_for_ratings(*given)
    assert loaded.model.similar_artists(501) == model.similar_artists(501)


def test_versions_are_newest_first_and_same_second_publishes_are_distinct(
    tmp_path: Path,
    model,  # type: ignore[no-untyped-def]
) -> None:
    store = ModelStore(tmp_path)
    publish = lambda fp, now: store.publish(  # noqa: E731
        model, metrics={}, data_fingerprint=fp, now=now
    )
    first = publish("f" * 64, NOW)
    second = publish("0" * 64, NOW)  # same second, a fingerprint that sorts first
    third = publish("f" * 64, NOW)
    later = publish("1" * 64, NOW.replace(minute=30))
    assert len({first, second, third}) == 3
    assert store.versions() == [later, third, second, first]
    assert store.current().version == later  # type: ignore[union-attr]


def test_leftover_temp_dir_and_incomplete_version_are_ignored(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(tmp_path)
    good = store.publish(model, metrics={}, data_fingerprint="a" * 64, now=NOW)
    # a crash mid-write leaves a temp folder, even one that looks complete
    crashed = tmp_path / ".tmp-crashed"
    crashed.mkdir()
    (crashed / "meta.json").write_text("{}")
    (crashed / "arrays.npz").write_bytes(b"partial")
    # and a folder without its arrays is not a version either
    (tmp_path / "29991231T000000Z-bbbbbbbbbbbb").mkdir()
    (tmp_path / "29991231T000000Z-bbbbbbbbbbbb" / "meta.json").write_text("{}")
    assert store.versions() == [good]
    assert store.current().version == good  # type: ignore[union-attr]
    with pytest.raises(FileNotFoundError):
        store.load("29991231T000000Z-bbbbbbbbbbbb")


def test_failed_publish_leaves_current_unchanged_and_no_debris(
    tmp_path: Path,
    model,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    store = ModelStore(tmp_path)
    good = store.publish(model, metrics={}, data_fingerprint="a" * 64, now=NOW)

    def broken_fsync(_path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(artifacts, "_fsync_dir", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        store.publish(model, metrics={}, data_fingerprint="c" * 64)
    assert store.versions() == [good]
    assert sorted(p.name for p in tmp_path.iterdir()) == [good]


def test_unserialisable_metrics_fail_before_anything_is_visible(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(tmp_path)
    with pytest.raises(TypeError):
        store.publish(model, metrics={"x": object()}, data_fingerprint="d" * 64)
    assert store.versions() == [] and list(tmp_path.iterdir()) == []


def test_meta_is_plain_json(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    version = ModelStore(tmp_path).publish(
        model, metrics={"rmse": 1.0}, data_fingerprint="e" * 64, now=NOW
    )
    meta = json.loads((tmp_path / version / "meta.json").read_text())
    assert meta["kind"] == model.kind and meta["settings"] == settings_to_json(model.settings)


def test_a_version_published_with_a_params_dict_still_loads(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(tmp_path)
    version = store.publish(model, metrics={}, data_fingerprint="f" * 64, now=NOW)
    path = tmp_path / version / "meta.json"
    meta = json.loads(path.read_text())
    meta["params"] = meta.pop("settings")  # how versions were written before the settings classes
    path.write_text(json.dumps(meta))
    loaded = store.load(version)
    assert loaded.model.settings == model.settings
    assert loaded.meta["settings"] == settings_to_json(model.settings)
    assert store.meta(version)["settings"]["factors"] == 3
    given = ([500, 520, 521], [9, 3, 10])
    assert loaded.model.recommend_for_ratings(*given) == model.recommend_for_ratings(*given)


def test_fingerprint_is_sha256_of_the_arrays_and_sensitive_to_each() -> None:
    users, items, ratings = np.array([1, 2]), np.array([3, 4]), np.array([5.0, 6.0])
    value = ratings_fingerprint(users, items, ratings)
    assert len(value) == 64 and int(value, 16) >= 0
    assert value == ratings_fingerprint(users.astype(np.int32), items, ratings.astype(np.int16))
    assert value != ratings_fingerprint(users, items, np.array([5.0, 7.0]))
    assert value != ratings_fingerprint(items, users, ratings)
    assert value != ratings_fingerprint(users[:1], items[:1], ratings[:1])


def _publish_versions(store: ModelStore, model, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    """``count`` versions, one second apart, oldest first."""
    return [
        store.publish(
            model,
            metrics={},
            data_fingerprint="f" * 64,
            now=datetime(2026, 1, 1, 12, 0, second, tzinfo=UTC),
        )
        for second in range(count)
    ]


def test_prune_keeps_the_newest_and_every_served_version(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(tmp_path)
    names = _publish_versions(store, model, 7)
    served_elsewhere = tmp_path / artifacts.SERVING
    served_elsewhere.mkdir()
    (served_elsewhere / "another-host-123").write_text(names[0])  # a process on another host

    deleted = store.prune(keep=3)

    assert store.versions() == [names[6], names[5], names[4], names[0]]
    assert sorted(deleted) == sorted(names[1:4])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(artifacts.TEMP_PREFIX)]


def test_prune_keeps_at_least_one_version(tmp_path: Path, model) -> None:  # type: ignore[no-untyped-def]
    store = ModelStore(tmp_path)
    names = _publish_versions(store, model, 2)
    assert store.prune(keep=0) == [names[0]]
    assert store.versions() == [names[1]]


def test_a_live_process_marker_protects_its_version_and_a_dead_ones_does_not(
    tmp_path: Path,
    model,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = ModelStore(tmp_path)
    names = _publish_versions(store, model, 4)
    store.mark_served(names[0])  # this process, alive
    dead = tmp_path / artifacts.SERVING / f"{artifacts.socket.gethostname()}-999999999"
    dead.write_text(names[1])
    monkeypatch.setattr(artifacts, "_process_alive", lambda pid: pid != 999999999)

    assert store.served_versions() == {names[0]}
    assert not dead.exists()  # the exited process's marker is cleaned up
    store.prune(keep=1)
    assert store.versions() == [names[3], names[0]]
