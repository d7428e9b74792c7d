"""Serve the app under gunicorn, the production WSGI server."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication

from musicrec.web.server_limits import ServerLimits

WORKER_CLASS = "gevent"
# gunicorn's stock gevent worker with a per-address cap and a body deadline (server_limits.py)
GEVENT_WORKER = "musicrec.web.gevent_worker.LimitedGeventWorker"
ACCESS_LOGGER = "musicrec.web.access_log.RedactingLogger"  # no reset tokens, no OAuth codes
GTHREAD_THREADS = 8  # threads per worker when the gthread class is chosen instead
CONTROL_SOCKET = "gunicorn.ctl"
# AF_UNIX paths hold at most 107 bytes on Linux (104 on macOS): a longer instance path
# gets no control socket rather than a failed start.
MAX_SOCKET_PATH = 100


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from musicrec import create_app

        return create_app()


def limit_blas_threads(_worker: object = None) -> None:
    """One BLAS thread per worker: a request's fold-in is a small solve, where OpenBLAS's own
    threads cost far more than they save (6.0 ms against 0.56 ms), and every worker spawning
    one per core oversubscribes the machine."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def prepare_worker(worker: Any) -> None:
    """After a worker loaded the app: one BLAS thread, the shared structures built and frozen
    out of the garbage collector's walks (``web.warm_up``)."""
    from musicrec.web.warm_up import warm_up

    limit_blas_threads()
    started = time.perf_counter()
    frozen = warm_up(worker.wsgi)
    took = (time.perf_counter() - started) * 1000
    worker.log.info("Worker warm in %.0f ms, %d objects frozen out of collections", took, frozen)


def control_socket_options(env: Mapping[str, str]) -> dict[str, Any]:
    """gunicorn (25.1 on) opens a control socket for ``gunicornc``, by default in
    ``$XDG_RUNTIME_DIR`` or a ``~/.gunicorn/`` every server of the account shares (a second
    instance takes over the first one's socket). Here it is the instance folder's own, and off
    where that path is too long for a Unix socket; older gunicorns have no such setting."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {setting.name for setting in KNOWN_SETTINGS}
    if "control_socket" not in known:
        return {}
    instance = Path(env.get("MUSICREC_INSTANCE_DIR") or "instance").resolve()
    path = instance / CONTROL_SOCKET
    if len(str(path).encode()) > MAX_SOCKET_PATH:
        return {"control_socket_disable": True}
    return {"control_socket": str(path)}


def server_options(
    host: str, port: int, workers: int | None = None, worker_class: str = WORKER_CLASS
) -> dict[str, Any]:
    """gunicorn's settings: see docs/benchmarks.md ("Serving") for how they were chosen.

    gevent workers read every request cooperatively, so idle or slow clients hold a greenlet,
    never a worker: two stalled sockets cannot freeze the server as they froze sync workers.
    A greenlet is still one of ``worker_connections``: one address may hold only a share of
    them, and a body must arrive within a deadline (``ServerLimits``, from the environment).
    """
    limits = ServerLimits.from_env(os.environ)
    return {
        "bind": f"{host}:{port}",
        "workers": workers or max(2, os.cpu_count() or 1),
        "worker_class": GEVENT_WORKER if worker_class == "gevent" else worker_class,
        "worker_connections": limits.worker_connections,
        "timeout": 60,
        "graceful_timeout": 30,  # SIGTERM: in-flight requests get this long to finish
        "keepalive": 5,
        "limit_request_line": 8190,
        "accesslog": "-",
        "logger_class": ACCESS_LOGGER,
        "post_worker_init": prepare_worker,
        **control_socket_options(os.environ),
        **({"threads": GTHREAD_THREADS} if worker_class == "gthread" else {}),
    }


def serve(
    host: str, port: int, workers: int | None = None, worker_class: str = WORKER_CLASS
) -> None:
    """Run gunicorn in this process; each worker builds its own app (and loads the model)."""
    _Gunicorn(server_options(host, port, workers, worker_class)).run()
