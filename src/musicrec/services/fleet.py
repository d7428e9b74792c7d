"""The web nodes of one deployment, as the database sees them (the ``nodes`` table).

Each web process (``<host>-<pid>``) records, when it starts and then at most every
``HEARTBEAT`` while it serves requests, a fingerprint of the settings every node must share
(secret key, token key, public URL, model store) and the model version it serves. A node seen
within ``LIVE`` counts as live: pruning the database's model versions keeps the ones live nodes
serve, and in production a node whose fingerprint differs from a live node's refuses to start
(tokens signed by one would be refused by the other, mail links would point elsewhere...).

The fingerprint is a sha256 of those settings: it tells whether they are equal, not what they
are (the secret keys are random and long, so the hash reveals nothing guessable).
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import socket
import threading
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from musicrec.config import ConfigurationError, Settings
from musicrec.db import model_versions as rows
from musicrec.db.session import read_transaction, transaction
from musicrec.db.types import utcnow

log = logging.getLogger("musicrec.fleet")

HEARTBEAT = timedelta(seconds=30)
LIVE = timedelta(minutes=2)  # a node not seen for this long is taken for stopped
FORGET = timedelta(days=1)  # rows of nodes not seen for this long are deleted


def node_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def settings_fingerprint(settings: Settings) -> str:
    """A digest of the settings every node of a deployment must share."""
    shared = (
        settings.secret_key,
        settings.spotify.token_key,
        settings.public_url.rstrip("/"),
        settings.model_store,
    )
    digest = hashlib.sha256(b"musicrec fleet settings v1")
    for value in shared:
        encoded = value.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    return digest.hexdigest()


def served_versions(session: Session, now: datetime | None = None) -> set[str]:
    """The model versions live nodes serve."""
    since = (now or utcnow()) - LIVE
    return {version for _name, _fp, version in rows.live_nodes(session, since) if version}


class FleetNode:
    """This process in the ``nodes`` table."""

    def __init__(self, engine: Engine, settings: Settings, name: str | None = None) -> None:
        self.engine = engine
        self.name = name or node_name()
        self.fingerprint = settings_fingerprint(settings)
        self.enforce = settings.is_production
        self._lock = threading.Lock()
        self._beaten: tuple[str | None, datetime] | None = None  # (version, when) last written

    def join(self) -> None:
        """Record this node; in production, refuse (ConfigurationError) when a live node runs
        with other shared settings, elsewhere only warn. A database that does not answer is
        logged, not fatal: the app starts as before (answering 503), nothing to compare."""
        try:
            self._join()
        except DBAPIError:
            log.warning("the database did not answer: node %s not recorded yet", self.name)

    def _join(self) -> None:
        now = utcnow()
        with transaction(self.engine) as session:
            others = [
                name
                for name, fingerprint, _version in rows.live_nodes(session, now - LIVE)
                if name != self.name and fingerprint != self.fingerprint
            ]
            if others and self.enforce:
                raise ConfigurationError(
                    f"live node(s) {', '.join(sorted(others))} run with other shared settings "
                    "(MUSICREC_SECRET_KEY, MUSICREC_TOKEN_KEY, MUSICREC_PUBLIC_URL or "
                    "MUSICREC_MODEL_STORE): every node must share them. Fix the settings, or "
                    f"stop those nodes and start this one again ({LIVE.seconds // 60} minutes "
                    "after a node died without stopping)."
                )
            if others:
                log.warning("nodes %s run with other shared settings", sorted(others))
            rows.record_node(session, self.name, self.fingerprint, None, now)
            rows.forget_nodes_before(session, now - FORGET)
        self._beaten = (None, now)
        if self.name == node_name():  # this process: leave the table when it exits
            atexit.register(self.leave)

    def beat(self, version: str | None) -> None:
        """Record the version served; written when it changed or ``HEARTBEAT`` passed."""
        now = utcnow()
        with self._lock:
            if self._beaten is not None:
                last_version, at = self._beaten
                if last_version == version and now - at < HEARTBEAT:
                    return
            self._beaten = (version, now)
        with transaction(self.engine) as session:
            rows.record_node(session, self.name, self.fingerprint, version, now)

    def leave(self) -> None:
        """Forget this node (a clean stop), so a restart with new settings is not refused."""
        try:
            with transaction(self.engine) as session:
                rows.forget_node(session, self.name)
        except Exception:  # noqa: BLE001 - at exit: the row expires on its own
            log.info("could not remove node %s from the nodes table", self.name)

    def live(self) -> list[str]:
        with read_transaction(self.engine) as session:
            return [name for name, _fp, _v in rows.live_nodes(session, utcnow() - LIVE)]
