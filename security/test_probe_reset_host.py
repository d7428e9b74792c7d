"""A forged Host header on the password-reset form (issue 18, defects 2 and 15).

An attacker asks for a reset of the victim's account with ``Host: evil.example`` (and
``X-Forwarded-Host``), hoping the mailed link points at their site and carries the victim's
token there. The mail (the development mailbox, ``<instance>/mail``) must carry the configured
origin: the address ``musicrec serve`` is bound to when MUSICREC_PUBLIC_URL is unset, else
MUSICREC_PUBLIC_URL. The token must not appear in the server's log either.
"""

from __future__ import annotations

import re
import time
import uuid
from email import message_from_bytes
from pathlib import Path

import pytest
import requests
from tests.live_server import LiveServer, serving

from security.conftest import Target, sign_up

pytestmark = pytest.mark.security

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"(\S+)/reset-password/([A-Za-z0-9_-]+)")
FORGED = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
CONFIGURED = "https://music.example.org"
MAIL_TIMEOUT = 20.0


def _ask_with_forged_host(base_url: str, email: str) -> int:
    with requests.Session() as attacker:
        page = attacker.get(f"{base_url}/forgot-password", headers=FORGED, timeout=30)
        token = _CSRF.search(page.text)
        assert token, f"no CSRF token on the form ({page.status_code})"
        answer = attacker.post(
            f"{base_url}/forgot-password",
            data={"email": email, "csrf_token": token.group(1)},
            headers=FORGED,
            timeout=30,
        )
        return answer.status_code


def _mail_to(mailbox: Path, email: str) -> str:
    """The body of the first message to ``email`` in the mailbox (mail goes after the answer)."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        for path in sorted(mailbox.glob("*.eml")):
            mail = message_from_bytes(path.read_bytes())
            if mail["To"] == email:
                return str(mail.get_payload(decode=True).decode())  # type: ignore[union-attr]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {email} in {mailbox} after {MAIL_TIMEOUT:.0f} s")


def _probe(server: LiveServer, mailbox: Path) -> tuple[str, str]:
    """Ask with a forged Host for a new account's reset; the mailed link's origin and token."""
    username = f"victim_{uuid.uuid4().hex[:10]}"
    sign_up(server.base_url, username)
    email = f"{username}@example.org"
    assert _ask_with_forged_host(server.base_url, email) == 200
    body = _mail_to(mailbox, email)
    link = _LINK.search(body)
    assert link, body
    return link.group(1), link.group(2)


def test_a_forged_host_never_reaches_the_reset_mail(target: Target, record) -> None:  # type: ignore[no-untyped-def]
    mailbox = Path(target.env["MUSICREC_INSTANCE_DIR"]) / "mail"
    found: dict[str, str] = {}
    origin, token = _probe(target.server, mailbox)
    if origin != target.base_url:
        found["bound address"] = origin
    leaked = token in target.server.log.read_text(errors="replace")

    with serving({**target.env, "MUSICREC_PUBLIC_URL": CONFIGURED}, workers=1) as configured:
        public_origin, _ = _probe(configured, mailbox)
    if public_origin != CONFIGURED:
        found["MUSICREC_PUBLIC_URL"] = public_origin

    record(
        "reset Host probe",
        "-",
        f"{target.backend} {target.base_url}",
        "; ".join(f"{setting}: link on {got}" for setting, got in found.items())
        + ("; token in the server log" if leaked else "")
        or "none",
    )
    assert not found, found
    assert not leaked
