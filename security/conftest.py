"""Fixtures of the attack suite: a live server per database, a signed-in user, the report.

Each backend (SQLite, then PostgreSQL) gets one instance with a slice of the starter data and a
small model, served by ``musicrec serve`` (gevent workers) on a free 127.0.0.1 port with rate
limits off (the scanners send hundreds of requests). Tests that need the limits start their own
server on the same database.

Spotify and Last.fm are on, so that their routes take part: top songs come from a Last.fm
stand-in on 127.0.0.1; Spotify's services point at a closed loopback port, as no account is
connected during the attack (its routes answer before calling Spotify).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from tests.conftest import POSTGRES_ADMIN_URL, SHARED_DATA, _unavailable
from tests.live_server import (
    LiveServer,
    instance_env,
    prepare_instance,
    serving,
    temporary_postgres_database,
    write_data_slice,
)
from tests.spotify_fixtures import CLIENT_ID, CLIENT_SECRET, LastfmStandIn
from werkzeug.serving import make_server

from security import report

RESULTS = Path(__file__).resolve().parent / "results" / "latest.md"
SLICE_USERS = 150
PASSWORD = "a long enough passphrase"
BACKENDS = ["sqlite", "postgres"]
# Spotify's API and accounts service: nothing listens there (see the module's docstring).
SPOTIFY_UNREACHABLE = "http://127.0.0.1:9/"

_report = report.Report()


@dataclass(frozen=True)
class Target:
    """A live server with a signed-up user who rated a few artists."""

    backend: str
    server: LiveServer
    env: dict[str, str]
    username: str
    password: str
    token: str
    artist_id: int

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def data_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (SHARED_DATA / "user_artist_scrobbles.csv").exists():
        _unavailable(f"the shared Last.fm data is not at {SHARED_DATA}")
    return write_data_slice(SHARED_DATA, tmp_path_factory.mktemp("slice"), SLICE_USERS)


def _database_url(stack: ExitStack, backend: str, instance: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{instance / 'musicrec.sqlite3'}"
    try:
        return stack.enter_context(temporary_postgres_database(POSTGRES_ADMIN_URL))
    except Exception as error:  # noqa: BLE001 - any failure to reach the server counts
        _unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}")
        raise


def sign_up(base_url: str, username: str, password: str = PASSWORD) -> str:
    """A new account through the API; its Bearer token."""
    answer = requests.post(
        f"{base_url}/api/v1/auth/signup",
        json={"username": username, "email": f"{username}@example.org", "password": password},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


@pytest.fixture(scope="session")
def lastfm_url() -> Iterator[str]:
    """Last.fm's ``artist.getTopTracks`` answered by the tests' stand-in, in a thread."""
    standin = LastfmStandIn()
    server = make_server("127.0.0.1", 0, standin, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/2.0/"
    server.shutdown()
    thread.join(timeout=5)


def spotify_env(lastfm_url: str) -> dict[str, str]:
    """The settings that turn on the Spotify routes and top songs."""
    return {
        "SPOTIFY_CLIENT_ID": CLIENT_ID,
        "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "MUSICREC_SPOTIFY_API_URL": SPOTIFY_UNREACHABLE + "v1/",
        "MUSICREC_SPOTIFY_ACCOUNTS_URL": SPOTIFY_UNREACHABLE,
        "LASTFM_API_KEY": "attack-suite-key",
        "MUSICREC_LASTFM_API_URL": lastfm_url,
    }


@pytest.fixture(scope="session", params=BACKENDS)
def target(
    request: pytest.FixtureRequest,
    data_slice: Path,
    lastfm_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Target]:
    backend = str(request.param)
    instance = tmp_path_factory.mktemp(f"attack-{backend}")
    with ExitStack() as stack:
        env = instance_env(
            instance,
            _database_url(stack, backend, instance),
            MUSICREC_RATE_LIMITS="off",
            # argon2id at its smallest cost: thousands of log-ins; the attack is on the SQL
            MUSICREC_FAST_PASSWORD_HASHING="1",
            **spotify_env(lastfm_url),
        )
        prepare_instance(env, data_slice)
        server = stack.enter_context(serving(env, workers=2))
        username = f"attack_{backend}"
        token = sign_up(server.base_url, username)
        popular = requests.get(f"{server.base_url}/api/v1/artists?limit=5", timeout=30).json()
        ids = [artist["id"] for artist in popular["artists"]]
        for artist_id in ids[1:]:
            requests.put(
                f"{server.base_url}/api/v1/me/ratings/{artist_id}",
                json={"rating": 8},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ).raise_for_status()
        yield Target(backend, server, env, username, PASSWORD, token, ids[0])


@pytest.fixture
def record(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """``record(tool, version, target, found)``: one row of the summary table."""

    def add(tool: str, version: str, target: str, found: str) -> None:
        _report.add(request.node.nodeid, tool, version, target, found)

    return add


def _outcomes(terminalreporter: pytest.TerminalReporter) -> dict[str, tuple[str, str]]:
    """Each test's verdict (a failure in any phase wins) and a one-line reason."""
    outcomes: dict[str, tuple[str, str]] = {}
    for reports in terminalreporter.stats.values():
        for item in reports:
            if not isinstance(item, pytest.TestReport):
                continue
            if item.failed:
                outcomes[item.nodeid] = ("FAILED", report.short_message(item.longreprtext))
            elif hasattr(item, "wasxfail") and item.nodeid not in outcomes:
                outcomes[item.nodeid] = ("xfail: known defect", str(item.wasxfail))
            elif item.skipped and item.nodeid not in outcomes:
                outcomes[item.nodeid] = ("skipped", report.short_message(item.longreprtext))
            elif item.when == "call" and item.nodeid not in outcomes:
                outcomes[item.nodeid] = ("passed", "")
    return outcomes


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    outcomes = _outcomes(terminalreporter)
    if not outcomes:
        return
    rows = _report.table(outcomes)
    report.write(rows, RESULTS)
    terminalreporter.section("security summary")
    for line in report.markdown(rows).splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(written to {os.path.relpath(RESULTS)})")
