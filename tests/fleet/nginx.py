"""nginx as the fleet's reverse proxy, run as this user from a configuration in a temp folder.

Everything nginx writes (pid file, error and access logs, request-body and proxy buffers) stays
in that folder and it listens on a free 127.0.0.1 port, so the test needs no root, no system
configuration and no running nginx service.

The proxy settings are those an operator would use in front of several nodes: round robin, a
node that refuses or drops a connection is marked down for ``fail_timeout`` and the request
goes to the next node (``proxy_next_upstream error timeout``). nginx never passes a
non-idempotent request (POST, PATCH, ...) to a second node unless told to
(``non_idempotent``, which we leave off): a POST a node may have applied is never applied twice.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 15.0

# One line per request: the client's load id, the answer, and every node tried in order.
LOG_FORMAT = (
    "$msec\t$http_x_load_id\t$status\t$upstream_addr\t$upstream_status\t$request_time\t"
    "$request_method $uri"
)

CONFIG = """\
{user}worker_processes 1;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    client_body_temp_path {root}/client_body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    log_format fleet '{log_format}';
    access_log {root}/access.log fleet;
    upstream musicrec {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 2m;
        client_body_timeout 10s;
        client_header_timeout 10s;
        location / {{
            proxy_pass http://musicrec;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""


def nginx_binary() -> str | None:
    """The nginx executable (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def render_config(root: Path, port: int, upstreams: list[str], fail_timeout: int = 30) -> str:
    """The configuration text: ``upstreams`` are ``host:port`` of the nodes."""
    servers = "\n".join(
        f"        server {address} max_fails=1 fail_timeout={fail_timeout}s;"
        for address in upstreams
    )
    # Started by root, nginx would hand its workers to "nobody", who cannot enter a private
    # temp folder: they run as the user who started it, as they do for anyone else.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return CONFIG.format(user=user, root=root, port=port, servers=servers, log_format=LOG_FORMAT)


@dataclass(frozen=True)
class AccessLine:
    """One request as nginx logged it."""

    at: float
    load_id: str
    status: int
    upstreams: list[str]
    upstream_statuses: list[str]
    method_uri: str


def parse_access_log(path: Path) -> list[AccessLine]:
    """Every request nginx logged; ``upstreams`` lists the nodes tried, in order."""
    lines: list[AccessLine] = []
    for raw in path.read_text(errors="replace").splitlines():
        at, load_id, status, addrs, statuses, _time, method_uri = raw.split("\t")
        lines.append(
            AccessLine(
                at=float(at),
                load_id="" if load_id == "-" else load_id,
                status=int(status),
                upstreams=[a.strip() for a in addrs.split(",") if a.strip() not in ("", "-")],
                upstream_statuses=[s.strip() for s in statuses.split(",")],
                method_uri=method_uri,
            )
        )
    return lines


@dataclass
class Proxy:
    """A running nginx: its URL and folder."""

    url: str
    root: Path
    process: subprocess.Popen[bytes]

    def access_log(self) -> list[AccessLine]:
        return parse_access_log(self.root / "access.log")

    def error_log(self) -> str:
        try:
            return (self.root / "error.log").read_text(errors="replace")
        except OSError:
            return "(no error log)"


@contextmanager
def running_nginx(root: Path, port: int, upstreams: list[str]) -> Iterator[Proxy]:
    """nginx on ``127.0.0.1:port`` in front of ``upstreams``, stopped when the block ends."""
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx is not installed (make system-deps installs it)")
    root.mkdir(parents=True, exist_ok=True)
    config = root / "nginx.conf"
    config.write_text(render_config(root, port, upstreams))
    # -e: the error log before the configuration is read (else /var/log/nginx/error.log).
    command = [binary, "-p", str(root), "-c", str(config), "-e", str(root / "error.log")]
    check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
    with (root / "nginx.out").open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    proxy = Proxy(f"http://127.0.0.1:{port}", root, process)
    try:
        _wait_listening(proxy)
        yield proxy
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful: finish requests, then exit
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_listening(proxy: Proxy) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"nginx exited {proxy.process.returncode}:\n{proxy.error_log()}")
        try:
            with urllib.request.urlopen(proxy.url + "/api/v1/health", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # nginx answers (even a 502): it listens
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen within {START_TIMEOUT:.0f}s:\n{proxy.error_log()}")
