from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from musicrec import create_app
from musicrec.cli import main
from musicrec.config import Settings
from musicrec.db import migrate
from musicrec.db.session import make_engine
from tests.factories import write_csv_pair


def test_home_page_shows_the_catalogue(settings: Settings) -> None:
    migrate.upgrade(make_engine(settings.database_url))
    client = create_app(settings).test_client()

    response = client.get("/")

    assert response.status_code == 200
    assert "0 artists" in response.get_data(as_text=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, deadline: float) -> str:
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return str(response.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.slow
def test_serve_answers_over_http_under_gunicorn(
    settings_env: dict[str, str], tmp_path: Path
) -> None:
    data = write_csv_pair(tmp_path / "data")
    assert CliRunner().invoke(main, ["setup", "--data", str(data)], env=settings_env).exit_code == 0
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "musicrec", "serve", "--port", str(port), "--workers", "1"],
        env={**os.environ, **settings_env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        page = _get(f"http://127.0.0.1:{port}/", time.monotonic() + 30)
    finally:
        server.terminate()
        server.wait(timeout=10)

    assert "5 artists" in page and "6 ratings" in page
