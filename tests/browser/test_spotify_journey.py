"""Spotify in a real browser: connect through the accounts stand-in, import the library (a job
run by ``musicrec worker``, followed live), see the imported ratings, get recommendations with
their top songs (Last.fm stand-in, matched on Spotify through Prism), save the playlist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import (
    DESKTOP,
    _free_port,
    new_page,
    running_musicrec,
    start_serve,
)
from tests.browser.test_journey import expect, sign_up_through_form, unique_username
from tests.spotify_fixtures import (
    CLIENT_ID,
    CLIENT_SECRET,
    AccountsStandIn,
    LastfmStandIn,
    _Served,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def spotify_server(live_instance: dict[str, str], prism_url: str) -> Iterator[str]:
    """``musicrec serve`` and ``musicrec worker`` on the browser instance, with Spotify's
    accounts service and Last.fm stood in for and the Web API served by Prism."""
    accounts, lastfm = AccountsStandIn(), LastfmStandIn()
    served_accounts, served_lastfm = _Served(accounts), _Served(lastfm)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **live_instance,
        "SPOTIFY_CLIENT_ID": CLIENT_ID,
        "SPOTIFY_CLIENT_SECRET": CLIENT_SECRET,
        "SPOTIFY_REDIRECT_URI": f"{base_url}/spotify/callback",
        "MUSICREC_SPOTIFY_API_URL": prism_url,
        "MUSICREC_SPOTIFY_ACCOUNTS_URL": served_accounts.url,
        "LASTFM_API_KEY": "browser-test-key",
        "MUSICREC_LASTFM_API_URL": served_lastfm.url + "2.0/",
    }
    try:
        with (
            running_musicrec(env, "spotify-worker.log", "worker", "--poll-seconds", "0.2"),
            start_serve(env, "spotify-serve.log", port) as served_url,
        ):
            yield served_url
    finally:
        served_accounts.stop()
        served_lastfm.stop()


def test_connect_import_recommend_and_save_a_playlist(browser: Any, spotify_server: str) -> None:
    context, page, watch = new_page(browser, spotify_server, DESKTOP)
    try:
        sign_up_through_form(page, unique_username("spotify"))

        page.goto("/account")
        page.get_by_role("button", name="Connect Spotify").click()  # a POST form
        page.wait_for_url(re.compile(r"/account$"))
        expect(page.locator("#spotify-status")).to_contain_text("Connected as")

        page.get_by_role("button", name="Import my Spotify library as ratings").click()
        job = page.locator("#spotify-jobs li.job").first
        expect(job.locator("[data-job-state-text]")).to_have_text("done", timeout=60_000)
        expect(job.locator("[data-job-result]")).to_contain_text("ratings imported")

        page.goto("/ratings")
        expect(page.locator("#my-ratings > li").first).to_be_visible()

        page.goto("/recommendations")
        page.get_by_role("button", name="Get new recommendations").click()
        expect(page.locator("#new-recommendations li.card").first).to_be_visible()
        expect(page.locator("#new-recommendations ol.songs a").first).to_be_visible(timeout=30_000)

        page.get_by_role("button", name="Save as a Spotify playlist").click()
        expect(page.locator("#playlist-status")).to_contain_text("Saved", timeout=30_000)
        watch.check()
    finally:
        context.close()
