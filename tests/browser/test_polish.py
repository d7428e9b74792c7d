"""Issue 13's defects and looks in a real browser at 1280 px and 375 px: the rating buttons, the
navigation, avatars, the session-ended notice, search messages, the log-in form, past
recommendations in batches, adding an artist, the 404 page and My ratings' sort orders.

Screenshots of the rate, recommendations and artist pages at both sizes are kept in the
artifacts folder (``test-artifacts/``, or ``$MUSICREC_TEST_ARTIFACTS``) for people to look at.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, MOBILE
from tests.browser.pages import api_in_page, label_of, signed_up
from tests.browser.test_journey import (
    assert_no_horizontal_scroll,
    expect,
    expect_rated_count,
    open_page,  # noqa: F401 - the fixture
    search_first_result,
    sign_up_through_form,
    unique_username,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(MOBILE, id="375px")]
PASSWORD = "a long enough passphrase"
FIVE = [("radiohead", "Radiohead"), ("muse", "Muse"), ("coldplay", "Coldplay"),
        ("metallica", "Metallica"), ("bjork", "Björk")]  # fmt: skip


def assert_navigation_on_one_line(page: Any) -> None:
    tops = page.locator("header.site nav.main a").evaluate_all(
        "links => links.map((link) => Math.round(link.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, f"the navigation wraps: link tops {tops}"
    overflow = page.locator("header.site nav.main").evaluate(
        "nav => nav.scrollWidth - nav.clientWidth"
    )
    assert overflow <= 0, f"the navigation is {overflow}px too wide for the screen"


def current_nav(page: Any) -> list[str]:
    return page.locator('header.site nav a[aria-current="page"]').evaluate_all(
        "links => links.map((link) => link.getAttribute('href'))"
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_looks_rating_buttons_navigation_avatars_and_screenshots(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
    artifacts_dir: Path,
) -> None:
    page, watch = signed_up(open_page, viewport, "looks")
    label = label_of(viewport)

    # The rate page: the current page is marked, the navigation is one line.
    assert current_nav(page) == ["/rate"]
    assert_navigation_on_one_line(page)
    expect(page.locator(".enough-note")).not_to_contain_text("%")

    # Ten buttons per artist, each wide enough to hit; one press rates, the pressed one shows.
    for position, (query, name) in enumerate(FIVE):
        card = search_first_result(page, query, name)
        buttons = card.locator("button[data-rate]")
        expect(buttons).to_have_count(10)
        widths = buttons.evaluate_all("bs => bs.map((b) => b.getBoundingClientRect().width)")
        assert min(widths) >= 24, f"rating buttons {min(widths):.0f}px wide"
        tops = buttons.evaluate_all("bs => bs.map((b) => b.getBoundingClientRect().top)")
        assert len({round(top) for top in tops}) == 1, "the rating buttons wrap"
        buttons.nth(9 - position).click()
        expect(card.locator('button[aria-pressed="true"]')).to_have_text(str(10 - position))
        expect_rated_count(page, position + 1)
        # A generated avatar: the initials of the name on a colour.
        expect(card.locator(".avatar")).to_be_visible()
    assert_no_horizontal_scroll(page, f"{label} rate page")
    page.screenshot(path=str(artifacts_dir / f"polish-{label}-rate.png"), full_page=True)

    # Recommendations: two batches, the earlier one under "Recommended before" with its date.
    page.get_by_role("link", name="Recommendations", exact=True).click()
    page.wait_for_url(re.compile(r"/recommendations$"))
    assert current_nav(page) == ["/recommendations"]
    assert_navigation_on_one_line(page)
    for _ in range(2):
        page.click("#get-recommendations")
        expect(page.locator("#recommendations-status")).to_contain_text("new recommendations")
    batch = page.locator("#past-recommendations li.batch")
    expect(batch).to_have_count(1)
    # The viewer's local time (issue 21; tests/browser/test_issue21_polish.py checks the zone).
    expect(batch.locator("summary time")).to_have_text(re.compile(r"\d{4}.*\d\d:\d\d"))
    page.reload()
    expect(page.locator("#past-recommendations li.batch")).to_have_count(2)
    expect(page.locator("#past-recommendations .when")).to_have_count(0)  # no date on cards
    assert_no_horizontal_scroll(page, f"{label} recommendations page")
    page.screenshot(path=str(artifacts_dir / f"polish-{label}-recommendations.png"), full_page=True)

    # The artist page: a big avatar, the rating buttons, similar artists with avatars.
    page.goto("/rate")
    card = search_first_result(page, "metallica", "Metallica")
    card.locator("a.name").click()
    expect(page.locator("h1")).to_have_text("Metallica")
    expect(page.locator(".artist-title .avatar")).to_have_text("M")
    expect(page.locator('.your-rating button[aria-pressed="true"]')).to_have_text("7")
    similar = page.locator("section li.card")
    expect(similar.first).to_be_visible()
    expect(similar.first.locator(".avatar")).to_be_visible()
    assert current_nav(page) == []
    assert_no_horizontal_scroll(page, f"{label} artist page")
    page.screenshot(path=str(artifacts_dir / f"polish-{label}-artist.png"), full_page=True)
    watch.check()


def test_rating_buttons_work_with_the_keyboard(open_page: Any) -> None:  # noqa: F811
    page, watch = open_page(MOBILE)
    sign_up_through_form(page, unique_username("keyrate"))
    card = search_first_result(page, "portishead", "Portishead")
    card.locator('button[data-value="1"]').focus()
    for _ in range(5):
        page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(card.locator('button[aria-pressed="true"]')).to_have_text("6")
    expect_rated_count(page, 1)
    watch.check()


def end_session_behind_the_page(page: Any) -> None:
    """Log out through the API from the same browser, as another tab would: the open page still
    shows the signed-in user, but its cookie no longer names a live session."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    answer = page.request.post("/logout", form={"csrf_token": token}, max_redirects=0)
    assert answer.status == 302


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_session_ended_while_the_page_is_open_says_so_and_returns_after_log_in(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
    artifacts_dir: Path,
) -> None:
    page, watch = open_page(viewport)
    watch.allow("status of 401")
    username = unique_username("ended")
    sign_up_through_form(page, username)
    card = search_first_result(page, "radiohead", "Radiohead")
    end_session_behind_the_page(page)

    card.locator('button[data-value="9"]').click()

    notice = page.locator("#session-ended")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Your session has ended")
    expect(notice).not_to_contain_text("Bearer")
    assert_no_horizontal_scroll(page, "session-ended notice")
    page.screenshot(path=str(artifacts_dir / f"polish-{label_of(viewport)}-session-ended.png"))
    notice.get_by_role("link", name="Log in again").click()
    page.fill("#login", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/rate$"))
    expect_rated_count(page, 0)

    # The recommendations button says the same, not the API's words.
    page.goto("/recommendations")
    end_session_behind_the_page(page)
    page.click("#get-recommendations")
    expect(page.locator("#recommendations-status")).to_have_text(
        "Your session has ended: log in again to go on."
    )
    expect(page.locator("#session-ended")).to_be_visible()
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_search_shows_the_apis_message_and_has_a_maxlength(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = open_page(viewport)
    watch.allow("status of 400")
    sign_up_through_form(page, unique_username("long"))
    box = page.locator("#artist-search")
    expect(box).to_have_attribute("maxlength", "200")

    box.fill("x" * 250)
    assert len(box.input_value()) == 200

    # A client that ignores maxlength (an old browser, a pasted script) gets the API's message.
    box.evaluate("input => input.removeAttribute('maxlength')")
    box.fill("x" * 250)
    status = page.locator("#search-status")
    expect(status).not_to_have_text("")
    expect(status).not_to_contain_text("Search failed")
    expect(status).to_contain_text("200")

    box.fill("!!!")
    expect(page.locator("#search-results li.card a.name").first).to_have_text("!!!")
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_failed_log_in_keeps_the_username(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = open_page(viewport)
    watch.allow("status of 401")
    page.goto("/login")
    page.fill("#login", "nobody.here")
    page.fill("#password", "not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#login")).to_have_value("nobody.here")
    assert_no_horizontal_scroll(page, "log-in page with an error")
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_past_recommendations_are_paged_batches(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = signed_up(open_page, viewport, "batches")
    for query, name in FIVE[:3]:
        search_first_result(page, query, name).locator('button[data-value="8"]').click()
    expect_rated_count(page, 3)
    for _ in range(7):
        assert api_in_page(page, "POST", "/api/v1/me/recommendations?n=10")["status"] == 201

    page.goto("/recommendations")
    batches = page.locator("#past-recommendations li.batch")
    expect(batches).to_have_count(5)
    expect(page.locator("#past-recommendations details[open]")).to_have_count(1)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")
    height = page.evaluate("() => document.documentElement.scrollHeight")
    # Bounded by the paging (one batch open, four closed), whatever the history's length: 30
    # past cards made the page 5,775 px tall before; ten open cards with their controls now.
    assert height < 4_000, f"the page is {height}px tall with 7 batches"
    page.get_by_role("link", name="Older").click()
    expect(page.locator("#past-recommendations li.batch")).to_have_count(2)
    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
    assert_no_horizontal_scroll(page, "second page of past recommendations")
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_adding_an_artist_updates_the_status_and_offers_its_rating(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = signed_up(open_page, viewport, "adder")
    name = f"Quiet Garage Band {unique_username('n')}"
    page.fill("#artist-search", name)
    expect(page.locator("#search-status")).to_contain_text("No artist found")

    page.locator("summary", has_text="Add it").click()
    page.fill("#new-artist-name", name)
    page.get_by_role("button", name="Add artist").click()

    expect(page.locator("#search-status")).to_contain_text(f"{name} is in the catalogue")
    expect(page.locator("#search-status")).not_to_contain_text("No artist found")
    card = page.locator("#search-results li.card").first
    expect(card.locator("a.name")).to_have_text(name)
    expect(card.locator('button[data-value="1"]')).to_be_focused()
    card.locator('button[data-value="7"]').click()
    expect_rated_count(page, 1)
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_unknown_artist_gets_the_apps_own_404_page(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
    artifacts_dir: Path,
) -> None:
    page, watch = open_page(viewport)
    watch.allow("status of 404")
    response = page.goto("/artists/987654321")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("We could not find that page")
    expect(page.locator("body")).not_to_contain_text("requested URL was not found")
    expect(page.get_by_role("link", name="Home page")).to_be_visible()
    assert_no_horizontal_scroll(page, "404 page")
    page.screenshot(path=str(artifacts_dir / f"polish-{label_of(viewport)}-404.png"))
    watch.check()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_my_ratings_sort_and_show_no_internal_source(
    open_page: Any,  # noqa: F811
    viewport: dict[str, int],
) -> None:
    page, watch = signed_up(open_page, viewport, "sorter")
    for position, (query, name, value) in enumerate(
        [("metallica", "Metallica", 9), ("radiohead", "Radiohead", 5), ("bjork", "Björk", 7)]
    ):
        search_first_result(page, query, name).locator(f'button[data-value="{value}"]').click()
        expect_rated_count(page, position + 1)
    page.get_by_role("link", name=re.compile("My ratings")).click()
    assert current_nav(page) == ["/ratings"]
    expect(page.locator("#my-ratings")).not_to_contain_text("manual")
    names = page.locator("#my-ratings a.name")
    expect(names).to_have_text(["Björk", "Radiohead", "Metallica"])
    page.get_by_role("link", name="Name", exact=True).click()
    expect(names).to_have_text(["Björk", "Metallica", "Radiohead"])
    page.get_by_role("link", name="Rating", exact=True).click()
    expect(names).to_have_text(["Metallica", "Björk", "Radiohead"])
    expect(page.locator('nav.sort a[aria-current="true"]')).to_have_text("Rating")
    assert_no_horizontal_scroll(page, "my ratings")
    watch.check()
