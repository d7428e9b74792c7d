"""PostgreSQL stopped with ``-m immediate`` while ratings are written, then restarted: every
rating acknowledged to a client is in the table.

The test runs its own throwaway cluster (initdb, pg_ctl as the ``postgres`` user) on a free port,
never the machine's shared server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select, text

from musicrec.db.models import Rating, User
from musicrec.db.session import make_engine
from tests.conftest import _unavailable
from tests.factories import write_csv_pair
from tests.live_server import free_port, instance_env, prepare_instance, serving

pytestmark = [pytest.mark.fault, pytest.mark.slow, pytest.mark.postgres]

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)
CLUSTER_USER = "postgres"
WRITERS = 3
ARTISTS = 5  # the catalogue of tests.factories.write_csv_pair


def _as_cluster_user(*args: str) -> list[str]:
    return ["runuser", "-u", CLUSTER_USER, "--", *args] if os.geteuid() == 0 else list(args)


def _pg_ctl(data: Path, *args: str) -> None:
    assert PG_BIN is not None
    subprocess.run(
        _as_cluster_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-t", "60", *args),
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture
def cluster() -> Iterator[tuple[Path, int]]:
    """A fresh PostgreSQL cluster on a free port: (data folder, port); stopped and removed after."""
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        _unavailable("PostgreSQL's server binaries are not under /usr/lib/postgresql/*/bin")
    root = Path(tempfile.mkdtemp(prefix="musicrec-cluster-"))
    data, port = root / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(root, CLUSTER_USER)
    try:
        subprocess.run(
            _as_cluster_user(
                str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on"
        _pg_ctl(data, "-o", options, "-l", str(root / "server.log"), "start")
        admin = create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE musicrec"))
        admin.dispose()
        yield data, port
    finally:
        subprocess.run(
            _as_cluster_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def _write_ratings(
    base_url: str, name: str, stop: threading.Event, acknowledged: dict, unknown: dict
) -> None:
    """Rate artists in turn until stopped; remember each rating the server acknowledged, and
    those sent since whose outcome is unknown (no answer, or a 5xx: either may be stored)."""
    with requests.Session() as http:
        signed_up = http.post(
            f"{base_url}/api/v1/auth/signup",
            json={
                "username": name,
                "email": f"{name}@example.org",
                "password": "a long passphrase",
            },
            timeout=30,
        )
        signed_up.raise_for_status()
        http.headers["Authorization"] = f"Bearer {signed_up.json()['token']}"
        turn = 0
        while not stop.is_set():
            artist, rating = 1 + turn % ARTISTS, 1 + turn % 10
            try:
                answer = http.put(
                    f"{base_url}/api/v1/me/ratings/{artist}", json={"rating": rating}, timeout=10
                )
            except requests.RequestException:
                answer = None
            if answer is not None and answer.status_code in (200, 201):
                acknowledged[(name, artist)] = rating
                unknown[(name, artist)] = set()
            elif answer is None or answer.status_code >= 500:
                unknown.setdefault((name, artist), set()).add(rating)
            else:
                raise AssertionError(f"{answer.status_code}: {answer.text}")
            turn += 1


def test_every_acknowledged_rating_survives_an_immediate_stop(
    cluster: tuple[Path, int], tmp_path: Path
) -> None:
    data, port = cluster
    url = f"postgresql://postgres@127.0.0.1:{port}/musicrec"
    env = instance_env(tmp_path / "instance", url, MUSICREC_RATE_LIMITS="off")
    prepare_instance(env, write_csv_pair(tmp_path / "data"), train=False)
    acknowledged: dict[tuple[str, int], int] = {}
    unknown: dict[tuple[str, int], set[int]] = {}
    stop = threading.Event()
    with serving(env, workers=2) as server:
        writers = [
            threading.Thread(
                target=_write_ratings,
                args=(server.base_url, f"crash{n}", stop, acknowledged, unknown),
            )
            for n in range(WRITERS)
        ]
        for writer in writers:
            writer.start()
        time.sleep(2.0)
        _pg_ctl(data, "-m", "immediate", "stop")
        time.sleep(1.0)
        _pg_ctl(
            data,
            "-o",
            f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1",
            "-l",
            str(data.parent / "server.log"),
            "start",
        )
        time.sleep(2.0)
        stop.set()
        for writer in writers:
            writer.join(timeout=60)

    engine = make_engine(url)
    with engine.connect() as connection:
        stored = {
            (name, artist): rating
            for name, artist, rating in connection.execute(
                select(User.username, Rating.artist_id, Rating.rating).join(
                    User, User.id == Rating.user_id
                )
            )
        }
    engine.dispose()
    assert len(acknowledged) >= WRITERS, "too few ratings were acknowledged to test anything"
    lost = {
        key: value
        for key, value in acknowledged.items()
        if stored.get(key) not in {value} | unknown.get(key, set())
    }
    assert not lost, f"acknowledged but not stored: {lost}"
