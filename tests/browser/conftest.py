"""Fixtures for the browser suite: one live server per test session (per xdist worker), set up
with the real starter data and served by ``musicrec serve`` (gunicorn), and a headless Chromium
driven by Playwright.

Chromium comes from Debian (``make test-deps`` installs ``chromium`` and ``chromium-driver``);
Playwright's own browser downloads are never used. Locally a missing Chromium, Playwright or
starter data skips these tests; under ``CI=true`` it fails them.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, _unavailable
from tests.live_server import start_musicrec

CHROMIUM = Path(os.environ.get("MUSICREC_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Screenshots kept for people to look at (git-ignored); MUSICREC_TEST_ARTIFACTS moves them.
ARTIFACTS = Path(os.environ.get("MUSICREC_TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts")
SECRET_KEY = "browser-test-secret-key-that-is-long-enough-0123456789"
SERVER_START_TIMEOUT = 60.0

DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 667}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _musicrec_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "musicrec", *args]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"musicrec serve exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url + "/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"musicrec serve did not answer within {SERVER_START_TIMEOUT:.0f}s:\n{_tail(log)}")


@pytest.fixture(scope="session")
def live_instance(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a fresh instance set up with the starter data (SQLite, a model):
    what ``musicrec`` commands need to act on the live server's instance."""
    instance = tmp_path_factory.mktemp("browser-instance")
    env = {
        **os.environ,
        "MUSICREC_INSTANCE_DIR": str(instance),
        "MUSICREC_DATABASE_URL": f"sqlite:///{instance / 'musicrec.sqlite3'}",
        "MUSICREC_SECRET_KEY": SECRET_KEY,
        "MUSICREC_MODEL_DIR": str(instance / "models"),
        # Cookies are Secure outside development, and the server speaks plain HTTP.
        "MUSICREC_ENV": "development",
        "MUSICREC_RATE_LIMITS": "off",
    }
    setup = subprocess.run(
        _musicrec_command("setup", "--data", str(shared_data.resolve())),
        env=env,
        cwd=instance,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if setup.returncode != 0:
        pytest.fail(f"musicrec setup failed ({setup.returncode}):\n{setup.stdout}\n{setup.stderr}")
    return env


@contextmanager
def running_musicrec(
    env: dict[str, str], log_name: str, *args: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``musicrec *args`` in the background on ``env``'s instance, its output appended to the
    file ``log_name`` there; stopped when the block ends (SIGTERM, SIGKILL after 30 s)."""
    process = start_musicrec(env, Path(env["MUSICREC_INSTANCE_DIR"]) / log_name, *args)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@contextmanager
def start_serve(env: dict[str, str], log_name: str, port: int | None = None) -> Iterator[str]:
    """``musicrec serve`` (one gunicorn worker) with ``env`` on ``port`` (a free one unless
    given): its base URL once it answers, until the block ends."""
    port = port or _free_port()
    base_url = f"http://127.0.0.1:{port}"
    serve = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
    with running_musicrec(env, log_name, *serve) as process:
        _wait_until_up(base_url, process, Path(env["MUSICREC_INSTANCE_DIR"]) / log_name)
        yield base_url


@pytest.fixture(scope="session")
def live_server(live_instance: dict[str, str]) -> Iterator[str]:
    """The base URL of ``musicrec serve`` on a fresh SQLite database with the starter data."""
    with start_serve(live_instance, "serve.log") as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (never Playwright's own downloads)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not at {CHROMIUM}: run `make test-deps` (apt: chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class ConsoleWatch:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    problems: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def allow(self, fragment: str) -> None:
        """Tolerate console errors containing ``fragment`` (an expected 401 page, say)."""
        self.allowed.append(fragment)

    def on_console(self, message: Any) -> None:
        if message.type not in ("error", "warning"):
            return
        text = message.text
        if message.type == "warning" and "Content Security Policy" not in text:
            return
        if any(fragment in text for fragment in self.allowed):
            return
        where = message.location.get("url", "") if message.location else ""
        self.problems.append(f"console.{message.type}: {text} ({where})")

    def on_page_error(self, error: Any) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def on_csp_violation(self, _source: Any, description: str) -> None:
        self.problems.append(f"CSP violation: {description}")

    def check(self) -> None:
        assert not self.problems, "the browser reported problems:\n" + "\n".join(self.problems)


# Runs before any page script in every document (injected over CDP, so the CSP does not block
# it) and reports each violation through a binding, so none is lost when the page navigates.
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ` +
    `${event.sourceFile || location.href}:${event.lineNumber}`
  );
});
"""


# A 1x1 transparent PNG: what the browser gets for Spotify's artist pictures in tests.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def new_page(
    browser: Any, base_url: str, viewport: dict[str, int], **options: Any
) -> tuple[Any, Any, ConsoleWatch]:
    """A fresh context (no cookies) and page watching the console; caller closes the context.
    ``options`` go to Playwright's ``new_context`` (``timezone_id``, ``locale``...).
    Spotify's image host is answered locally: tests never reach the real service."""
    context = browser.new_context(base_url=base_url, viewport=viewport, **options)
    context.set_default_timeout(10_000)
    context.route(
        "https://i.scdn.co/**",
        lambda route: route.fulfill(status=200, content_type="image/png", body=PIXEL_PNG),
    )
    watch = ConsoleWatch()
    context.expose_binding("__reportCspViolation", watch.on_csp_violation)
    context.add_init_script(CSP_REPORTER)
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    return context, page, watch


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
