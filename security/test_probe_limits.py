"""Rate limits against a burst on a multi-worker server (issue 18, defect 14).

The attack suite's server runs with limits off, so this probe starts its own on the same
database with the default limit (10/minute) and the default limit storage, two gevent workers.
From one address it sends 30 sign-ups at the same moment, then 30 password-reset requests: each
burst must get exactly 10 through whichever worker answers (with counts kept per worker, up to
20 got through). The database's counters are emptied before and after, so that limits spent by
other probes on this database (or by this one) do not leak between them.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator

import pytest
import requests
from tests.bursts import burst
from tests.live_server import serving

from musicrec.db import rate_limits
from musicrec.db.session import make_engine, transaction
from security.conftest import PASSWORD, Target
from security.report import tool_version

pytestmark = pytest.mark.security

LIMIT = 10
BURST = 30
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _forget_counts(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            rate_limits.forget_all(session)
    finally:
        engine.dispose()


@pytest.fixture
def limited(target: Target) -> Iterator[str]:
    """The base URL of a server on the target's database with the default limits."""
    env = {**target.env, "MUSICREC_RATE_LIMITS": f"{LIMIT}/minute"}
    env.pop("MUSICREC_RATE_LIMIT_STORAGE", None)
    _forget_counts(env["MUSICREC_DATABASE_URL"])
    try:
        with serving(env, workers=2) as server:
            yield server.base_url
    finally:
        _forget_counts(env["MUSICREC_DATABASE_URL"])


def test_a_burst_from_one_address_gets_exactly_the_limit(
    target: Target,
    limited: str,
    record,  # type: ignore[no-untyped-def]
) -> None:
    tag = uuid.uuid4().hex[:6]

    def sign_up(number: int) -> int:
        name = f"burst{tag}{number}"
        return requests.post(
            f"{limited}/api/v1/auth/signup",
            json={"username": name, "email": f"{name}@example.org", "password": PASSWORD},
            timeout=60,
        ).status_code

    signups = burst(sign_up, BURST)
    browser = requests.Session()
    token = _CSRF.search(browser.get(f"{limited}/forgot-password", timeout=30).text)
    assert token, "no CSRF token on the password-reset page"
    cookies = browser.cookies.get_dict()

    def ask_reset(number: int) -> int:
        return requests.post(
            f"{limited}/forgot-password",
            data={"email": f"nobody{tag}{number}@example.org", "csrf_token": token.group(1)},
            cookies=cookies,
            timeout=60,
        ).status_code

    resets = burst(ask_reset, BURST)

    summary = (
        f"sign-ups: {signups.count(201)}/{BURST} passed, {signups.count(429)} 429; "
        f"reset requests: {resets.count(200)}/{BURST} passed, {resets.count(429)} 429; "
        f"5xx: {sum(status >= 500 for status in signups + resets)}"
    )
    record(
        "limit burst",
        tool_version([sys.executable, "-m", "gunicorn", "--version"]),
        f"{target.backend}: {BURST} at once, POST /api/v1/auth/signup, /forgot-password "
        f"({LIMIT}/minute, 2 workers)",
        summary,
    )
    assert sorted(signups) == [201] * LIMIT + [429] * (BURST - LIMIT), summary
    assert sorted(resets) == [200] * LIMIT + [429] * (BURST - LIMIT), summary
