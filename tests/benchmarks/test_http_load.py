"""The open-loop clients of benchmarks/http_load.py against a small HTTP/1.1 server: every
scheduled request is sent and answered, keep-alive connections the server ends are reopened,
and a server that stops answering shows up as errors, not as missing requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import http_load


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client or the answer says close
    connections: set[tuple[str, int]] = set()
    answered = 0
    lock = threading.Lock()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        with self.lock:
            type(self).connections.add(self.client_address)
            type(self).answered += 1
            number = type(self).answered
        body = b'{"ok": true}'
        self.send_response(500 if self.path == "/fail" else 200)
        if number % 7 == 0:  # now and then the server ends the connection (as ours does)
            self.send_header("Connection", "close")
            self.close_connection = True
        if number % 2:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5\r\n" + body[:5] + b"\r\n" + b"7\r\n" + body[5:] + b"\r\n0\r\n\r\n")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    _Handler.connections, _Handler.answered = set(), 0
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def test_the_keep_alive_client_sends_every_request_on_few_connections(server: int) -> None:
    found = http_load.fixed_rate(server, http_load.Load("get", ["/a", "/b"]), 100, 1.0, 4)

    assert found["requests"] == 100 and found["errors"] == 0
    assert _Handler.answered == 100
    # 4 connections, each reopened after an answer that said "Connection: close"
    assert 4 < len(_Handler.connections) <= 4 + 100 // 7 + 1
    assert 0 <= found["p50_ms"] <= found["p99_ms"] <= found["max_ms"] < 1000


def test_every_request_of_the_new_connection_client_has_its_own_connection(server: int) -> None:
    found = http_load.fixed_rate_new_connections(server, http_load.Load("get", ["/a"]), 50, 1.0)

    assert found["requests"] == 50 and found["errors"] == 0
    assert len(_Handler.connections) == 50


def test_failed_answers_are_counted_as_errors(server: int) -> None:
    found = http_load.fixed_rate(server, http_load.Load("get", ["/fail", "/a"]), 40, 1.0, 2)

    assert found["requests"] == 40 and found["errors"] == 20
