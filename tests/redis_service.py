"""The Redis server the Redis paths are tested on: 127.0.0.1:6379, database 5 (the tests' own;
``MUSICREC_TEST_REDIS_URL`` names another). Locally an unreachable server skips those tests;
under ``CI=true`` it fails them, as PostgreSQL does (``tests.conftest._unavailable``)."""

from __future__ import annotations

import os

import redis

from tests.conftest import _unavailable

REDIS_URL = os.environ.get("MUSICREC_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def reachable_redis(url: str = REDIS_URL) -> redis.Redis:
    """A client of the test Redis database, or a skip (a failure under CI) when it is away."""
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as error:
        client.close()
        _unavailable(f"Redis is not reachable at {url}: {error}")
    return client
