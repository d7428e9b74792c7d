"""MUSICREC_PUBLIC_URL: the origin of links in mail. Required in production and checked to be
an http(s) origin; in development `musicrec serve` supplies the address it is bound to."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from musicrec.config import (
    DEVELOPMENT_PUBLIC_URL,
    ConfigurationError,
    Settings,
    bound_origin,
)

SECRET = "k" * 40


def _production(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "MUSICREC_ENV": "production",
        "MUSICREC_SECRET_KEY": SECRET,
        "MUSICREC_INSTANCE_DIR": str(tmp_path / "instance"),
        **extra,
    }


def test_production_refuses_to_start_without_a_public_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="MUSICREC_PUBLIC_URL"):
        Settings.from_env(_production(tmp_path)).check()


def test_production_starts_with_a_public_url(tmp_path: Path) -> None:
    settings = Settings.from_env(_production(tmp_path, MUSICREC_PUBLIC_URL="https://m.example/"))

    settings.check()
    assert settings.link_origin == "https://m.example"


@pytest.mark.parametrize(
    "url",
    [
        "music.example.org",
        "ftp://music.example.org",
        "javascript:alert(1)",
        "https://",
        "https://music.example.org/app",
        "https://music.example.org/?next=x",
        "https://music.example.org/#x",
        "https://user@music.example.org",
        "https://music.example.org:port",
    ],
)
def test_a_public_url_must_be_an_http_origin(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigurationError, match="MUSICREC_PUBLIC_URL"):
        Settings.from_env(
            {"MUSICREC_INSTANCE_DIR": str(tmp_path), "MUSICREC_PUBLIC_URL": url}
        ).check()


def test_development_without_one_uses_a_fixed_local_origin(tmp_path: Path) -> None:
    settings = Settings.from_env({"MUSICREC_INSTANCE_DIR": str(tmp_path)})

    settings.check()
    assert settings.link_origin == DEVELOPMENT_PUBLIC_URL == "http://127.0.0.1:5000"
    assert replace(settings, public_url="http://10.0.0.5:8000").link_origin == (
        "http://10.0.0.5:8000"
    )


@pytest.mark.parametrize(
    ("host", "port", "origin"),
    [
        ("127.0.0.1", 5000, "http://127.0.0.1:5000"),
        ("0.0.0.0", 8000, "http://127.0.0.1:8000"),  # nosec B104: a bind address, as text
        ("::", 8000, "http://[::1]:8000"),
        ("::1", 5001, "http://[::1]:5001"),
        ("music.local", 80, "http://music.local:80"),
    ],
)
def test_the_bound_address_as_an_origin(host: str, port: int, origin: str) -> None:
    assert bound_origin(host, port) == origin


def test_serve_in_production_without_a_public_url_exits_at_once(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "musicrec", "serve", "--port", "1"],
        env={"PATH": "/usr/bin:/bin", **_production(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode != 0
    assert "MUSICREC_PUBLIC_URL must be set in production" in done.stderr
