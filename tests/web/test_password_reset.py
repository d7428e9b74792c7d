"""Password reset by email, over HTTP: same answer for every address, a hashed single-use token
that expires after 30 minutes, mail written to the instance folder in development (after the
answer: ``_mailbox`` waits for the app's outbox)."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, update

from musicrec.config import DEVELOPMENT_PUBLIC_URL
from musicrec.db.models import PasswordReset
from musicrec.services.password_reset import RESET_VALID_FOR
from musicrec.web.auth.recovery import OUTBOX
from tests.web.conftest import PASSWORD, csrf_from, page_login, page_signup
from tests.web.test_security_support import client_with_cookie, token_cookie

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(re.escape(DEVELOPMENT_PUBLIC_URL) + r"/reset-password/(\S+)")


def _mailbox(app: Flask) -> Path:
    """The development mailbox, once the reset requests asked so far were handled."""
    app.extensions[OUTBOX].wait(10)
    return app.config["MUSICREC_SETTINGS"].instance_dir / "mail"


def _ask(client: FlaskClient, email: str):
    token = csrf_from(client, "/forgot-password")
    return client.post("/forgot-password", data={"email": email, "csrf_token": token})


def _link(app: Flask) -> str:
    mails = sorted(_mailbox(app).glob("*.eml"))
    assert len(mails) == 1
    body = message_from_bytes(mails[0].read_bytes()).get_payload(decode=True).decode()
    match = LINK.search(body)
    assert match, body
    return match.group(1)


def _reset(client: FlaskClient, token: str, password: str = NEW_PASSWORD):
    path = f"/reset-password/{token}"
    return client.post(path, data={"new_password": password, "csrf_token": csrf_from(client)})


def test_known_and_unknown_addresses_get_the_same_answer(app: Flask, client: FlaskClient) -> None:
    username = page_signup(app.test_client())

    started = time.perf_counter()
    known = _ask(client, f"{username}@example.com")
    known_time = time.perf_counter() - started
    started = time.perf_counter()
    unknown = _ask(client, "nobody-at-all@example.com")
    unknown_time = time.perf_counter() - started

    assert known.status_code == unknown.status_code == 200
    strip = re.compile(r'name="csrf(?:_token|-token)" (?:value|content)="[^"]+"')
    assert strip.sub("", known.get_data(as_text=True)) == strip.sub(
        "", unknown.get_data(as_text=True)
    )
    assert "If an account uses this address" in known.get_data(as_text=True)
    assert abs(known_time - unknown_time) < 0.5  # no slow mail server in the answer's time
    assert len(list(_mailbox(app).glob("*.eml"))) == 1  # only the known address got mail


def test_the_mailed_link_sets_a_new_password_once(
    app: Flask, client: FlaskClient, db_engine: Engine
) -> None:
    browser = app.test_client()
    username = page_signup(browser)
    old_session = token_cookie(browser)
    assert old_session
    _ask(client, f"{username}@example.com")
    token = _link(app)

    form = client.get(f"/reset-password/{token}")
    done = _reset(client, token)
    again = _reset(client, token, "yet another passphrase")

    assert form.status_code == 200 and 'name="new_password"' in form.get_data(as_text=True)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert again.status_code == 400
    assert "invalid, used or expired" in again.get_data(as_text=True)
    assert page_login(app.test_client(), username, PASSWORD).status_code == 401
    assert page_login(app.test_client(), username, NEW_PASSWORD).status_code == 302
    ended = client_with_cookie(app, old_session).get("/rate")
    assert ended.status_code == 401 and "Your session ended" in ended.get_data(as_text=True)
    with db_engine.connect() as connection:
        stored = connection.execute(select(PasswordReset.token_hash)).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # never the token itself


def test_an_expired_link_is_refused(app: Flask, client: FlaskClient, db_engine: Engine) -> None:
    username = page_signup(app.test_client())
    _ask(client, f"{username}@example.com")
    token = _link(app)
    with db_engine.begin() as connection:
        created = connection.execute(select(PasswordReset.created_at)).scalar_one()
        connection.execute(update(PasswordReset).values(expires_at=created - timedelta(seconds=1)))

    form = client.get(f"/reset-password/{token}")
    used = _reset(client, token)

    assert timedelta(minutes=30) == RESET_VALID_FOR
    assert form.status_code == 400 and "invalid, used or expired" in form.get_data(as_text=True)
    assert used.status_code == 400
    assert page_login(app.test_client(), username, PASSWORD).status_code == 302


def test_a_weak_new_password_is_refused_and_the_link_still_works(
    app: Flask, client: FlaskClient
) -> None:
    username = page_signup(app.test_client())
    _ask(client, f"{username}@example.com")
    token = _link(app)

    weak = _reset(client, token, "short")
    good = _reset(client, token)

    assert weak.status_code == 400 and 'id="new_password-error"' in weak.get_data(as_text=True)
    assert good.status_code == 302


def test_the_login_page_links_to_the_reset(client: FlaskClient) -> None:
    assert "/forgot-password" in client.get("/login").get_data(as_text=True)


def test_with_a_public_url_the_link_ignores_the_request_host(
    app: Flask, client: FlaskClient
) -> None:
    from dataclasses import replace

    settings = app.config["MUSICREC_SETTINGS"]
    app.config["MUSICREC_SETTINGS"] = replace(settings, public_url="https://music.example.org")
    username = page_signup(app.test_client())
    token = csrf_from(client, "/forgot-password")

    client.post("/forgot-password", data={"email": f"{username}@example.com", "csrf_token": token})

    mails = list(_mailbox(app).glob("*.eml"))
    assert len(mails) == 1
    text = mails[0].read_text()
    assert "https://music.example.org/reset-password/" in text
    assert "http://localhost" not in text  # the request's host is not used
