"""Keep the newest published model loaded, and adapt it to what the services need.

Each request costs one ``stat`` of the model folder: publishing renames a new version into it,
which changes the folder's modification time, so a version published by ``musicrec train`` is
served soon after, without a restart. A version that fails to load is logged, remembered as
bad and tried again only after a backoff (``BAD_RETRY_SECONDS``, doubling) or when a newer one
appears; the one already loaded keeps serving.

With ``background=True`` (the web app's loader) a newer version is read (``np.load``) in an OS
thread while requests keep using the current one, which is then swapped for it by reference;
only the very first load, with nothing to serve yet, happens in the caller.

With ``shared`` (``MUSICREC_MODEL_STORE=database``) the folder is this node's cache: every
``REFRESH_SECONDS`` a request starts, off its path, a fetch of the database's newest version
into it (``services.model_store``), which the folder's change then brings in as above; while
nothing is served yet the fetch happens in the caller, so a node that starts with an empty
cache serves the current version before its health check answers "ok". With ``node``
(``services.fleet``) the same refresh records the version this process serves.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from musicrec.engine.artifacts import ModelStore
from musicrec.engine.model import FactorModel

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from musicrec.config import Settings
    from musicrec.services.fleet import FleetNode
    from musicrec.services.model_store import DatabaseModels

log = logging.getLogger("musicrec.model_loader")
# Two publishes within one tick of the file system's clock leave the same modification time;
# listing again this often bounds how long such a second version can go unnoticed.
RELIST_SECONDS = 5.0
BAD_RETRY_SECONDS = 60.0  # a version that failed to load is tried again after this, doubling
BAD_RETRY_MAX_SECONDS = 3600.0
EXPLAIN = 3  # rated artists named in "because you rated ..."
REFRESH_SECONDS = 5.0  # how often the database store is asked for a newer version


@dataclass(frozen=True)
class LoadedModel:
    version: str
    model: FactorModel

    def recommend(
        self,
        rated: list[int],
        values: list[int],
        n: int,
        exclude: Iterable[int],
        *,
        disliked: Iterable[int] = (),
        discovery: float = 0.0,
    ) -> list[tuple[int, float, list[int]]]:
        """(artist id, score, because) for a user folded in from their current ratings and
        "not for me" artists; empty when none of their rated artists is known to the model."""
        known = self.model.items.indices(np.asarray(rated, dtype=np.int64)) >= 0
        if not known.any():
            return []
        found = self.model.recommend_for_ratings(
            rated,
            values,
            n,
            exclude=exclude,
            explain=EXPLAIN,
            disliked=sorted(disliked),
            discovery=discovery,
        )
        return [(r.artist_id, r.score, list(r.because)) for r in found]

    def similar(self, artist_id: int, n: int) -> list[int]:
        if artist_id not in self.model.items:
            return []
        return [other for other, _score in self.model.similar_artists(artist_id, n)]


@dataclass(frozen=True)
class _BadVersion:
    failures: int
    retry_at: float  # time.monotonic()


def run_cooperatively(work: Callable[[], None]) -> None:
    """Run ``work`` (database I/O, little CPU at a time) beside the requests: a greenlet under
    a monkey-patched gevent server (its socket waits yield), else a daemon thread."""
    try:
        from gevent import monkey, spawn
    except ImportError:  # pragma: no cover - gevent is a dependency
        monkey = None
    if monkey is not None and monkey.is_module_patched("socket"):
        spawn(work)
    else:
        threading.Thread(target=work, name="model-refresh", daemon=True).start()


def run_off_the_event_loop(work: Callable[[], None]) -> None:
    """Run ``work`` in an OS thread: gevent's thread pool under a monkey-patched gevent server
    (a greenlet would block every request while NumPy reads), else a daemon thread."""
    try:
        from gevent import get_hub, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        monkey = None
    if monkey is not None and monkey.is_module_patched("threading"):
        get_hub().threadpool.spawn(work)
    else:
        threading.Thread(target=work, name="model-loader", daemon=True).start()


class ModelLoader:
    """The newest complete model version in ``model_dir``, reloaded when a newer one appears
    (in the background with ``background=True``)."""

    def __init__(
        self,
        model_dir: Path,
        background: bool = False,
        *,
        shared: DatabaseModels | None = None,
        node: FleetNode | None = None,
    ) -> None:
        self.store = ModelStore(model_dir)
        self.background = background
        self.shared = shared
        self.node = node
        self._refreshed_at = float("-inf")
        self._refreshing = False
        self._refresh_lock = threading.Lock()
        self._loaded: LoadedModel | None = None
        self._seen: tuple[int, int] | None = None  # the folder's (mtime, inode) last listed
        self._listed_at = float("-inf")
        self._lock = threading.Lock()
        self._failed: str | None = None  # the newest version, when it failed to load
        self._bad: dict[str, _BadVersion] = {}
        self._loading: str | None = None  # the version an OS thread is reading
        # What that thread read: (version, model or the error), taken by the next caller.
        self._ready: tuple[str, LoadedModel | BaseException] | None = None

    def condition(self) -> str:
        """ "ok" while a model serves, else "corrupt" if the newest version failed to load,
        "missing" if there is none."""
        if self.current() is not None:
            return "ok"
        return "corrupt" if self._failed is not None else "missing"

    def _mark_served(self, version: str) -> None:
        try:
            self.store.mark_served(version)
        except OSError:  # a read-only model folder: serving goes on, pruning is not protected
            log.warning("could not mark model version %s as served", version)

    def _folder_state(self) -> tuple[int, int] | None:
        try:
            status = os.stat(self.store.directory)
        except FileNotFoundError:
            return None
        return status.st_mtime_ns, status.st_ino

    def _read(self, version: str) -> LoadedModel:
        loaded = self.store.load(version)
        return LoadedModel(loaded.version, loaded.model)

    def _settle(self, version: str, outcome: LoadedModel | BaseException) -> None:
        """Serve what was read, or remember the version as bad (logged once per backoff)."""
        if isinstance(outcome, LoadedModel):
            self._bad.pop(version, None)
            self._failed = None
            self._loaded = outcome
            self._mark_served(version)
            self._refreshed_at = float("-inf")  # tell the nodes table at the next request
            log.info("serving model version %s", version)
            return
        failures = self._bad[version].failures + 1 if version in self._bad else 1
        wait = min(BAD_RETRY_SECONDS * 2 ** (failures - 1), BAD_RETRY_MAX_SECONDS)
        self._bad[version] = _BadVersion(failures, time.monotonic() + wait)
        self._failed = version
        log.error(
            "could not load model version %s (failure %s; next try in %.0f s unless a newer "
            "one appears); keeping the current one",
            version,
            failures,
            wait,
            exc_info=outcome,
        )

    def _take_ready(self) -> None:
        ready, self._ready = self._ready, None
        if ready is not None:
            self._loading = None
            self._settle(*ready)
            self._listed_at = float("-inf")  # a newer one may have come meanwhile

    def _start_reading(self, version: str) -> None:
        self._loading = version

        def work() -> None:
            outcome: LoadedModel | BaseException
            try:
                outcome = self._read(version)
            except Exception as error:  # noqa: BLE001 - settled (logged) by the next caller
                outcome = error
            self._ready = (version, outcome)

        run_off_the_event_loop(work)

    def _wanted(self, names: list[str]) -> str | None:
        """The newest version, when it should be (re)loaded now."""
        newest = names[0] if names else None
        if newest is None or (self._loaded is not None and self._loaded.version == newest):
            return None
        bad = self._bad.get(newest)
        if bad is not None and time.monotonic() < bad.retry_at:
            self._failed = newest
            return None
        return newest

    def _refresh(self) -> None:
        """Fetch the database's newest version into the cache; record what this process
        serves. A failure (the database away) is logged and tried again later."""
        try:
            if self.shared is not None:
                self.shared.pull()
            if self.node is not None:
                loaded = self._loaded
                self.node.beat(loaded.version if loaded else None)
        except Exception:  # noqa: BLE001 - serving goes on with what the cache holds
            log.exception("could not refresh the model cache from the database")
        finally:
            self._refreshing = False

    def _maybe_refresh(self) -> None:
        if self.shared is None and self.node is None:
            return
        with self._refresh_lock:
            if self._refreshing or time.monotonic() - self._refreshed_at < REFRESH_SECONDS:
                return
            self._refreshing, self._refreshed_at = True, time.monotonic()
        if self._loaded is None:  # nothing to serve meanwhile: fetch before answering
            self._refresh()
            self._listed_at = float("-inf")
        else:
            run_cooperatively(self._refresh)

    def current(self) -> LoadedModel | None:
        self._maybe_refresh()
        if self._ready is not None:
            with self._lock:
                self._take_ready()
        state = self._folder_state()
        fresh = time.monotonic() - self._listed_at < RELIST_SECONDS
        if state is not None and state == self._seen and fresh:
            return self._loaded
        with self._lock:
            self._seen, self._listed_at = state, time.monotonic()
            if self._loading is not None:
                return self._loaded
            wanted = self._wanted(self.store.versions())
            if wanted is None:
                return self._loaded
            if self.background and self._loaded is not None:
                self._start_reading(wanted)
                return self._loaded
            try:
                outcome: LoadedModel | BaseException = self._read(wanted)
            except Exception as error:  # noqa: BLE001 - a broken version must not stop serving
                outcome = error
            self._settle(wanted, outcome)
            return self._loaded


def web_model_loader(settings: Settings, engine: Engine) -> ModelLoader:
    """The web process's loader: with ``MUSICREC_MODEL_STORE=database`` its folder is a cache
    of the database's versions; with that store or in production the process joins the nodes
    table (``services.fleet``), which refuses to start it (ConfigurationError) in production
    when a live node runs with other shared settings."""
    from musicrec.services.fleet import FleetNode
    from musicrec.services.model_store import shared_models

    shared = shared_models(settings.model_store, engine, settings.model_dir, settings.keep_models)
    node = None
    if shared is not None or settings.is_production:
        node = FleetNode(engine, settings)
        node.join()
    return ModelLoader(settings.model_dir, background=True, shared=shared, node=node)
