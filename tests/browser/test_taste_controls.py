"""The taste controls in a real browser, at 1280 px and on a 375 px phone screen: "Not for me"
(recommendations, search results, similar artists, the list under My ratings with Undo), the
discover-vs-familiar slider, rate-first without ratings, export and import, password reset."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.pages import label_of, signed_up
from tests.browser.test_journey import (
    assert_no_horizontal_scroll,
    expect,
    open_page,  # noqa: F401  (a fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(MOBILE, id="375px")]
LIKED = ("Radiohead", "Portishead", "Massive Attack")


def _artist_id(page: Any, name: str) -> int:
    found = page.evaluate(
        "async (q) => (await api('GET', `/api/v1/artists?q=${encodeURIComponent(q)}&limit=1`))",
        name,
    )
    assert found["artists"][0]["name"] == name
    return int(found["artists"][0]["id"])


def _rate(page: Any, names: tuple[str, ...]) -> None:
    """Rate through the API from the page (the rating UI has its own tests)."""
    for name in names:
        artist = _artist_id(page, name)
        page.evaluate("async (id) => api('PUT', `/api/v1/me/ratings/${id}`, {rating: 9})", artist)


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_not_for_me_on_recommendations_and_undo_under_my_ratings(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
    artifacts_dir: Path,
) -> None:
    page, watch = signed_up(open_page, viewport, "notforme")
    _rate(page, LIKED)
    page.goto("/recommendations")
    page.click("#get-recommendations")
    cards = page.locator("#new-recommendations li.card")
    expect(cards.first).to_be_visible()
    first = cards.first
    name = first.locator("a.name").inner_text()

    first.get_by_role("button", name="Not for me").click()

    expect(first).to_have_class(re.compile(r"\bdismissed\b"))
    expect(first.locator("button[data-not-for-me]")).to_have_text("Undo")
    expect(page.locator("#taste-status")).to_contain_text("will not be recommended")
    assert_no_horizontal_scroll(page, "recommendations with a dismissed card")
    page.screenshot(
        path=str(artifacts_dir / f"browser-{label_of(viewport)}-not-for-me.png"), full_page=True
    )

    page.goto("/ratings")
    listed = page.locator("#my-dislikes li.card")
    expect(listed).to_have_count(1)
    expect(listed.locator("a.name")).to_have_text(name)
    assert_no_horizontal_scroll(page, "my ratings with the not-for-me list")
    listed.get_by_role("button", name=re.compile("^Undo")).click()
    expect(page.locator("#my-dislikes li.card")).to_have_count(0)
    left = page.evaluate("async () => (await api('GET', '/api/v1/me/dislikes')).artists")
    assert left == []
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_not_for_me_on_search_results_and_similar_artists(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = signed_up(open_page, viewport, "nfmsearch")
    page.fill("#artist-search", "coldplay")
    card = page.locator("#search-results li.card").first
    expect(card.locator("a.name")).to_have_text("Coldplay")
    card.get_by_role("button", name="Not for me").click()
    expect(card).to_have_class(re.compile(r"\bdismissed\b"))
    assert_no_horizontal_scroll(page, "rate page with a dismissed search result")

    page.goto(f"/artists/{_artist_id(page, 'Radiohead')}")
    similar = page.locator("li.card").first
    expect(similar).to_be_visible()
    hidden = similar.locator("a.name").inner_text()
    similar.get_by_role("button", name="Not for me").click()
    expect(similar).to_have_class(re.compile(r"\bdismissed\b"))
    page.reload()
    expect(
        page.locator("li.card a.name", has_text=re.compile(f"^{re.escape(hidden)}$"))
    ).to_have_count(0)
    assert_no_horizontal_scroll(page, "artist page")
    names = page.evaluate("async () => (await api('GET', '/api/v1/me/dislikes')).artists")
    assert {a["name"] for a in names} == {"Coldplay", hidden}
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_discovery_slider_is_saved_and_remembered(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
    artifacts_dir: Path,
) -> None:
    page, watch = signed_up(open_page, viewport, "discovery")
    _rate(page, LIKED)
    page.goto("/recommendations")
    slider = page.get_by_label("Familiar or new?")
    expect(slider).to_be_visible()
    start = float(slider.input_value())

    slider.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")  # the keyboard moves it, as a mouse would

    percent = round((start + 0.2) * 100)
    expect(page.locator("#discovery-status")).to_contain_text("Saved: ")
    expect(page.locator("#discovery-status")).to_contain_text(f"({percent}%)")
    assert float(slider.input_value()) == pytest.approx(start + 0.2)
    assert_no_horizontal_scroll(page, "recommendations page with the slider")
    page.screenshot(
        path=str(artifacts_dir / f"browser-{label_of(viewport)}-discovery.png"), full_page=True
    )
    page.reload()
    assert float(page.get_by_label("Familiar or new?").input_value()) == pytest.approx(start + 0.2)
    saved = page.evaluate("async () => (await api('GET', '/api/v1/me/settings')).settings")
    assert saved["discovery"] == pytest.approx(start + 0.2)
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_without_ratings_the_page_asks_to_rate_first(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = signed_up(open_page, viewport, "ratefirst")
    watch.allow("409")  # the refused request is the point of this test
    page.goto("/recommendations")
    expect(page.get_by_role("heading", name="Rate a few artists first")).to_be_visible()
    starters = page.locator("#starter-artists li.card")
    expect(starters.first).to_be_visible()

    page.click("#get-recommendations")

    expect(page.locator("#recommendations-status")).to_contain_text("Rate a few artists first")
    expect(page.locator("#new-recommendations li.card")).to_have_count(0)
    history = page.evaluate("async () => (await api('GET', '/api/v1/me/recommendations'))")
    assert history == {"recommendations": []}
    starters.first.locator('button[data-value="8"]').click()
    page.click("#get-recommendations")
    expect(page.locator("#new-recommendations li.card").first).to_be_visible()
    assert_no_horizontal_scroll(page, "rate-first recommendations page")
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_export_and_import_on_the_account_page(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = signed_up(open_page, viewport, "export")
    watch.allow("400")  # the bad file's refusal
    air = _artist_id(page, "Air")
    page.goto("/account")
    for link in ("#export-json", "#export-csv"):
        expect(page.locator(link)).to_be_visible()
    with page.expect_download() as download:
        page.click("#export-csv")
    assert download.value.suggested_filename == "musicrec-export.csv"

    bad = f"kind,artist_id,artist,value\nrating,{air},Air,8\nrating,{air},Air,99\n"
    page.set_input_files(
        "#import-file", {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("line 3")
    good = {"ratings": [{"artist_id": air, "rating": 8}], "dislikes": []}
    page.set_input_files(
        "#import-file",
        {"name": "mine.json", "mimeType": "application/json", "buffer": json.dumps(good).encode()},
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_contain_text("Imported 1 ratings")
    assert_no_horizontal_scroll(page, "account page")
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_forgot_password_answers_alike(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = open_page(viewport)
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.fill("#email", "someone-unknown@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.locator("#reset-sent")).to_contain_text("If an account uses this address")
    assert_no_horizontal_scroll(page, "forgot-password page")
    watch.allow("400")  # the refused link's page answers 400
    page.goto("/reset-password/not-a-real-token")
    expect(page.get_by_role("alert")).to_contain_text("invalid, used or expired")
    watch.check()
