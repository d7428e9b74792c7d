"""`musicrec serve` on a temporary PostgreSQL database, as `make run` starts it, with users.

``make run`` is ``musicrec setup`` (schema, the shared data, a first model) then
``musicrec serve --host HOST --port PORT``; both run here as child processes of this Python
(``python -m musicrec``, the worktree's code first on the path) with MUSICREC_RATE_LIMITS=off
so the load is not throttled, and with no per-address connection cap
(MUSICREC_CONNECTIONS_PER_ADDRESS=0): every simulated user comes from 127.0.0.1, where real
users come from many addresses. The server runs in its own process group, stopped on exit.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy import select

import measure
import postgres
import sources
import subjects

SETUP_TIMEOUT_S = 600
SERVER_TIMEOUT_S = 1800
PASSWORD = "bench pass 123"


@dataclass(frozen=True)
class LiveServer:
    port: int
    process: subprocess.Popen
    folder: Path
    model_dir: Path
    database_url: str


def _environment(folder: Path, database_url: str) -> dict[str, str]:
    return {
        "MUSICREC_DATABASE_URL": database_url,
        "MUSICREC_INSTANCE_DIR": str(folder / "instance"),
        "MUSICREC_MODEL_DIR": str(folder / "models"),
        "MUSICREC_RATE_LIMITS": "off",
        "MUSICREC_CONNECTIONS_PER_ADDRESS": "0",
    }


def _wait_until_up(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("musicrec serve exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return
        except OSError:  # refused, reset or timed out (URLError is an OSError too)
            time.sleep(0.5)
    raise RuntimeError("musicrec serve did not answer /api/v1/health in time")


@contextmanager
def live_server() -> Iterator[LiveServer]:
    with (
        postgres.temporary_postgres_database() as url,
        tempfile.TemporaryDirectory(prefix="musicrec-serve-") as name,
    ):
        folder = Path(name)
        env = _environment(folder, url)
        subprocess.run(
            [measure.PYTHON, "-m", "musicrec", "setup", "--data", str(sources.SHARED)],
            env=measure.child_environment(**env),
            cwd=measure.REPO,
            check=True,
            capture_output=True,
            timeout=SETUP_TIMEOUT_S,
        )
        port = measure.free_port()
        command = [measure.PYTHON, "-m", "musicrec", "serve", "--host", "127.0.0.1"]
        with measure.background(
            [*command, "--port", str(port)], folder / "serve.log", SERVER_TIMEOUT_S, **env
        ) as process:
            _wait_until_up(port, process)
            yield LiveServer(port, process, folder, folder / "models", url)


@contextmanager
def another_server(server: LiveServer, *options: str) -> Iterator[int]:
    """One more `musicrec serve` on the same database and models, with other ``options``
    (e.g. ``--workers 3``); its port. The first server stays up, idle."""
    port = measure.free_port()
    env = _environment(server.folder, server.database_url)
    command = [measure.PYTHON, "-m", "musicrec", "serve", "--host", "127.0.0.1"]
    log = server.folder / f"serve-{port}.log"
    with measure.background(
        [*command, "--port", str(port), *options], log, SERVER_TIMEOUT_S, **env
    ) as process:
        _wait_until_up(port, process)
        yield port


def _call(port: int, method: str, path: str, body: dict | None, token: str = "") -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.loads(answer.read() or b"{}")


def create_users(server: LiveServer, count: int, ratings: int, seed: int = 11) -> list[str]:
    """Sign up ``count`` users through the API, each rating ``ratings`` random artists."""
    engine = subjects.make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            artists = np.asarray(connection.execute(select(subjects.Artist.id)).scalars().all())
    finally:
        engine.dispose()
    rng = np.random.default_rng(seed)
    picks = [rng.choice(artists, ratings, replace=False) for _ in range(count)]
    scores = rng.integers(1, 11, size=(count, ratings))

    def one(number: int) -> str:
        body = {"username": f"bench{number}", "email": f"bench{number}@example.com"}
        token = _call(server.port, "POST", "/api/v1/auth/signup", body | {"password": PASSWORD})[
            "token"
        ]
        for artist, score in zip(picks[number], scores[number], strict=True):
            path = f"/api/v1/me/ratings/{int(artist)}"
            _call(server.port, "PUT", path, {"rating": int(score)}, token)
        return str(token)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(count)))


def search_paths(server: LiveServer, count: int, seed: int = 5) -> list[str]:
    """Search requests for prefixes (2-5 characters) of real artist names."""
    engine = subjects.make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            names = connection.execute(select(subjects.Artist.name)).scalars().all()
    finally:
        engine.dispose()
    rng = np.random.default_rng(seed)
    paths = []
    for index in rng.choice(len(names), count, replace=False):
        prefix = names[int(index)][: int(rng.integers(2, 6))]
        paths.append("/api/v1/artists?q=" + urllib.request.quote(prefix))
    return paths


def newest_model_input(server: LiveServer) -> tuple[list[int], list[int]]:
    """Ten (artist, rating) pairs of one bench user, for the whole-process measure."""
    engine = subjects.make_engine(server.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(subjects.Rating.artist_id, subjects.Rating.rating)
                .join(subjects.User, subjects.User.id == subjects.Rating.user_id)
                .where(subjects.User.username == "bench0")
            ).all()
    finally:
        engine.dispose()
    return [int(row[0]) for row in rows], [int(row[1]) for row in rows]
