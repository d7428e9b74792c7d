"""Concurrent requests on one database: writers take turns, never fail (both databases)."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter

from flask import Flask
from sqlalchemy import Engine, event

from tests.web.conftest import PASSWORD, api_signup, bearer, unique_name

LOGINS_PER_THREAD = 20


def test_logins_and_ratings_at_once_never_answer_an_error(
    app: Flask, catalogue: dict[str, int]
) -> None:
    """Six threads log in while two rate: every answer is a success (on SQLite a deferred
    transaction that read and then wrote failed at once with 'database is locked': 503)."""
    setup = app.test_client()
    names = [unique_name() for _ in range(8)]
    tokens = [api_signup(setup, name)[1] for name in names]
    artist_ids = list(catalogue.values())
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def log_in(username: str) -> None:
        client = app.test_client()
        for _ in range(LOGINS_PER_THREAD):
            answer = client.post(
                "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
            )
            with lock:
                statuses[answer.status_code] += 1

    def rate(token: str) -> None:
        client = app.test_client()
        for round_ in range(LOGINS_PER_THREAD):
            artist = artist_ids[round_ % len(artist_ids)]
            answer = client.put(
                f"/api/v1/me/ratings/{artist}",
                json={"rating": 1 + round_ % 10},
                headers=bearer(token),
            )
            with lock:
                statuses[answer.status_code] += 1

    threads = [threading.Thread(target=log_in, args=(name,)) for name in names[:6]]
    threads += [threading.Thread(target=rate, args=(token,)) for token in tokens[6:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sum(statuses.values()) == 8 * LOGINS_PER_THREAD
    assert set(statuses) <= {200, 201}, statuses


class _RecordedBody(io.BytesIO):
    """A request body that notes in ``events`` when the server reads it."""

    def __init__(self, data: bytes, events: list[str]) -> None:
        super().__init__(data)
        self.events = events

    def read(self, size: int | None = -1) -> bytes:
        self.events.append("body")
        return super().read(size)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        self.events.append("body")
        return super().readinto(buffer)


def test_the_body_is_read_before_the_first_query(app: Flask, catalogue: dict[str, int]) -> None:
    """A token check opens a transaction (SQLite's write lock, for a PUT) and a slow body would
    hold it while it trickles in: the whole body is read first."""
    client = app.test_client()
    _, token = api_signup(client)
    events: list[str] = []
    body = json.dumps({"rating": 7}).encode()

    def statement(*_args: object) -> None:
        events.append("sql")

    engine: Engine = app.extensions["musicrec.engine"]
    event.listen(engine, "before_cursor_execute", statement)
    try:
        answer = client.put(
            f"/api/v1/me/ratings/{catalogue['Radiohead']}",
            input_stream=_RecordedBody(body, events),
            content_length=len(body),
            content_type="application/json",
            headers=bearer(token),
        )
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert answer.status_code in (200, 201), answer.get_json()
    assert "sql" in events and events.index("body") < events.index("sql"), events
