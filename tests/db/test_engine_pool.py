"""The web processes' pool size: applied on PostgreSQL, left out on SQLite."""

from __future__ import annotations

from sqlalchemy.pool import QueuePool

from musicrec.db.session import make_engine


def test_the_pool_size_is_applied_on_postgresql_and_left_out_on_sqlite(database_url: str) -> None:
    engine = make_engine(database_url, pool=(8, 8))
    try:
        pool = engine.pool
        if database_url.startswith("sqlite"):
            assert not isinstance(pool, QueuePool) or pool.size() != 8
        else:
            assert isinstance(pool, QueuePool)
            assert (pool.size(), pool._max_overflow) == (8, 8)
    finally:
        engine.dispose()
