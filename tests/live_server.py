"""``musicrec serve`` as a real process, for the attack and fault suites.

Everything here drives the installed CLI in subprocesses, the way an operator would: prepare an
instance (schema, a small slice of the starter data, a small model), serve it with gunicorn on a
free 127.0.0.1 port, and stop it. Every process started here is stopped by the context manager
that started it, even when the test fails.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from musicrec.db.session import normalise_url

SECRET_KEY = "live-server-test-secret-key-that-is-long-enough-0123456789"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 40.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def musicrec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "musicrec", *args]


def instance_env(instance: Path, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a musicrec process using ``instance`` and ``database_url``."""
    return {
        **os.environ,
        "MUSICREC_INSTANCE_DIR": str(instance),
        "MUSICREC_DATABASE_URL": database_url,
        "MUSICREC_SECRET_KEY": SECRET_KEY,
        "MUSICREC_MODEL_DIR": str(instance / "models"),
        "MUSICREC_ENV": "development",  # cookies without Secure: the server speaks plain HTTP
        **extra,
    }


def run_musicrec(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    """Run one CLI command to completion; raise with its output when it fails."""
    done = subprocess.run(
        musicrec_command(*args),
        env=env,
        cwd=env["MUSICREC_INSTANCE_DIR"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"musicrec {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def write_data_slice(source: Path, dest: Path, users: int) -> Path:
    """The CSV pair restricted to the first ``users`` users of ``source`` (and their artists)."""
    dest.mkdir(parents=True, exist_ok=True)
    with (source / "user_artist_scrobbles.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    kept_users = sorted({int(row[0]) for row in rows})[:users]
    wanted = set(kept_users)
    kept_rows = [row for row in rows if int(row[0]) in wanted]
    artists = {row[1] for row in kept_rows}
    with (dest / "user_artist_scrobbles.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(kept_rows)
    with (source / "artists.csv").open(newline="", encoding="utf-8") as handle:
        artist_rows = list(csv.reader(handle))
    with (dest / "artists.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(artist_rows[0])
        writer.writerows(row for row in artist_rows[1:] if row[0] in artists)
    return dest


def prepare_instance(env: dict[str, str], data: Path | None, train: bool = True) -> None:
    """Schema, then the data, then a small model (fast enough for a test's set-up)."""
    Path(env["MUSICREC_INSTANCE_DIR"]).mkdir(parents=True, exist_ok=True)
    run_musicrec(env, "init-db")
    if data is not None:
        run_musicrec(env, "import-lastfm", str(data))
    if train:
        run_musicrec(env, "train", "--factors", "16", "--iterations", "4")


@contextmanager
def temporary_postgres_database(admin_url: str, prefix: str = "musicrec_live") -> Iterator[str]:
    """A fresh database ``<prefix>_<hex>`` on the PostgreSQL server at ``admin_url``, dropped
    (connections and all) afterwards."""
    admin = create_engine(normalise_url(admin_url), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(normalise_url(admin_url)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def start_musicrec(
    env: dict[str, str], log: Path, *args: str, new_session: bool = False
) -> subprocess.Popen[bytes]:
    """``musicrec *args`` in the background on ``env``'s instance, its output appended to
    ``log``; with ``new_session``, the leader of a process group of its own."""
    with log.open("ab") as log_file:
        return subprocess.Popen(
            musicrec_command(*args),
            env=env,
            cwd=env["MUSICREC_INSTANCE_DIR"],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )


@dataclass
class LoggedProcess:
    """A started process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path
    stop_timeout: ClassVar[float] = STOP_TIMEOUT  # the grace period of :meth:`terminate`

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def send(self, signum: int) -> None:
        """Send ``signum`` to the process."""
        self.process.send_signal(signum)

    def kill(self) -> None:
        """SIGKILL: no graceful stop, requests in flight are cut."""
        if self.process.poll() is None:
            self.send(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL if it outlives the grace period."""
        if self.process.poll() is not None:
            return
        self.send(signal.SIGTERM)
        try:
            self.process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class LiveServer(LoggedProcess):
    """A running ``musicrec serve``: its base URL, process and log file."""

    base_url: str = field(kw_only=True)


def wait_until_healthy(server: LiveServer, timeout: float = START_TIMEOUT) -> None:
    """Return once ``/api/v1/health`` answers (any status); raise if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"musicrec serve exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(server.base_url + "/api/v1/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"musicrec serve did not answer within {timeout:.0f}s:\n{server.log_tail()}")


@contextmanager
def serving(env: dict[str, str], workers: int = 2, *extra: str) -> Iterator[LiveServer]:
    """``musicrec serve`` on a free port with ``env``; stopped when the block ends."""
    instance = Path(env["MUSICREC_INSTANCE_DIR"])
    port = free_port()
    log = instance / f"serve-{port}.log"
    serve = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers))
    process = start_musicrec(env, log, *serve, *extra)
    server = LiveServer(process, log, base_url=f"http://127.0.0.1:{port}")
    try:
        wait_until_healthy(server)
        yield server
    finally:
        server.terminate()
