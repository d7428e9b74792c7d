"""Rate limits hold for the whole server, not per worker (issue 18, defect 14).

``musicrec serve`` runs two gevent workers with the default limit storage (the database). A
burst from one address must let exactly the limit through, whichever worker answers each
request; so must password checks sent one by one on fresh connections (which the kernel hands
to either worker).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, select

from musicrec import create_app
from musicrec.config import Settings
from musicrec.db.models import RateLimitCounter
from musicrec.db.session import transaction
from tests.bursts import burst
from tests.live_server import LiveServer, instance_env, prepare_instance, serving

LIMIT = 10
BURST = 30
PASSWORD = "a long enough passphrase"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """Two workers, limits on (``LIMIT``/minute), the default storage."""
    instance = tmp_path / "instance"
    env = instance_env(
        instance,
        database_url,
        MUSICREC_RATE_LIMITS=f"{LIMIT}/minute",
        MUSICREC_FAST_PASSWORD_HASHING="1",
    )
    env.pop("MUSICREC_RATE_LIMIT_STORAGE", None)
    prepare_instance(env, None, train=False)
    with serving(env, workers=2) as live:
        yield live


def csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=30)
    match = _CSRF.search(page.text)
    assert match, f"no CSRF token at {url} ({page.status_code})"
    return match.group(1)


@pytest.mark.slow
def test_a_burst_of_signups_and_reset_requests_lets_exactly_the_limit_through(
    server: LiveServer,
) -> None:
    def sign_up(number: int) -> int:
        name = f"burst{number}"
        return requests.post(
            f"{server.base_url}/api/v1/auth/signup",
            json={"username": name, "email": f"{name}@example.org", "password": PASSWORD},
            timeout=60,
        ).status_code

    signups = burst(sign_up, BURST)

    browser = requests.Session()
    token = csrf(browser, f"{server.base_url}/forgot-password")
    cookies = browser.cookies.get_dict()

    def ask_reset(number: int) -> int:
        return requests.post(
            f"{server.base_url}/forgot-password",
            data={"email": f"nobody{number}@example.org", "csrf_token": token},
            cookies=cookies,
            timeout=60,
        ).status_code

    resets = burst(ask_reset, BURST)

    assert sorted(signups) == [201] * LIMIT + [429] * (BURST - LIMIT), (
        f"{signups.count(201)} of {BURST} sign-ups passed: {signups}"
    )
    assert sorted(resets) == [200] * LIMIT + [429] * (BURST - LIMIT), (
        f"{resets.count(200)} of {BURST} reset requests passed: {resets}"
    )


@pytest.mark.slow
def test_wrong_current_passwords_are_counted_by_every_worker(server: LiveServer) -> None:
    requests.post(
        f"{server.base_url}/api/v1/auth/signup",
        json={"username": "checker", "email": "checker@example.org", "password": PASSWORD},
        timeout=30,
    ).raise_for_status()
    browser = requests.Session()
    login = browser.post(
        f"{server.base_url}/login",
        data={
            "login": "checker",
            "password": PASSWORD,
            "csrf_token": csrf(browser, f"{server.base_url}/login"),
        },
        allow_redirects=False,
        timeout=30,
    )
    assert login.status_code == 302
    token = csrf(browser, f"{server.base_url}/account")
    cookies = browser.cookies.get_dict()

    statuses = [
        requests.post(  # a new connection each time: either worker may answer
            f"{server.base_url}/account/password",
            data={
                "current_password": f"wrong guess {n}",
                "new_password": "another long passphrase",
                "csrf_token": token,
            },
            cookies=cookies,
            headers={"Connection": "close"},
            timeout=60,
        ).status_code
        for n in range(LIMIT + 5)
    ]

    assert statuses == [400] * LIMIT + [429] * 5, statuses


@pytest.mark.parametrize("storage", ["database", "memory://"])
def test_the_storage_setting_chooses_where_limits_are_counted(
    settings: Settings, db_engine: Engine, storage: str
) -> None:
    app = create_app(replace(settings, rate_limits="3/minute", rate_limit_storage=storage))
    client = app.test_client()

    statuses = [
        client.post(
            "/api/v1/auth/signup",
            json={"username": f"limited{n}", "email": f"l{n}@example.org", "password": PASSWORD},
        ).status_code
        for n in range(4)
    ]

    assert statuses == [201, 201, 201, 429]
    with transaction(db_engine) as session:
        counts = list(session.execute(select(RateLimitCounter.count)).scalars())
    assert counts == ([4] if storage == "database" else [])
    app.extensions["musicrec.engine"].dispose()
