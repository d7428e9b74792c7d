"""Published model versions in a directory, written atomically.

Each version is a folder ``<UTC time>-<short fingerprint>[-n]`` holding ``arrays.npz`` (factors,
id maps, training ratings) and ``meta.json`` (kind, settings, metrics, fingerprint, created_at;
versions published before the settings classes name them ``params``, and still load).
``publish`` writes everything into a hidden temporary folder inside the store, fsyncs it, then
``os.rename``s it to its final name: a rename within one file system is atomic, so a reader
sees either no version or a complete one, and a crash mid-write leaves only a ``.tmp-*``
folder that listing ignores. The newest complete version (names sort by time) is current.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from musicrec.engine.als import model_from_arrays
from musicrec.engine.model import FactorModel
from musicrec.engine.settings import settings_from_json, settings_to_json

ARRAYS = "arrays.npz"
META = "meta.json"
TEMP_PREFIX = ".tmp-"
SERVING = ".serving"  # one marker file per serving process: <host>-<pid> holding its version
DEFAULT_KEEP = 5


def ratings_fingerprint(user_ids: np.ndarray, item_ids: np.ndarray, ratings: np.ndarray) -> str:
    """sha256 over the three arrays (as int64, int64, float64, in the order given)."""
    digest = hashlib.sha256()
    for array, dtype in ((user_ids, np.int64), (item_ids, np.int64), (ratings, np.float64)):
        data = np.ascontiguousarray(np.asarray(array, dtype=dtype))
        digest.update(str(data.size).encode())
        digest.update(data.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelVersion:
    """A loaded version: its name, the model and its metadata."""

    version: str
    model: FactorModel
    meta: dict[str, Any]


class ModelStore:
    """Versions of trained models under one directory."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)

    def _is_complete(self, path: Path) -> bool:
        return (
            path.is_dir()
            and not path.name.startswith(".")
            and (path / META).is_file()
            and (path / ARRAYS).is_file()
        )

    def versions(self) -> list[str]:
        """Names of complete versions, newest first."""
        if not self.directory.is_dir():
            return []
        names = [p.name for p in self.directory.iterdir() if self._is_complete(p)]
        return sorted(names, key=_sort_key, reverse=True)

    def publish(
        self,
        model: FactorModel,
        *,
        metrics: dict[str, Any],
        data_fingerprint: str,
        now: datetime | None = None,
    ) -> str:
        """Write a new version (the model, its settings, ``metrics``) atomically and return
        its name."""
        self.directory.mkdir(parents=True, exist_ok=True)
        created = (now or datetime.now(UTC)).astimezone(UTC)
        stem = f"{created.strftime('%Y%m%dT%H%M%SZ')}-{data_fingerprint[:12]}"
        meta = {
            "kind": model.kind,
            "settings": settings_to_json(model.settings),
            "metrics": metrics,
            "fingerprint": data_fingerprint,
            "created_at": created.isoformat(),
            "n_users": len(model.users),
            "n_items": len(model.items),
        }
        temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.directory))
        try:
            arrays = model.arrays()
            _write_synced(temp / ARRAYS, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]
            _write_synced(temp / META, lambda f: f.write(json.dumps(meta, indent=2).encode()))
            _fsync_dir(temp)
            # Same-second publishes get a counter after the newest one of that second, so
            # name order is publication order even when fingerprints differ.
            stamp = stem.split("-")[0]
            same_second = [
                _sort_key(n)[1] for n in os.listdir(self.directory) if n.startswith(stamp + "-")
            ]
            first = max(same_second) + 1 if same_second else 0
            for attempt in range(first, first + 1000):
                name = stem if attempt == 0 else f"{stem}-{attempt}"
                try:
                    # rename onto a missing name; an existing version makes it fail, never merge
                    os.rename(temp, self.directory / name)
                except OSError:
                    if (self.directory / name).exists():
                        continue
                    raise
                _fsync_dir(self.directory)
                return name
            raise RuntimeError(f"too many versions named {stem}")
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

    def meta(self, version: str) -> dict[str, Any]:
        """The metadata of one complete version, without loading its arrays."""
        path = self.directory / version
        if not self._is_complete(path):
            raise FileNotFoundError(f"no complete model version {version!r} in {self.directory}")
        meta: dict[str, Any] = json.loads((path / META).read_text())
        if "settings" not in meta and "params" in meta:  # published before the settings classes
            meta["settings"] = meta.pop("params")
        return meta

    def load(self, version: str) -> ModelVersion:
        """Load one complete version by name (FileNotFoundError if absent or incomplete)."""
        meta = self.meta(version)
        with np.load(self.directory / version / ARRAYS, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        model = model_from_arrays(arrays, settings_from_json(meta["settings"]))
        return ModelVersion(version, model, meta)

    def mark_served(self, version: str) -> None:
        """Record that this process serves ``version``, so pruning never deletes it."""
        folder = self.directory / SERVING
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / f"{socket.gethostname()}-{os.getpid()}"
        temp = marker.with_name(f"{TEMP_PREFIX}{marker.name}")
        temp.write_text(version)
        os.replace(temp, marker)

    def served_versions(self) -> set[str]:
        """Versions some live process serves; markers of exited local processes are removed."""
        folder = self.directory / SERVING
        if not folder.is_dir():
            return set()
        host, served = socket.gethostname(), set()
        for marker in folder.iterdir():
            if marker.name.startswith(TEMP_PREFIX):
                continue
            marker_host, _, pid = marker.name.rpartition("-")
            if marker_host == host and pid.isdigit() and not _process_alive(int(pid)):
                marker.unlink(missing_ok=True)
                continue
            try:
                served.add(marker.read_text().strip())
            except FileNotFoundError:
                continue
        return served

    def prune(self, keep: int = DEFAULT_KEEP) -> list[str]:
        """Delete all but the newest ``keep`` versions (at least one), never one being served;
        returns the names deleted. Each goes by an atomic rename out of the listing first."""
        protected = self.served_versions()
        doomed = [name for name in self.versions()[max(keep, 1) :] if name not in protected]
        for name in doomed:
            hidden = self.directory / f"{TEMP_PREFIX}pruned-{name}"
            os.rename(self.directory / name, hidden)
            shutil.rmtree(hidden, ignore_errors=True)
        return doomed

    def current(self) -> ModelVersion | None:
        """The newest complete version, or None when nothing was published."""
        names = self.versions()
        return self.load(names[0]) if names else None

    def staging(self) -> Path:
        """A new hidden folder in the store (listing ignores it) to fill before ``install``."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=self.directory))

    def install(self, staged: Path, name: str) -> bool:
        """Rename a filled ``staged`` folder (``ARRAYS`` and ``META``, written with
        ``write_synced``) into place as version ``name``, atomically; False, and ``staged``
        removed, when a version of that name is already there."""
        _fsync_dir(staged)
        try:
            os.rename(staged, self.directory / name)  # onto a missing name only
        except OSError:
            shutil.rmtree(staged, ignore_errors=True)
            if (self.directory / name).exists():
                return False
            raise
        _fsync_dir(self.directory)
        return True

    def remove(self, name: str) -> None:
        """Delete one version: out of the listing at once (an atomic rename), then the files."""
        hidden = self.directory / f"{TEMP_PREFIX}removed-{name}"
        try:
            os.rename(self.directory / name, hidden)
        except FileNotFoundError:
            return
        shutil.rmtree(hidden, ignore_errors=True)


def newest_first(names: list[str]) -> list[str]:
    """Version names ordered as ``ModelStore.versions`` lists them: newest first."""
    return sorted(names, key=_sort_key, reverse=True)


def write_synced(path: Path, write: Any) -> None:
    """Write a file through ``write(handle)`` and fsync it."""
    _write_synced(path, write)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _sort_key(name: str) -> tuple[str, int]:
    """Sort by time stamp, then by the same-second counter suffix (-1, -2, ...)."""
    parts = name.split("-")
    counter = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
    return (parts[0], counter)


def _write_synced(path: Path, write: Any) -> None:
    with open(path, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
