"""Issue 21's rough edges in a real browser, at 1280 px and on a 375 px phone: new
recommendations brought into view, the artist page (listeners, top songs, rateable similar
artists), cards that agree (Last.fm link and "Not for me" on popular artists; "Remove rating"
unlike "Not for me", with an Undo; an Undo that does not look disabled), one short line about
how many ratings to give, times in the viewer's zone with batches of one minute told apart,
"Account" and "Log out" alike, the API page and the home page's latest recommendations.

Screenshots are kept in the artifacts folder (``test-artifacts/issue21-*.png``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import new_page, start_serve
from tests.browser.pages import (
    VIEWPORTS,
    Screen,
    api_in_page,
    label_of,
    rate_through_api,
    screen,  # noqa: F401 - the fixture
)
from tests.browser.test_journey import (
    assert_no_horizontal_scroll,
    expect,
    open_page,  # noqa: F401 - the fixture
    search_first_result,
    sign_up_through_form,
    unique_username,
)
from tests.spotify_fixtures import LastfmStandIn, _Served

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# (what the user types, the artist that comes first); all in the Last.fm starter data.
THREE = [("radiohead", "Radiohead"), ("portishead", "Portishead"), ("bjork", "Björk")]


def fully_in_view(locator: Any) -> bool:
    return bool(
        locator.evaluate(
            "node => { const box = node.getBoundingClientRect();"
            " return box.top >= 0 && box.bottom <= window.innerHeight; }"
        )
    )


def effective_opacity(locator: Any) -> float:
    """The opacity a control is drawn with: its own times every ancestor's."""
    return float(
        locator.evaluate(
            "node => { let o = 1; for (let n = node; n && n.nodeType === 1; n = n.parentElement)"
            " o *= Number(getComputedStyle(n).opacity); return o; }"
        )
    )


def look_of(locator: Any) -> dict[str, str]:
    return dict(
        locator.evaluate(
            "node => { const s = getComputedStyle(node); return {color: s.color,"
            " background: s.backgroundColor, border: s.borderTopStyle + ' ' + s.borderTopColor,"
            " decoration: s.textDecorationLine, size: s.fontSize, weight: s.fontWeight,"
            " padding: s.paddingTop + ' ' + s.paddingBottom}; }"
        )
    )


def test_new_recommendations_come_into_view_with_one_short_line(
    screen: Screen,  # noqa: F811
    artifacts_dir: Path,
) -> None:
    page, watch, label = screen
    rate_through_api(page, [query for query, _name in THREE])
    page.goto("/recommendations")
    note = page.locator(".enough-note")
    expect(note).to_have_count(1)
    assert len(note.inner_text()) < 80, "the ratings note is a paragraph again"
    expect(page.get_by_text("Rate at least")).to_have_count(0)

    page.click("#get-recommendations")
    first = page.locator("#new-recommendations li.card").first
    expect(first).to_be_visible()
    assert fully_in_view(first), f"{label}: the first new recommendation is below the fold"
    assert_no_horizontal_scroll(page, f"{label} recommendations")
    page.screenshot(path=str(artifacts_dir / f"issue21-{label}-new-in-view.png"))
    watch.check()


def test_cards_agree_and_remove_has_an_undo(
    screen: Screen,  # noqa: F811
    artifacts_dir: Path,
) -> None:
    page, watch, label = screen

    # Popular artists: the Last.fm link and "Not for me", like every other card.
    popular = page.locator("#onboarding li.card").first
    expect(popular.locator("a.external")).to_have_attribute("href", re.compile("last.fm/music/"))
    expect(popular.locator("button[data-not-for-me]")).to_be_visible()

    # A search result: "Remove rating" and "Not for me" look nothing alike.
    card = search_first_result(page, "portishead", "Portishead")
    card.locator('button[data-value="8"]').click()
    remove = card.locator("button[data-unrate]")
    not_for_me = card.locator("button[data-not-for-me]")
    expect(remove).to_have_text("Remove rating")
    removing, dismissing = look_of(remove), look_of(not_for_me)
    assert removing["color"] != dismissing["color"]
    assert removing["border"] != dismissing["border"]
    assert removing["decoration"] != dismissing["decoration"]
    page.screenshot(path=str(artifacts_dir / f"issue21-{label}-remove-vs-not-for-me.png"))

    # Remove, then Undo: the rating comes back.
    remove.click()
    undo = card.get_by_role("button", name=re.compile("Undo"))
    expect(undo).to_be_visible()
    expect(card.locator('button[aria-pressed="true"]')).to_have_count(0)
    undo.click()
    expect(card.locator('button[aria-pressed="true"]')).to_have_text("8")
    expect(undo).to_have_count(0)

    # My ratings: Remove keeps the row with its Undo; "Not for me"'s Undo is not faded.
    not_for_me.click()
    page.goto("/ratings")
    row = page.locator("#my-ratings li.card").first
    row.locator("button[data-unrate]").click()
    expect(row.get_by_role("button", name=re.compile("Undo"))).to_be_visible()
    undo_dislike = page.locator("#my-dislikes button[data-not-for-me]").first
    expect(undo_dislike).to_have_text("Undo")
    assert effective_opacity(undo_dislike) == 1, "Undo looks disabled"
    assert look_of(undo_dislike)["background"] != "rgba(0, 0, 0, 0)"
    assert_no_horizontal_scroll(page, f"{label} my ratings")
    page.screenshot(path=str(artifacts_dir / f"issue21-{label}-my-ratings.png"), full_page=True)
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_times_are_local_and_batches_of_one_minute_differ(
    browser: Any, live_server: str, viewport: dict[str, int], artifacts_dir: Path
) -> None:
    zone = "Asia/Tokyo"  # UTC+9 all year: never the server's zone
    context, page, watch = new_page(
        browser, live_server, viewport, timezone_id=zone, locale="en-GB"
    )
    try:
        sign_up_through_form(page, unique_username("tz"))
        rate_through_api(page, ["radiohead", "muse"])
        page.goto("/recommendations")
        for _ in range(3):
            page.click("#get-recommendations")
            expect(page.locator("#recommendations-status")).to_contain_text("new recommendations")
            page.locator("#recommendations-status").evaluate("node => { node.textContent = ''; }")
        page.reload()
        times = page.locator("#past-recommendations li.batch summary time")
        expect(times).to_have_count(3)
        summaries = page.locator("#past-recommendations li.batch summary").all_inner_texts()
        assert len(set(summaries)) == 3, f"two batches read alike: {summaries}"
        for time_node, text in zip(times.all(), times.all_inner_texts(), strict=True):
            moment = datetime.fromisoformat(time_node.get_attribute("datetime"))
            local = moment.astimezone(ZoneInfo(zone))
            assert "UTC" not in text
            assert f"{local:%H:%M}" in text, (text, local)
        page.screenshot(path=str(artifacts_dir / f"issue21-{label_of(viewport)}-local-times.png"))
        watch.check()
    finally:
        context.close()


