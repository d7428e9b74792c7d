"""Erase users from published model versions: their rows go, everyone else's stay as trained.

A version holds, per user, their id, factor vector (and bias, for explicit ALS) and training
ratings (a row of the CSR matrix). Erasing users drops those rows. What the training computed
from everyone at once (each artist's factors and bias, the global mean, BM25's statistics) is
kept until the next training: it names no user and no user's rating.

A published version never changes in place. The version without the users is written beside
it under the next name of the same second (``<time>-<fingerprint>-<n>``: it sorts right after
the original and before any newer version), renamed into place whole, then the original is
renamed out of the listing and deleted (``ModelStore``'s rules: a reader sees one complete
version or the other). Web workers serving the original load the new one at their next
request, as after any publish.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from musicrec.engine.artifacts import (
    ARRAYS,
    META,
    TEMP_PREFIX,
    ModelStore,
    _fsync_dir,
    _sort_key,
    _write_synced,
)

PER_USER = ("user_ids", "user_factors", "user_bias")  # indexed by the user's row
TRAINING_ROWS = ("train_indptr", "train_indices", "train_data")  # CSR, one row per user


def without_users(
    arrays: dict[str, np.ndarray], user_ids: Iterable[int]
) -> dict[str, np.ndarray] | None:
    """The arrays of a version with ``user_ids`` removed; None when it holds none of them."""
    unknown = [k for k in arrays if "user" in k and k not in PER_USER]
    if unknown:  # a per-user array this function does not know would keep the user
        raise ValueError(f"cannot erase users from the arrays {unknown}")
    ids = arrays["user_ids"]
    drop = np.isin(ids, np.fromiter(user_ids, dtype=np.int64))
    if not drop.any():
        return None
    keep = ~drop
    indptr = arrays["train_indptr"]
    lengths = np.diff(indptr)
    kept_entries = np.repeat(keep, lengths)  # each stored rating: is its user kept?
    out = dict(arrays)
    for key in PER_USER:
        if key in arrays:
            out[key] = arrays[key][keep]
    out["train_indptr"] = np.concatenate(([0], np.cumsum(lengths[keep]))).astype(indptr.dtype)
    out["train_indices"] = arrays["train_indices"][kept_entries]
    out["train_data"] = arrays["train_data"][kept_entries]
    return out


def versions_holding(store: ModelStore, user_ids: Iterable[int]) -> list[str]:
    """The complete versions whose users include any of ``user_ids``."""
    wanted = np.fromiter(user_ids, dtype=np.int64)
    found = []
    for name in store.versions():
        try:
            with np.load(store.directory / name / ARRAYS, allow_pickle=False) as data:
                held = data["user_ids"]  # reads this member only
        except FileNotFoundError:  # replaced or pruned meanwhile
            continue
        if np.isin(held, wanted).any():
            found.append(name)
    return found


def erase_users(
    store: ModelStore, user_ids: Iterable[int], now: datetime | None = None
) -> dict[str, str]:
    """Replace every version holding any of ``user_ids`` by one without them, oldest first
    (so that versions published in the same second keep their order); {old name: new name}."""
    ids = list(user_ids)
    replaced: dict[str, str] = {}
    for name in sorted(versions_holding(store, ids), key=_sort_key):
        new = _replace(store, name, ids, now or datetime.now(UTC))
        if new is not None:
            replaced[name] = new
    return replaced


def _replace(store: ModelStore, name: str, ids: list[int], now: datetime) -> str | None:
    original = store.directory / name
    try:
        meta = json.loads((original / META).read_text())
        with np.load(original / ARRAYS, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except FileNotFoundError:  # replaced or pruned by someone else meanwhile
        return None
    stripped = without_users(arrays, ids)
    if stripped is None:
        return None
    meta["n_users"] = int(stripped["user_ids"].size)
    meta["users_erased_at"] = now.astimezone(UTC).isoformat()
    temp = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=store.directory))
    try:
        _write_synced(temp / ARRAYS, lambda handle: np.savez(handle, **stripped))  # type: ignore[arg-type]
        _write_synced(temp / META, lambda handle: handle.write(json.dumps(meta, indent=2).encode()))
        _fsync_dir(temp)
        new = _rename_after(store.directory, temp, name)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    try:
        _remove_version(store.directory, name)
    except FileNotFoundError:  # another process replaced it first: its copy stands, not ours
        _remove_version(store.directory, new)
        return None
    return new


def _rename_after(directory: Path, temp: Path, name: str) -> str:
    """Rename ``temp`` to the first free name after every version of ``name``'s second."""
    stamp, fingerprint = name.split("-")[:2]
    taken = [_sort_key(n)[1] for n in os.listdir(directory) if n.startswith(stamp + "-")]
    first = max(taken, default=0) + 1
    for counter in range(first, first + 1000):
        new = f"{stamp}-{fingerprint}-{counter}"
        try:
            os.rename(temp, directory / new)  # onto a missing name only
        except OSError:
            if (directory / new).exists():
                continue
            raise
        _fsync_dir(directory)
        return new
    raise RuntimeError(f"too many versions named {stamp}-{fingerprint}")


def _remove_version(directory: Path, name: str) -> None:
    """Out of the listing at once (an atomic rename), then off the disk."""
    hidden = directory / f"{TEMP_PREFIX}erased-{name}"
    os.rename(directory / name, hidden)
    _fsync_dir(directory)
    shutil.rmtree(hidden)
