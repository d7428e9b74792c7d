"""How many requests, and how long, an import of a typical library takes: 50 top artists per
time range, 200 followed artists, 500 saved tracks (and 50 recently played), against an
in-process fake of the Web API (so the time is ours, without Spotify's latency)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, func, insert, select

from musicrec.config import Settings
from musicrec.db.models import Rating, User
from musicrec.db.session import transaction
from musicrec.db.types import utcnow
from musicrec.integrations.http_retries import RetryingHttp
from musicrec.integrations.spotify.authorization import TokenSet
from musicrec.services import spotify_connection
from musicrec.services.spotify_import import import_library
from tests.integrations.fake_http import FakeSession
from tests.spotify_fixtures import spotify_on_fake_api

TOP, FOLLOWED, SAVED, PLAYED = 50, 200, 500, 50


def _artist(n: int) -> dict[str, Any]:
    return {"id": f"artist{n}", "name": f"Artist {n}", "images": []}


def _track(n: int) -> dict[str, Any]:
    return {
        "id": f"t{n}",
        "uri": f"spotify:track:t{n}",
        "name": f"T{n}",
        "artists": [_artist(n % 300)],
    }


def _offset(items: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    def page(_m: str, _u: str, kwargs: dict[str, Any]) -> tuple[int, Any]:
        offset, limit = kwargs["params"]["offset"], kwargs["params"]["limit"]
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        return 200, {"items": chunk, "total": len(items), "next": "more" if more else None}

    return page


def _followed(_m: str, _u: str, kwargs: dict[str, Any]) -> tuple[int, Any]:
    start = int(kwargs["params"].get("after") or 0)
    chunk = [_artist(n) for n in range(start, min(start + 50, FOLLOWED))]
    more = start + 50 < FOLLOWED
    return 200, {
        "artists": {
            "items": chunk,
            "next": "more" if more else None,
            "cursors": {"after": str(start + 50) if more else None},
        }
    }


def library() -> FakeSession:
    return FakeSession(
        {
            "GET /v1/me/top/artists": _offset([_artist(n) for n in range(TOP)]),
            "GET /v1/me/following": _followed,
            "GET /v1/me/tracks": _offset([{"track": _track(n)} for n in range(SAVED)]),
            "GET /v1/me/player/recently-played": lambda *_: (
                200,
                {"items": [{"track": _track(n)} for n in range(PLAYED)], "next": None},
            ),
        }
    )


def test_a_typical_library_imports_in_few_requests(settings: Settings, db_engine: Engine) -> None:
    settings = replace(
        settings,
        spotify=spotify_on_fake_api(),
    )
    with transaction(db_engine) as session:
        user = session.execute(
            insert(User).values(username="ada", username_key="ada").returning(User.id)
        ).scalar_one()
        expires = utcnow().timestamp() + 3600
        tokens = TokenSet("access", "refresh", expires, "")
        spotify_connection.store_tokens(
            session, settings.spotify, user, tokens, authorized_at=utcnow()
        )
    fake = library()

    start = time.perf_counter()
    result = import_library(
        db_engine,
        settings,
        user,
        lambda _p: None,
        http=RetryingHttp(session=fake),  # type: ignore[arg-type]
    )
    seconds = time.perf_counter() - start

    # 3 top-artist pages + 4 followed pages + 10 saved-track pages + 1 recently played
    assert result["requests"] == 18 == len(fake.sent)
    with transaction(db_engine) as session:
        count = session.execute(select(func.count()).select_from(Rating)).scalar_one()
    assert count == result["rated"] == result["added"] == 300
    print(
        f"\nimport of {TOP} top / {FOLLOWED} followed / {SAVED} saved: "
        f"{result['requests']} requests, {seconds:.2f} s without network latency"
    )
    assert seconds < 30
