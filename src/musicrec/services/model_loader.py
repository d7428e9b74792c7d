"""Keep the newest published model loaded, and adapt it to what the services need.

Each request costs one ``stat`` of the model folder: publishing renames a new version into it,
which changes the folder's modification time, so a version published by ``musicrec train`` is
served from the next request on, without a restart. A version that fails to load is logged and
the one already loaded keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec.engine.artifacts import ModelStore
from musicrec.engine.model import FactorModel

log = logging.getLogger("musicrec.model_loader")
# Two publishes within one tick of the file system's clock leave the same modification time;
# listing again this often bounds how long such a second version can go unnoticed.
RELIST_SECONDS = 5.0
EXPLAIN = 3  # rated artists named in "because you rated ..."


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


class ModelLoader:
    """The newest complete model version in ``model_dir``, reloaded when a newer one appears."""

    def __init__(self, model_dir: Path) -> None:
        self.store = ModelStore(model_dir)
        self._loaded: LoadedModel | None = None
        self._seen: tuple[int, int] | None = None  # the folder's (mtime, inode) last listed
        self._listed_at = float("-inf")
        self._lock = threading.Lock()
        self._failed: str | None = None  # the newest version, when it failed to load

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

    def current(self) -> LoadedModel | None:
        state = self._folder_state()
        fresh = time.monotonic() - self._listed_at < RELIST_SECONDS
        if state is not None and state == self._seen and fresh:
            return self._loaded
        with self._lock:
            self._seen, self._listed_at = state, time.monotonic()
            names = self.store.versions()
            newest = names[0] if names else None
            if newest is not None and (self._loaded is None or self._loaded.version != newest):
                try:
                    loaded = self.store.load(newest)
                except Exception:  # noqa: BLE001 - a broken version must not stop serving
                    if self._failed != newest:  # logged once, not on every relisting
                        log.exception(
                            "could not load model version %s; keeping the current one", newest
                        )
                    self._failed = newest
                else:
                    self._failed = None
                    self._loaded = LoadedModel(loaded.version, loaded.model)
                    self._mark_served(newest)
                    log.info("serving model version %s", newest)
            return self._loaded
