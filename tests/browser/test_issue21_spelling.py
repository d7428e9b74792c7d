"""Issue 21, item 10's last part, in a real browser at 1280 px and on a 375 px phone: once the
Spotify imports of enough listeners spell a shared artist better ("Sigur Rós" for the starter
data's "Sigur Ros"), search and the artist page show that spelling.

The listeners' proposals are written straight into a copy of the browser instance (what three
imports record, ``db.spellings``): the import itself is tested over HTTP in
``tests/services/test_artist_spellings.py``. Screenshots: ``test-artifacts/issue21-*.png``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session

from musicrec.db import spellings, users
from musicrec.db.models import Artist
from musicrec.services.search import REFRESH_SECONDS
from musicrec.services.spotify_import import LISTENERS_TO_CONFIRM
from tests.browser.conftest import new_page, start_serve
from tests.browser.pages import VIEWPORTS, label_of
from tests.browser.test_issue21_order_playlist import _copy_instance
from tests.browser.test_journey import expect, sign_up_through_form, unique_username

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STARTER, SPOTIFY = "Sigur Ros", "Sigur Rós"


class Respelled(NamedTuple):
    base_url: str
    artist_id: int


def _respell(database: Engine, name: str, spelling: str) -> int:
    """``LISTENERS_TO_CONFIRM`` listeners propose ``spelling`` for the artist called ``name``,
    and the agreed spelling is applied, as their imports do; the artist's id."""
    with Session(database) as session, session.begin():
        artist_id = session.execute(select(Artist.id).where(Artist.name == name)).scalar_one()
        for number in range(LISTENERS_TO_CONFIRM):
            voter = users.add_user(session, f"speller{number}", f"speller{number}@example.org", "x")
            spellings.record_proposals(session, voter.id, {artist_id: spelling})
        assert spellings.apply_agreed(session, [artist_id], LISTENERS_TO_CONFIRM) == 1
    return artist_id


@pytest.fixture(scope="module")
def respelled(
    live_instance: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Respelled]:
    """``musicrec serve`` on a copy of the browser instance whose "Sigur Ros" its listeners
    respelled after the server started (its search index then has to notice)."""
    env = _copy_instance(live_instance, tmp_path_factory.mktemp("spelling-instance"))
    database = create_engine(env["MUSICREC_DATABASE_URL"])
    try:
        with start_serve(env, "spelling-serve.log") as base_url:
            artist_id = _respell(database, STARTER, SPOTIFY)
            time.sleep(REFRESH_SECONDS + 0.5)  # how long a process's index may lag the catalogue
            yield Respelled(base_url, artist_id)
    finally:
        database.dispose()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_search_and_the_artist_page_show_the_listeners_spelling(
    browser: Any, respelled: Respelled, viewport: dict[str, int], artifacts_dir: Path
) -> None:
    context, page, watch = new_page(browser, respelled.base_url, viewport)
    try:
        label = label_of(viewport)
        sign_up_through_form(page, unique_username("speller"))  # it lands on the rate page
        page.fill("#artist-search", "sigur ros")  # typed as the starter data spells it
        first = page.locator("#search-results li.card").first
        expect(first.locator("a.name")).to_have_text(SPOTIFY, timeout=15_000)
        page.screenshot(path=str(artifacts_dir / f"issue21-{label}-respelled-search.png"))

        first.locator("a.name").click()
        expect(page.locator("h1")).to_have_text(SPOTIFY)
        assert page.url.endswith(f"/{respelled.artist_id}")
        assert STARTER not in page.locator("main").inner_text()
        page.screenshot(path=str(artifacts_dir / f"issue21-{label}-respelled-artist.png"))
        watch.check()
    finally:
        context.close()