def test_header_api_page_and_home_with_recommendations(
    screen: Screen,  # noqa: F811
    artifacts_dir: Path,
) -> None:
    page, watch, label = screen

    # "Account" and "Log out" look alike.
    account = page.locator("header.site nav.session a", has_text="Account")
    log_out = page.get_by_role("button", name="Log out")
    assert look_of(account) == look_of(log_out)

    # The home page shows the latest recommendations.
    rate_through_api(page, ["radiohead", "bjork"])
    made = api_in_page(page, "POST", "/api/v1/me/recommendations?n=4")["body"]
    page.goto("/")
    cards = page.locator("#latest-recommendations li.card")
    expect(cards).to_have_count(len(made["recommendations"]))
    expect(cards.first.locator("a.name")).to_have_text(made["recommendations"][0]["artist"]["name"])
    assert_no_horizontal_scroll(page, f"{label} home")
    page.screenshot(path=str(artifacts_dir / f"issue21-{label}-home.png"), full_page=True)

    # The footer's API link: a page for people.
    page.locator("footer.site").get_by_role("link", name="API").click()
    expect(page.locator("h1")).to_contain_text("API")
    expect(page.locator("details.api-operation").first).to_be_visible()
    page.locator("details.api-operation summary").first.click()
    expect(page.locator("details.api-operation").first.locator("h3").first).to_be_visible()
    assert_no_horizontal_scroll(page, f"{label} API page")
    page.screenshot(path=str(artifacts_dir / f"issue21-{label}-api.png"))
    watch.check()


@pytest.fixture(scope="module")
def songs_server(live_instance: dict[str, str]) -> Iterator[str]:
    """A second ``musicrec serve`` on the browser instance with a Last.fm key, Last.fm stood in
    for: the artist page's top songs."""
    served = _Served(LastfmStandIn())
    env = {
        **live_instance,
        "LASTFM_API_KEY": "browser-test-key",
        "MUSICREC_LASTFM_API_URL": served.url + "2.0/",
    }
    try:
        with start_serve(env, "songs-serve.log") as base_url:
            yield base_url
    finally:
        served.stop()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_artist_page_lets_a_user_explore(
    browser: Any, songs_server: str, viewport: dict[str, int], artifacts_dir: Path
) -> None:
    context, page, watch = new_page(browser, songs_server, viewport)
    try:
        label = label_of(viewport)
        sign_up_through_form(page, unique_username("explore"))
        search_first_result(page, "radiohead", "Radiohead").locator("a.name").click()
        expect(page.locator("h1")).to_have_text("Radiohead")
        expect(page.locator("#listeners")).to_have_text(re.compile(r"^\d{1,3}(,\d{3})* listeners"))
        songs = page.locator("#top-songs ol.songs li")
        expect(songs).to_have_count(3)
        expect(songs.first).to_contain_text("Radiohead song 1")

        # Rate a similar artist where it is listed, then go on to its page.
        similar = page.locator("#similar-artists li.card").first
        similar.locator('button[data-value="7"]').click()
        expect(similar.locator('button[aria-pressed="true"]')).to_have_text("7")
        expect(similar.locator("button[data-not-for-me]")).to_be_visible()
        assert_no_horizontal_scroll(page, f"{label} artist page")
        page.screenshot(path=str(artifacts_dir / f"issue21-{label}-artist.png"), full_page=True)
        name = similar.locator("a.name").inner_text()
        similar.locator("a.name").click()
        expect(page.locator("h1")).to_have_text(name)
        expect(page.locator('.your-rating button[aria-pressed="true"]')).to_have_text("7")
        watch.check()
    finally:
        context.close()
