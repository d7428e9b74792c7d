"""MUSICREC_RATE_LIMIT_STORAGE=redis://...: the production setting for several nodes. Two apps
(two nodes) on one Redis count one limit; nothing is counted in the database. Runs on Redis
database 5 (``tests.redis_service``): skipped locally without Redis, failed under CI=true."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from sqlalchemy import Engine, func, select

from musicrec import create_app
from musicrec.config import Settings
from musicrec.db.models import RateLimitCounter
from musicrec.db.session import transaction
from tests.redis_service import REDIS_URL, reachable_redis

PASSWORD = "a long enough passphrase"
PREFIX = "LIMITS*"  # the keys the limits library writes


@pytest.fixture
def limits_redis() -> Iterator[redis.Redis]:
    client = reachable_redis()
    for key in client.scan_iter(PREFIX):
        client.delete(key)
    yield client
    for key in client.scan_iter(PREFIX):
        client.delete(key)
    client.close()


def _sign_ups(settings: Settings, start: int, count: int) -> list[int]:
    app = create_app(settings)
    client = app.test_client()
    try:
        return [
            client.post(
                "/api/v1/auth/signup",
                json={"username": f"redis{n}", "email": f"r{n}@example.org", "password": PASSWORD},
            ).status_code
            for n in range(start, start + count)
        ]
    finally:
        app.extensions["musicrec.engine"].dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_nodes_on_one_redis_share_the_sign_up_limit(
    settings: Settings, db_engine: Engine, limits_redis: redis.Redis
) -> None:
    on_redis = replace(settings, rate_limits="3/minute", rate_limit_storage=REDIS_URL)

    first_node = _sign_ups(on_redis, 0, 2)
    second_node = _sign_ups(on_redis, 2, 2)

    assert first_node == [201, 201]
    assert second_node == [201, 429]
    assert list(limits_redis.scan_iter(PREFIX)), "no limit counter in Redis"
    with transaction(db_engine) as session:
        counted = session.execute(select(func.count()).select_from(RateLimitCounter)).scalar_one()
    assert counted == 0
