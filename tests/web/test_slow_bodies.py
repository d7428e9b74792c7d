"""Slow request bodies cannot stop the server (issue 18, defect 1).

One client opening more sockets than a worker holds connections, each sending a POST's headers
(``Content-Length: 100000``) and one byte of the body, made ``/api/v1/health`` unanswerable for
as long as it liked. Now one address holds at most a tenth of a worker's connections (the rest
are answered 429 and closed at once), and a body must arrive within ``MUSICREC_BODY_TIMEOUT``
seconds of its headers (408, connection closed), so other clients are answered during the
attack and everyone, the attacker's address included, once its bodies time out.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from musicrec.web.server_limits import ServerLimits, client_key
from tests.live_server import LiveServer, instance_env, prepare_instance, serving
from tests.slow_clients import health_seconds, slow_bodies

ISSUE_SOCKETS = 2100  # the issue's attack: more than two workers' 1,000 connections each
QUICK = 2.0  # seconds: a health check slower than this counts as not answered
BODY_TIMEOUT = 3
LIMIT_VARIABLES = (
    "MUSICREC_PROXY_HOPS",
    "MUSICREC_WORKER_CONNECTIONS",
    "MUSICREC_CONNECTIONS_PER_ADDRESS",
    "MUSICREC_BODY_TIMEOUT",
)


def _serve(tmp_path: Path, **limits: str) -> Iterator[LiveServer]:
    env = instance_env(tmp_path / "instance", f"sqlite:///{tmp_path / 'musicrec.sqlite3'}")
    for name in LIMIT_VARIABLES:  # the defaults, whatever the test run's environment says
        env.pop(name, None)
    env.update(limits)
    prepare_instance(env, None, train=False)
    with serving(env, workers=2) as live:
        yield live


@pytest.fixture
def default_server(tmp_path: Path) -> Iterator[LiveServer]:
    """``musicrec serve`` with two workers and every limit at its default."""
    yield from _serve(tmp_path)


@pytest.fixture
def short_deadline_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Two workers, bodies due within ``BODY_TIMEOUT`` seconds."""
    yield from _serve(tmp_path, MUSICREC_BODY_TIMEOUT=str(BODY_TIMEOUT))


@pytest.mark.slow
def test_the_issues_attack_leaves_the_server_answering(default_server: LiveServer) -> None:
    url = default_server.base_url
    defaults = ServerLimits.from_env({})
    with slow_bodies(url, ISSUE_SOCKETS) as attack:
        time.sleep(0.5)
        during = [health_seconds(url) for _ in range(5)]
        assert max(during) < QUICK, f"health took {max(during):.2f} s during the attack"

        # Beyond its cap the address's connections were closed at once: it holds at most its
        # share of each worker's connections.
        held = len(attack.sockets) - attack.closed_by_server(within=1.0)
        assert held <= 2 * defaults.connections_per_address, held

        # The attacker sends nothing more: its bodies time out and its address is served again.
        closed = attack.closed_by_server(within=defaults.body_timeout + 5)
        assert closed == len(attack.sockets), f"{len(attack.sockets) - closed} still held"
        after = health_seconds(url, source="127.0.0.1")
        assert after < QUICK


@pytest.mark.slow
def test_a_body_that_stops_arriving_gets_408_and_a_closed_connection(
    short_deadline_server: LiveServer,
) -> None:
    url = short_deadline_server.base_url
    with slow_bodies(url, 1) as attack:
        sock = attack.sockets[0]
        sock.settimeout(BODY_TIMEOUT + 5)
        started = time.monotonic()
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert BODY_TIMEOUT - 0.5 < waited < BODY_TIMEOUT + 3, waited
    assert health_seconds(url, source="127.0.0.1") < QUICK


@pytest.mark.slow
def test_a_body_sent_in_pieces_within_the_deadline_is_served(
    short_deadline_server: LiveServer,
) -> None:
    parts = short_deadline_server.base_url.removeprefix("http://").split(":")
    body = b'{"username": "nobody", "password": "wrong password"}'
    with socket.create_connection((parts[0], int(parts[1])), timeout=10) as sock:
        sock.sendall(
            b"POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        for piece in (body[:10], body[10:30], body[30:]):
            time.sleep(0.5)
            sock.sendall(piece)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]


@pytest.mark.parametrize(
    ("environ", "per_address"),
    [
        ({}, 200),
        ({"MUSICREC_WORKER_CONNECTIONS": "500"}, 50),
        ({"MUSICREC_PROXY_HOPS": "1"}, 0),
        ({"MUSICREC_PROXY_HOPS": "1", "MUSICREC_CONNECTIONS_PER_ADDRESS": "300"}, 300),
        ({"MUSICREC_CONNECTIONS_PER_ADDRESS": "0"}, 0),
    ],
)
def test_the_per_address_cap_defaults_to_a_tenth_of_a_worker_and_is_off_behind_a_proxy(
    environ: dict[str, str], per_address: int
) -> None:
    assert ServerLimits.from_env(environ).connections_per_address == per_address


@pytest.mark.parametrize(
    ("peer", "counted_as"),
    [
        (("127.0.0.1", 50000), "127.0.0.1"),
        (("2001:db8:1:2:aaaa::1", 50000, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:ffff::9", 50001, 0, 0), "2001:db8:1:2::/64"),
        (("::ffff:192.0.2.7", 50000, 0, 0), "192.0.2.7"),
        ("", None),  # a Unix socket: no address, no cap
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(peer: object, counted_as: str | None) -> None:
    assert client_key(peer) == counted_as
