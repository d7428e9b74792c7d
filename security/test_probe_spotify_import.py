"""A hostile Spotify library against a live server (issue 18, defects 6 and 12).

The attack suite's servers point Spotify at a closed port, so this probe starts its own server
on the target's database with Spotify's accounts service stood in for (tests/spotify_fixtures)
and the Web API answered by a library the attacker controls: a zero-width look-alike of a real
artist, a right-to-left override, a control character, a 3,000-character name, an exact
namesake of a real artist carrying another picture, and more new artists than a day allows.
The attacker connects (a cross-site GET must not start it; a POST without the CSRF token is
refused) and imports; the job runs in-process on the same database. Then the victim, another
account, must see none of it: no new artist in search, the real artist's picture unchanged.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from tests.live_server import serving
from tests.spotify_fixtures import AccountsStandIn, _Served
from werkzeug.wrappers import Request, Response

from musicrec.config import Settings
from musicrec.db.session import make_engine
from musicrec.services.job_running import run_job
from musicrec.services.spotify_import import MAX_IMPORTED_ADDITIONS_PER_DAY
from security.conftest import PASSWORD, Target, sign_up

pytestmark = pytest.mark.security

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FLOOD = MAX_IMPORTED_ADDITIONS_PER_DAY + 40
EVIL_PICTURE = "https://evil.example/defaced.jpg"
INDEX_REFRESH_SECONDS = 3.0  # a web worker checks its search index for changes every 2.5 s


def _hostile_names(real: str) -> list[str]:
    return [real + "\u200b", "\u202e" + real, real + "\x07", "A" * 3000, real]


class HostileLibrary:
    """Spotify's Web API for one user whose library the attacker made: followed artists only."""

    def __init__(self, real: str) -> None:
        hostile = [
            {"id": f"hostile{n}", "name": name, "images": [{"url": EVIL_PICTURE, "width": 640}]}
            for n, name in enumerate(_hostile_names(real))
        ]
        flood = [{"id": f"flood{n}", "name": f"Flood {n}", "images": []} for n in range(FLOOD)]
        self.artists = hostile + flood

    def __call__(self, environ: dict[str, object], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path
        if path in ("/v1/me", "/v1/me/"):
            body: Any = {"id": "attacker", "display_name": "Attacker"}
        elif path == "/v1/me/following":
            start = int(request.args.get("after") or 0)
            chunk = self.artists[start : start + 50]
            more = start + 50 < len(self.artists)
            after = str(start + 50) if more else None
            body = {"artists": {"items": chunk, "next": "more" if more else None,
                                "cursors": {"after": after}}}  # fmt: skip
        elif path.startswith("/v1/me/"):
            body = {"items": [], "total": 0, "next": None}
        else:
            return Response("not found", status=404)(environ, start_response)
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)


@pytest.fixture
def real_artist(target: Target) -> dict[str, Any]:
    """A popular artist of the target's catalogue, as the victim sees it."""
    answer = requests.get(f"{target.base_url}/api/v1/artists?limit=1", timeout=30)
    return dict(answer.json()["artists"][0])


@pytest.fixture
def spotify_server(target: Target, real_artist: dict[str, Any]) -> Iterator[tuple[str, dict]]:  # type: ignore[type-arg]
    accounts = _Served(AccountsStandIn())
    library = _Served(HostileLibrary(real_artist["name"]))
    env = {
        **target.env,
        "MUSICREC_SPOTIFY_API_URL": library.url + "v1/",
        "MUSICREC_SPOTIFY_ACCOUNTS_URL": accounts.url,
    }
    try:
        with serving(env, workers=1) as server:
            yield server.base_url, env
    finally:
        accounts.stop()
        library.stop()


def _csrf(device: requests.Session, url: str) -> str:
    token = _CSRF.search(device.get(url, timeout=30).text)
    assert token, f"no CSRF token on {url}"
    return token.group(1)


def _connect(base_url: str, username: str) -> requests.Session:
    """Log in and connect Spotify as the account page does; checks the forged ways fail."""
    browser = requests.Session()
    browser.post(
        f"{base_url}/login",
        data={
            "login": username,
            "password": PASSWORD,
            "csrf_token": _csrf(browser, f"{base_url}/login"),
        },
        allow_redirects=False,
        timeout=30,
    ).raise_for_status()
    cross_site = browser.get(f"{base_url}/spotify/connect", allow_redirects=False, timeout=30)
    assert cross_site.status_code in (200, 405) and "Location" not in cross_site.headers
    forged = browser.post(f"{base_url}/spotify/connect", allow_redirects=False, timeout=30)
    assert forged.status_code == 400, forged.status_code
    start = browser.post(
        f"{base_url}/spotify/connect",
        data={"csrf_token": _csrf(browser, f"{base_url}/account")},
        allow_redirects=False,
        timeout=30,
    )
    assert start.status_code == 302, start.text[:300]
    consent = requests.get(start.headers["Location"], allow_redirects=False, timeout=30)
    back = urlsplit(consent.headers["Location"])
    done = browser.get(f"{base_url}{back.path}?{back.query}", allow_redirects=False, timeout=30)
    assert done.status_code == 302, done.text[:300]
    return browser


def test_a_hostile_spotify_library_changes_nothing_others_see(
    target: Target, real_artist: dict[str, Any], spotify_server: tuple[str, dict[str, str]]
) -> None:
    base_url, env = spotify_server
    attacker = f"importer_{uuid.uuid4().hex[:8]}"
    token = sign_up(base_url, attacker)
    _connect(base_url, attacker)
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{base_url}/api/v1/me/spotify", headers=headers, timeout=30).json()[
        "connected"
    ]

    queued = requests.post(f"{base_url}/api/v1/me/spotify/import", headers=headers, timeout=30)
    assert queued.status_code == 202, queued.text
    job_id = queued.json()["job"]["id"]
    settings = Settings.from_env(env)
    engine = make_engine(settings.database_url)
    try:
        assert run_job(engine, settings, job_id) == "done"
    finally:
        engine.dispose()
    job = requests.get(f"{base_url}/api/v1/me/jobs/{job_id}", headers=headers, timeout=30)
    result = job.json()["job"]["result"]

    assert result["refused"] == 4  # the look-alike, the override, the control, the long name
    assert result["added"] == MAX_IMPORTED_ADDITIONS_PER_DAY and result["over_limit"] == 40
    time.sleep(INDEX_REFRESH_SECONDS)  # the web worker's search index sees the new rows
    victim = target.bearer
    for query in (real_artist["name"], "Flood", "AAAA"):
        found = requests.get(
            f"{base_url}/api/v1/artists", params={"q": query, "limit": 50}, headers=victim,
            timeout=30,
        ).json()["artists"]  # fmt: skip
        names = {artist["name"] for artist in found}
        assert not any(name.startswith("Flood ") or "\u200b" in name for name in names), query
        assert not any("\u202e" in name or "\x07" in name or len(name) > 200 for name in names)
    page = requests.get(f"{base_url}/artists/{real_artist['id']}", timeout=30)
    assert page.status_code == 200 and EVIL_PICTURE not in page.text
