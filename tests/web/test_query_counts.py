"""What each request costs the database: SQL statements and commits, counted on the app's engine.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event, commits with the
``commit`` event. SQLite's explicit ``BEGIN`` (sent by ``make_engine``) is transaction control,
not a query, and is left out so both databases give the same counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event

from musicrec.config import Settings
from tests.web.conftest import api_signup, bearer, page_signup
from tests.web.test_security_support import built_app


@dataclass
class Traffic:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def touching(self, table: str) -> list[str]:
        return [sql for sql in self.statements if table in sql]

    def updates(self) -> list[str]:
        return [sql for sql in self.statements if sql.lstrip().upper().startswith("UPDATE")]


@contextmanager
def traffic(app: Flask) -> Iterator[Traffic]:
    """Record the statements and commits sent through the app's engine inside the block."""
    engine = app.extensions["musicrec.engine"]
    seen = Traffic()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not statement.strip().upper().startswith("BEGIN"):
            seen.statements.append(statement)

    def on_commit(_conn: Any) -> None:
        seen.commits += 1

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Move the session service's clock forward: ``clock(timedelta(minutes=5))``."""
    import musicrec.services.auth as auth_service

    offset = [timedelta(0)]
    monkeypatch.setattr(auth_service, "utcnow", lambda: datetime.now(UTC) + offset[0])

    def move_to(delta: timedelta) -> None:
        offset[0] = delta

    return move_to


@pytest.mark.parametrize("path", ["/static/app.css", "/static/favicon.svg"])
def test_a_static_file_runs_no_query_even_for_a_signed_in_browser(app: Flask, path: str) -> None:
    browser = app.test_client()
    page_signup(browser)

    with traffic(app) as seen:
        response = browser.get(path)

    assert response.status_code == 200
    assert seen.statements == []
    assert seen.commits == 0


def test_health_runs_only_its_own_database_ping(app: Flask, client: FlaskClient) -> None:
    _user, token = api_signup(client)

    with traffic(app) as seen:
        response = client.get("/api/v1/health", headers=bearer(token))

    assert response.status_code == 200
    assert len(seen.statements) == 1  # the ping that reports "database": "ok"
    assert seen.touching("auth_sessions") == [] and seen.touching("users") == []
    assert seen.commits == 0


def test_an_anonymous_request_for_the_api_document_runs_no_query(
    app: Flask, client: FlaskClient
) -> None:
    with traffic(app) as seen:
        response = client.get("/api/openapi.json")

    assert response.status_code == 200
    assert seen.statements == []
    assert seen.commits == 0


@pytest.mark.parametrize("via", ["bearer", "cookie"])
def test_a_signed_in_request_reads_session_and_user_in_one_query(app: Flask, via: str) -> None:
    """GET /api/v1/me: one statement for who is asking, one for the rated count it reports."""
    client = app.test_client()
    if via == "bearer":
        _user, token = api_signup(client)
        headers = bearer(token)
    else:
        page_signup(client)
        headers = {}

    with traffic(app) as seen:
        response = client.get("/api/v1/me", headers=headers)

    assert response.status_code == 200
    auth = seen.touching("auth_sessions")
    assert len(auth) == 1 and "users" in auth[0]
    assert len(seen.statements) == 2  # the session joined with its user, then the count
    assert seen.updates() == []
    assert seen.commits == 0


def test_the_idle_clock_is_written_only_when_it_must_move(
    app: Flask, client: FlaskClient, clock: Callable[[timedelta], None]
) -> None:
    """With the default hour of idle timeout, last_seen_at moves in steps of one minute."""
    _user, token = api_signup(client)

    clock(timedelta(seconds=30))
    with traffic(app) as within_the_step:
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    clock(timedelta(minutes=2))
    with traffic(app) as past_the_step:
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    with traffic(app) as just_moved:
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    assert within_the_step.updates() == [] and within_the_step.commits == 0
    assert len(past_the_step.updates()) == 1
    assert "auth_sessions" in past_the_step.updates()[0]
    assert past_the_step.commits == 1
    assert just_moved.updates() == [] and just_moved.commits == 0


def test_a_short_idle_timeout_moves_the_idle_clock_in_smaller_steps(
    app_settings: Settings, db_engine: Engine, clock: Callable[[timedelta], None]
) -> None:
    """Ten idle minutes: the step is 1/60 of that, ten seconds, not a whole minute."""
    with built_app(app_settings, session_idle=timedelta(minutes=10)) as app:
        client = app.test_client()
        _user, token = api_signup(client)

        clock(timedelta(seconds=5))
        with traffic(app) as within_the_step:
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
        clock(timedelta(seconds=30))
        with traffic(app) as past_the_step:
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    assert within_the_step.updates() == []
    assert len(past_the_step.updates()) == 1 and past_the_step.commits == 1


def test_a_recommendation_request_reads_twice_and_writes_once(
    app: Flask, client: FlaskClient, catalogue: dict[str, int], db_engine: Engine
) -> None:
    """POST /api/v1/me/recommendations: who is asking, the user's history (ratings, past picks
    and dislikes as one row of three lists), one INSERT ... RETURNING; names come from the
    index."""
    from tests.factories import train_in_transaction

    train_in_transaction(db_engine, app.config["MUSICREC_SETTINGS"].model_dir, factors=4)
    _user, token = api_signup(client)
    client.put(
        f"/api/v1/me/ratings/{catalogue['Radiohead']}", json={"rating": 9}, headers=bearer(token)
    )
    client.post("/api/v1/me/recommendations?n=2", headers=bearer(token))  # warms the index

    with traffic(app) as seen:
        response = client.post("/api/v1/me/recommendations?n=2", headers=bearer(token))

    assert response.status_code == 201 and response.get_json()["recommendations"]
    assert len(seen.statements) == 3, seen.statements
    assert "FROM dislikes" in seen.statements[1] and "INSERT" in seen.statements[2]
    assert seen.commits == 1


def test_a_search_runs_no_query_once_the_index_is_built(
    app: Flask, client: FlaskClient, catalogue: dict[str, int]
) -> None:
    client.get("/api/v1/artists?q=ra")  # builds the index

    with traffic(app) as seen:
        response = client.get("/api/v1/artists?q=radio")

    assert response.get_json()["artists"][0]["name"] == "Radiohead"
    assert seen.statements == []
