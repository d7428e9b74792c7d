"""A password-guessing run mixed with normal users (issue 14, defect 5).

The server runs with its default limits. An attacker guesses the victim's password; normal users
keep browsing with their tokens. The attacker must get 429s; the victim, on a device that logged
in before (its cookies kept, as a browser keeps them), must still log in with the right
password; nobody may get a 5xx.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from dataclasses import replace

import pytest
import requests
from tests.live_server import serving

from security.conftest import PASSWORD, Target, sign_up
from security.report import tool_version

pytestmark = pytest.mark.security

GUESSES = 60
NORMAL_USERS = 3
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _form_login(device: requests.Session, base_url: str, login: str, password: str) -> int:
    """Log in through the HTML form as a browser does; the status of the POST."""
    page = device.get(f"{base_url}/login", timeout=30)
    token = _CSRF.search(page.text)
    assert token, f"no CSRF token on the log-in page ({page.status_code})"
    answer = device.post(
        f"{base_url}/login",
        data={"login": login, "password": password, "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    return answer.status_code


def _browse(base_url: str, token: str, stop: threading.Event, statuses: list[int]) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while not stop.is_set():
            for path in ("/api/v1/me", "/api/v1/artists?q=the&limit=5", "/api/v1/me/ratings"):
                statuses.append(session.get(base_url + path, timeout=30).status_code)
            time.sleep(0.05)


def test_attacker_is_limited_and_the_victim_still_logs_in(target: Target, record) -> None:  # type: ignore[no-untyped-def]
    env = {**target.env, "MUSICREC_RATE_LIMITS": "10/minute"}
    with serving(env, workers=2) as server:
        limited = replace(target, server=server)
        victim = f"victim_{target.backend}"
        sign_up(limited.base_url, victim)
        tokens = [sign_up(limited.base_url, f"user{n}_{target.backend}") for n in range(3)]
        device = requests.Session()
        assert _form_login(device, limited.base_url, victim, PASSWORD) == 302

        browsing: list[int] = []
        stop = threading.Event()
        users = [
            threading.Thread(target=_browse, args=(limited.base_url, token, stop, browsing))
            for token in tokens[:NORMAL_USERS]
        ]
        for user in users:
            user.start()
        attacker: list[int] = []
        with requests.Session() as attack:
            for guess in range(GUESSES):
                answer = attack.post(
                    f"{limited.base_url}/api/v1/auth/token",
                    json={"username": victim, "password": f"guess number {guess}"},
                    timeout=30,
                )
                attacker.append(answer.status_code)
        victim_form = _form_login(device, limited.base_url, victim, PASSWORD)
        victim_api = device.post(
            f"{limited.base_url}/api/v1/auth/token",
            json={"username": victim, "password": PASSWORD},
            timeout=30,
        ).status_code
        stop.set()
        for user in users:
            user.join()

    server_errors = [status for status in attacker + browsing if status >= 500]
    summary = (
        f"attacker: {attacker.count(429)}/{GUESSES} answered 429, {attacker.count(401)} 401; "
        f"victim from a known device: form {victim_form}, API {victim_api}; "
        f"{len(browsing)} normal requests; {len(server_errors)} 5xx"
    )
    record(
        "brute-force run",
        tool_version([sys.executable, "-m", "gunicorn", "--version"]),
        f"{target.backend}: POST /api/v1/auth/token, /login (limit 10/minute)",
        summary,
    )
    assert attacker.count(429) > 0, summary
    assert not server_errors, summary
    assert all(status < 400 for status in browsing), summary
    assert victim_form == 302 and victim_api == 200, summary
