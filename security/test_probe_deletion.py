"""Deleting an account on a live server (issue 18, defect 4).

The account adds an artist (theirs alone until the operator confirms it), then deletes itself
on the account page. Nobody may find that artist afterwards, neither a new account nor a
visitor, on any web worker, after the search index was rebuilt, or after a restart; and the
next sign-up must get a new id, never the deleted account's (SQLite handed out the highest id
again).
"""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from tests.live_server import serving

from security.conftest import PASSWORD, Target, sign_up

pytestmark = pytest.mark.security

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INDEX_REFRESH_SECONDS = 2.5  # a web worker checks its search index for changes this often
TRIES = 12  # requests per check, so that both of the server's workers answer some


def _csrf(device: requests.Session, url: str) -> str:
    token = _CSRF.search(device.get(url, timeout=30).text)
    assert token, f"no CSRF token on {url}"
    return token.group(1)


def _delete_on_the_account_page(base_url: str, username: str) -> None:
    with requests.Session() as browser:
        answer = browser.post(
            f"{base_url}/login",
            data={
                "login": username,
                "password": PASSWORD,
                "csrf_token": _csrf(browser, f"{base_url}/login"),
            },
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text[:300]
        answer = browser.post(
            f"{base_url}/account/delete",
            data={"password": PASSWORD, "csrf_token": _csrf(browser, f"{base_url}/account")},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, answer.text[:300]


def _me(base_url: str, token: str) -> int:
    answer = requests.get(
        f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    answer.raise_for_status()
    return int(answer.json()["user"]["id"])


def _seen(base_url: str, name: str, artist_id: int, headers: dict[str, str]) -> list[str]:
    """Where the artist shows up for a caller with ``headers``, over several requests."""
    seen = []
    for _ in range(TRIES):
        search = requests.get(
            f"{base_url}/api/v1/artists", params={"q": name}, headers=headers, timeout=30
        )
        assert search.status_code == 200
        if any(artist["id"] == artist_id for artist in search.json()["artists"]):
            seen.append("search")
        page = requests.get(f"{base_url}/api/v1/artists/{artist_id}", headers=headers, timeout=30)
        if page.status_code != 404:
            seen.append(f"artist page {page.status_code}")
    return seen


def test_a_deleted_accounts_private_artist_stays_hidden_and_its_id_unused(
    target: Target, record
) -> None:  # type: ignore[no-untyped-def]
    base, suffix = target.base_url, uuid.uuid4().hex[:8]
    owner = f"leaver_{suffix}"
    token = sign_up(base, owner)
    owner_id = _me(base, token)
    name = f"Quillwort {suffix}"
    added = requests.post(
        f"{base}/api/v1/artists",
        json={"name": name},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert added.status_code == 201, added.text
    artist_id = int(added.json()["artist"]["id"])
    assert _seen(base, name, artist_id, {}) == []  # private from the start

    _delete_on_the_account_page(base, owner)
    newcomer = sign_up(base, f"newcomer_{suffix}")
    newcomer_id = _me(base, newcomer)
    found = {
        "new account, at once": _seen(
            base, name, artist_id, {"Authorization": f"Bearer {newcomer}"}
        ),
        "visitor, at once": _seen(base, name, artist_id, {}),
    }
    time.sleep(INDEX_REFRESH_SECONDS)  # every worker has rebuilt its index since
    found["new account, index rebuilt"] = _seen(
        base, name, artist_id, {"Authorization": f"Bearer {newcomer}"}
    )
    found["visitor, index rebuilt"] = _seen(base, name, artist_id, {})
    with serving(target.env, workers=1) as restarted:  # builds its index from the database
        found["new account, after a restart"] = _seen(
            restarted.base_url, name, artist_id, {"Authorization": f"Bearer {newcomer}"}
        )
        found["visitor, after a restart"] = _seen(restarted.base_url, name, artist_id, {})

    leaks = {who: where for who, where in found.items() if where}
    reused = newcomer_id <= owner_id
    record(
        "deletion probe",
        "-",
        f"{target.backend} {base}",
        "; ".join(f"{who}: {sorted(set(where))}" for who, where in leaks.items())
        + (f"; new account got id {newcomer_id} after {owner_id}" if reused else "")
        or "none",
    )
    assert not leaks, leaks
    assert newcomer_id > owner_id
