"""Log-ins over HTTP keep an account's sessions bounded (issue 18, defect 13: six threads made
363 sessions in 24 s, none ever purged)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import Engine, func, select

from musicrec.db.models import AuthSession
from musicrec.services.auth import KEEP_ENDED_SESSIONS, MAX_LIVE_SESSIONS
from tests.web.conftest import PASSWORD, api_signup, bearer


def test_log_ins_beyond_the_cap_end_the_oldest_sessions(app: Flask, db_engine: Engine) -> None:
    client = app.test_client()
    _user_id, first = api_signup(client, "busy")
    credentials = {"username": "busy", "password": PASSWORD}
    tokens = [
        client.post("/api/v1/auth/token", json=credentials).get_json()["token"]
        for _ in range(3 * MAX_LIVE_SESSIONS)
    ]

    statuses = [client.get("/api/v1/me", headers=bearer(t)).status_code for t in [first, *tokens]]

    assert statuses[-MAX_LIVE_SESSIONS:] == [200] * MAX_LIVE_SESSIONS
    assert statuses[:-MAX_LIVE_SESSIONS] == [401] * (len(statuses) - MAX_LIVE_SESSIONS)
    with db_engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(AuthSession)).scalar_one()
    assert rows <= MAX_LIVE_SESSIONS + KEEP_ENDED_SESSIONS
