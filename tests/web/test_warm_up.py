"""A worker's start (``web.warm_up``): the search index is built before the first request, and
every object alive then is frozen out of the cyclic collector's walks."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from musicrec.web.warm_up import warm_up
from tests.web.test_query_counts import traffic


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Give the test process its objects back to the collector afterwards."""
    try:
        yield
    finally:
        gc.unfreeze()


def test_the_first_search_after_warm_up_runs_no_query(
    app: Flask, catalogue: dict[str, int], unfrozen: None
) -> None:
    warm_up(app)

    with traffic(app) as seen:
        found = app.test_client().get("/api/v1/artists?q=radio").get_json()

    assert found["artists"][0]["name"] == "Radiohead"
    assert seen.statements == []


def test_warm_up_freezes_what_is_alive_so_a_full_collection_skips_it(
    app: Flask, catalogue: dict[str, int], unfrozen: None
) -> None:
    """The regression behind the shared ~300 ms stalls at saturation: a full collection walked
    every module's functions and the search index; after the freeze it walks only what
    requests made since."""
    gc.collect()
    started = time.perf_counter()
    gc.collect()
    before = time.perf_counter() - started

    frozen = warm_up(app)
    started = time.perf_counter()
    gc.collect()
    after = time.perf_counter() - started

    assert frozen > 50_000
    assert after < before / 2, (before, after)
