"""No secret in gunicorn's access log (issue 18, defect 15, the access-log part).

The log printed every request line as it came: a password-reset link's token, and the OAuth
``code`` and ``state`` Spotify sends back to ``/spotify/callback``, were readable by anyone with
the log. A live ``musicrec serve`` is asked for such URLs (and sent one as a Referer, as a page
opened from a reset link sends it); its log must show them only redacted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from musicrec.web.access_log import redact_url
from tests.live_server import LiveServer, instance_env, prepare_instance, serving

RESET_TOKEN = "Zq3rEsEtT0kEn-abcdefghijklmnopqrstuvwxyz0123"
OAUTH_CODE = "AQDoAuThCoDe0123456789"
OAUTH_STATE = "sTaTe-9876543210-xyz"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    env = instance_env(tmp_path / "instance", f"sqlite:///{tmp_path / 'musicrec.sqlite3'}")
    prepare_instance(env, None, train=False)
    with serving(env, workers=1) as live:
        yield live


@pytest.mark.slow
def test_the_access_log_carries_no_reset_token_and_no_oauth_code(server: LiveServer) -> None:
    base = server.base_url
    requests.get(f"{base}/reset-password/{RESET_TOKEN}", timeout=10)
    requests.post(f"{base}/reset-password/{RESET_TOKEN}?next=/", timeout=10)
    requests.get(
        f"{base}/static/app.css",
        headers={"Referer": f"{base}/reset-password/{RESET_TOKEN}"},
        timeout=10,
    )
    requests.get(
        f"{base}/spotify/callback",
        params={"code": OAUTH_CODE, "state": OAUTH_STATE},
        timeout=10,
    )
    requests.get(f"{base}/api/v1/artists", params={"q": "radiohead"}, timeout=10)
    time.sleep(0.5)  # the access log is written after each answer

    log = server.log.read_text(errors="replace")
    for secret in (RESET_TOKEN, OAUTH_CODE, OAUTH_STATE):
        assert secret not in log
    assert '"GET /reset-password/[redacted] HTTP/1.1"' in log
    assert '"POST /reset-password/[redacted]?next=/ HTTP/1.1"' in log
    assert f'"{base}/reset-password/[redacted]"' in log  # the Referer
    assert '"GET /spotify/callback?code=[redacted]&state=[redacted] HTTP/1.1"' in log
    assert '"GET /api/v1/artists?q=radiohead HTTP/1.1"' in log  # nothing else is hidden


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("/reset-password/abc", "/reset-password/[redacted]"),
        ("/reset-password/abc/", "/reset-password/[redacted]/"),
        ("//Reset-Password/abc?x=1", "//Reset-Password/[redacted]?x=1"),
        ("https://h/reset-password/abc#top", "https://h/reset-password/[redacted]#top"),
        ("/spotify/callback?state=s&code=c", "/spotify/callback?state=[redacted]&code=[redacted]"),
        ("/cb?error=access_denied&STATE=s", "/cb?error=access_denied&STATE=[redacted]"),
        ("/x?access%5Ftoken=t&page=2", "/x?access%5Ftoken=[redacted]&page=2"),
        ("/artists?q=code&page=2&flag", "/artists?q=code&page=2&flag"),
        ("/forgot-password", "/forgot-password"),
    ],
)
def test_redact_url_hides_tokens_and_secret_query_values_only(url: str, logged: str) -> None:
    assert redact_url(url) == logged
