"""Model versions shared through the app's database (``MUSICREC_MODEL_STORE=database``).

Nodes on different machines share no folder, so a published version is copied into the
database and every node keeps a local cache of it in its own ``MUSICREC_MODEL_DIR``: that
folder keeps ``engine.artifacts.ModelStore``'s layout, and the model loader reads it as before.

- **Publish** (``upload``): the engine writes the version into the publisher's folder; its
  ``arrays.npz`` is hashed (sha256) with no transaction open, then copied in chunks of
  ``CHUNK_BYTES``, one short transaction each, under a version row marked incomplete; the row
  is marked complete last. A node lists and fetches complete versions only, so it never sees
  half a version, and writers are never kept waiting behind one long transaction (SQLite).
- **Fetch** (``pull``): a node whose cache lacks the newest complete version reads its chunks
  one short read transaction each into a hidden folder, checks size and sha256, then renames it
  into place (atomic). One process per cache folder fetches at a time (a file lock); the others
  find it done. A version deleted while being read is given up and the next pull starts over.
- **Prune**: all but the newest ``keep`` versions go, never one a live node serves (the
  ``nodes`` table, ``services.fleet``), and uploads that died long ago.
- **Cache**: versions the database no longer holds (pruned, or replaced without an erased
  account) leave each node's cache once it serves something newer.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from musicrec.db import model_versions as rows
from musicrec.db.session import read_transaction, transaction
from musicrec.db.types import utcnow
from musicrec.engine.artifacts import (
    ARRAYS,
    DEFAULT_KEEP,
    META,
    ModelStore,
    newest_first,
    write_synced,
)
from musicrec.services.fleet import served_versions

log = logging.getLogger("musicrec.model_store")

FOLDER, DATABASE = "folder", "database"
MODEL_STORES = (FOLDER, DATABASE)
CHUNK_BYTES = 8 * 1024 * 1024  # one row of model_chunks: small for PostgreSQL and SQLite alike
LOCK_FILE = ".pull.lock"
LOCK_WAIT_SECONDS = 600.0  # another process of this node fetching a very large version
# An upload still incomplete after this long died (its process crashed): pruned.
STALE_UPLOAD = timedelta(hours=1)


class VersionGone(RuntimeError):
    """The version was deleted from the database while it was being read."""


class ChecksumMismatch(RuntimeError):
    """The bytes read are not the bytes published."""


class DatabaseModels:
    """The database's model versions, cached in the local folder ``model_dir``."""

    def __init__(self, engine: Engine, model_dir: Path, keep: int = DEFAULT_KEEP) -> None:
        self.engine = engine
        self.local = ModelStore(model_dir)
        self.keep = max(1, keep)

    # -- publishing --------------------------------------------------------------------------

    def upload(self, version: str) -> None:
        """Copy a version of the local folder into the database (complete only at the end)."""
        folder = self.local.directory / version
        meta = (folder / META).read_text()
        arrays = folder / ARRAYS
        digest, size = _sha256_of(arrays)
        chunks = max(1, -(-size // CHUNK_BYTES))
        with transaction(self.engine) as session:
            rows.start_version(session, version, meta, digest, size, chunks)
        try:
            with arrays.open("rb") as handle:
                for seq in range(chunks):
                    data = handle.read(CHUNK_BYTES)
                    with transaction(self.engine) as session:
                        rows.add_chunk(session, version, seq, data)
            with transaction(self.engine) as session:
                rows.complete_version(session, version)
        except BaseException:
            with transaction(self.engine) as session:
                rows.delete_versions(session, [version])
            raise
        log.info("model version %s stored in the database (%d bytes)", version, size)

    def replace(self, old: str, new: str) -> None:
        """Upload ``new`` (a local version), then delete ``old`` from the database."""
        self.upload(new)
        with transaction(self.engine) as session:
            rows.delete_versions(session, [old])

    def prune(self, keep: int | None = None) -> list[str]:
        """Delete all but the newest ``keep`` complete versions, never one a live node serves,
        and uploads that died; the complete versions deleted."""
        keep = self.keep if keep is None else max(1, keep)
        with read_transaction(self.engine) as session:
            names = newest_first([v.name for v in rows.complete_versions(session)])
            served = served_versions(session)
            dead = rows.incomplete_before(session, utcnow() - STALE_UPLOAD)
        doomed = [name for name in names[keep:] if name not in served]
        with transaction(self.engine) as session:
            rows.delete_versions(session, doomed + dead)
        return doomed

    # -- fetching ----------------------------------------------------------------------------

    def stored(self) -> list[rows.StoredVersion]:
        """The complete versions in the database, newest first."""
        with read_transaction(self.engine) as session:
            found = {v.name: v for v in rows.complete_versions(session)}
        return [found[name] for name in newest_first(list(found))]

    def pull(self, every: bool = False) -> str | None:
        """Bring the newest complete version (``every``: all of them) into the local cache, and
        drop cached versions the database no longer holds; the newest version's name."""
        stored = self.stored()
        if not stored:
            return None
        wanted = stored if every else stored[:1]
        with self._fetch_lock():
            have = set(self.local.versions())
            for version in wanted:
                if version.name not in have:
                    try:
                        self._fetch(version)
                    except VersionGone:
                        log.info("model version %s went while being fetched", version.name)
            self._drop_cached_beyond(stored)
        return stored[0].name

    def _fetch(self, version: rows.StoredVersion) -> None:
        staged = self.local.staging()
        try:
            digest = hashlib.sha256()
            size = 0
            with (staged / ARRAYS).open("wb") as handle:
                for seq in range(version.chunks):
                    with read_transaction(self.engine) as session:
                        data = rows.chunk(session, version.name, seq)
                    if data is None:
                        raise VersionGone(version.name)
                    digest.update(data)
                    size += len(data)
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if size != version.size or digest.hexdigest() != version.sha256:
                raise ChecksumMismatch(
                    f"model version {version.name}: read {size} bytes with sha256 "
                    f"{digest.hexdigest()}, published {version.size} with {version.sha256}"
                )
            json.loads(version.meta)  # refuse a version whose metadata is not JSON
            write_synced(staged / META, lambda f: f.write(version.meta.encode()))
        except BaseException:
            _remove_tree(staged)
            raise
        if self.local.install(staged, version.name):
            log.info("model version %s fetched from the database", version.name)

    def _drop_cached_beyond(self, stored: list[rows.StoredVersion]) -> None:
        """Remove cached versions older than the newest stored one that the database no longer
        holds, unless a process of this node serves them (it moves on at its next request)."""
        names = {v.name for v in stored}
        newest = stored[0].name
        served = self.local.served_versions()
        for name in self.local.versions():
            if name in names or name in served:
                continue
            if newest_first([name, newest])[0] == newest:
                self.local.remove(name)

    @contextmanager
    def _fetch_lock(self) -> Iterator[None]:
        """One fetching process per cache folder; waiting sleeps (cooperatively under gevent)."""
        self.local.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.local.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise TimeoutError("another process keeps fetching a model") from None
                    time.sleep(0.1)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _sha256_of(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def shared_models(
    model_store: str, engine: Engine, model_dir: Path, keep: int = DEFAULT_KEEP
) -> DatabaseModels | None:
    """The database store when ``model_store`` is "database"; None for the shared folder."""
    if model_store not in MODEL_STORES:
        raise ValueError(f"unknown model store {model_store!r}; use one of {MODEL_STORES}")
    return DatabaseModels(engine, model_dir, keep) if model_store == DATABASE else None
