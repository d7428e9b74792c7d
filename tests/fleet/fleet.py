"""A small musicrec fleet on one machine: two web nodes and one job worker, run as real processes.

Each process has an instance folder and a model folder of its own (nothing on disk is shared, as
on separate machines); what they share is what a fleet shares: one PostgreSQL database, Redis
for the job queue and the rate limits, model versions stored in the database
(``MUSICREC_MODEL_STORE=database``), and the same secret key, token key and public URL.

Each process is the leader of its own process group, so :meth:`Process.kill` takes a node down
the way a crashed machine goes: gunicorn's master and workers at once, mid-request.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import requests

from tests.live_server import LoggedProcess, free_port, instance_env, start_musicrec

STOP_TIMEOUT = 30.0


def fleet_env(
    instance: Path,
    database_url: str,
    redis_url: str,
    token_key: str,
    public_url: str,
    **extra: str,
) -> dict[str, str]:
    """The environment of one fleet process: its own folders, the fleet's shared settings."""
    return instance_env(
        instance,
        database_url,
        MUSICREC_TOKEN_KEY=token_key,
        MUSICREC_JOB_QUEUE_URL=redis_url,
        MUSICREC_RATE_LIMIT_STORAGE=redis_url,
        MUSICREC_MODEL_STORE="database",
        MUSICREC_PUBLIC_URL=public_url,
        MUSICREC_PROXY_HOPS="1",  # nginx in front: the client is X-Forwarded-For's last hop
        MUSICREC_FAST_PASSWORD_HASHING="1",
        **extra,
    )


@dataclass
class Process(LoggedProcess):
    """A fleet process (a node or the worker), the leader of a process group of its own: a signal
    reaches the whole group, as a crash or a stop reaches the whole of a machine's service."""

    name: str = field(kw_only=True)
    stop_timeout: ClassVar[float] = STOP_TIMEOUT

    def send(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)


def start_process(name: str, env: dict[str, str], *args: str) -> Process:
    log = Path(env["MUSICREC_INSTANCE_DIR"]) / f"{name}.log"
    return Process(start_musicrec(env, log, *args, new_session=True), log, name=name)


@dataclass
class Node(Process):
    """A ``musicrec serve`` node: its own address besides the proxy's."""

    address: str = field(kw_only=True)
    url: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.url = f"http://{self.address}"

    def health(self) -> dict[str, str]:
        answer = requests.get(self.url + "/api/v1/health", timeout=5)
        return dict(answer.json())


def start_node(name: str, env: dict[str, str]) -> Node:
    """One gunicorn worker: two of them on a 2-core machine besides nginx and the job worker."""
    port = free_port()
    started = start_process(
        name, env, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"
    )
    return Node(started.process, started.log, name=name, address=f"127.0.0.1:{port}")


def wait_until_serving(node: Node, timeout: float) -> dict[str, str]:
    """Wait for the node's health to be ``ok`` (database and model); return that health."""
    deadline = time.monotonic() + timeout
    last: dict[str, str] | str = "no answer"
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"{node.name} exited {node.process.returncode}:\n{node.log_tail()}")
        try:
            last = node.health()
            if last.get("status") == "ok":
                return last
        except requests.RequestException as error:
            last = repr(error)
        time.sleep(0.2)
    raise RuntimeError(f"{node.name} not ok within {timeout:.0f}s ({last}):\n{node.log_tail()}")
