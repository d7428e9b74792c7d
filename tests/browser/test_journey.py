"""The user's journey in a real browser: sign up, rate ten artists through search as you type,
get recommendations twice, log out; at desktop size and on a 375 px phone screen.

Also: no console errors or CSP violations on the way, the forms work with the keyboard alone,
and every form control has a label.
"""

from __future__ import annotations

import re
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, MOBILE, ConsoleWatch, new_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long enough passphrase"
# (what the user types, the artist that must come first); all in the Last.fm starter data.
TEN_ARTISTS = [
    ("radiohead", "Radiohead"),
    ("muse", "Muse"),
    ("coldplay", "Coldplay"),
    ("the beatles", "The Beatles"),
    ("pink floyd", "Pink Floyd"),
    ("daft punk", "Daft Punk"),
    ("bjork", "Björk"),
    ("portishead", "Portishead"),
    ("massive attack", "Massive Attack"),
    ("depeche mode", "Depeche Mode"),
]
LASTFM_LINK = re.compile(r"^https://www\.last\.fm/music/.+")
_numbers = count(1)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target)


def unique_username(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}x{id(object()) % 100000}"


@pytest.fixture
def open_page(browser: Any, live_server: str) -> Any:
    """Open a fresh browser context (no cookies) at a viewport; closed after the test."""
    contexts: list[Any] = []

    def opener(viewport: dict[str, int] = DESKTOP) -> tuple[Any, ConsoleWatch]:
        context, page, watch = new_page(browser, live_server, viewport)
        contexts.append(context)
        return page, watch

    yield opener
    for context in contexts:
        context.close()


def assert_no_horizontal_scroll(page: Any, where: str) -> None:
    scroll_width, inner_width = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll_width <= inner_width, (
        f"{where}: the page scrolls sideways ({scroll_width}px wide in a {inner_width}px window)"
    )


def expect_rated_count(page: Any, value: int) -> None:
    """Every [data-rated-count] on the page (nav badge, page text) shows ``value``."""
    counters = page.locator("[data-rated-count]")
    expect(counters.first).to_be_attached()
    expect(counters).to_have_text([str(value)] * counters.count())


def sign_up_through_form(page: Any, username: str) -> None:
    page.goto("/signup")
    page.fill("#username", username)
    page.fill("#email", f"{username}@example.com")
    page.fill("#password", PASSWORD)
    page.fill("#confirmation", PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/rate$"))
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def search_first_result(page: Any, query: str, name: str) -> Any:
    """Type ``query`` in the search box; the first result must be ``name``; return its card."""
    page.fill("#artist-search", query)
    first = page.locator("#search-results li.card").first
    expect(first.locator("a.name")).to_have_text(name)
    return first


def card_ids(cards: Any) -> list[str]:
    return cards.evaluate_all("cards => cards.map((card) => card.dataset.artistId)")


@pytest.mark.parametrize(
    "viewport", [pytest.param(DESKTOP, id="desktop"), pytest.param(MOBILE, id="375px")]
)
def test_journey(open_page: Any, viewport: dict[str, int], artifacts_dir: Path) -> None:
    page, watch = open_page(viewport)
    mobile = viewport["width"] <= MOBILE["width"]
    label = "375px" if mobile else "desktop"

    def check_layout(where: str) -> None:
        if mobile:
            assert_no_horizontal_scroll(page, where)

    page.goto("/")
    check_layout("home page")

    # Sign up through the form; it lands on the rate page.
    page.goto("/signup")
    check_layout("sign-up page")
    sign_up_through_form(page, unique_username("journey"))
    check_layout("rate page after sign-up")
    expect_rated_count(page, 0)

    # Rate ten artists through search as you type; the count follows without a reload.
    page.evaluate("() => { window.__sameDocument = true; }")
    rated_names = []
    expect(page.locator("[data-below-enough]")).to_be_visible()
    expect(page.locator("[data-enough-reached]")).to_be_hidden()
    for position, (query, name) in enumerate(TEN_ARTISTS):
        card = search_first_result(page, query, name)
        card.locator(f'button[data-rate][data-value="{10 - position}"]').click()
        expect_rated_count(page, position + 1)
        assert page.evaluate("() => window.__sameDocument === true"), "the rate page reloaded"
        expect(card.locator("button[data-unrate]")).to_be_visible()
        rated_names.append(name)
    # Ten ratings are enough (services.recommending.ENOUGH_RATINGS): the hint changes in place.
    expect(page.locator("[data-below-enough]")).to_be_hidden()
    expect(page.locator("[data-enough-reached]")).to_be_visible()
    check_layout("rate page with search results")
    if mobile:
        page.screenshot(path=str(artifacts_dir / f"browser-{label}-rate.png"), full_page=True)

    # My ratings lists all ten.
    page.get_by_role("link", name=re.compile("My ratings")).click()
    page.wait_for_url(re.compile(r"/ratings$"))
    check_layout("my ratings page")
    expect(page.locator("#my-ratings > li")).to_have_count(len(TEN_ARTISTS))
    expect_rated_count(page, len(TEN_ARTISTS))

    # Recommendations: a first batch, each with a Last.fm link, none already rated.
    page.get_by_role("link", name="Recommendations", exact=True).click()
    page.wait_for_url(re.compile(r"/recommendations$"))
    check_layout("recommendations page")
    fresh = page.locator("#new-recommendations li.card")
    past = page.locator("#past-recommendations li.card")
    expect(past).to_have_count(0)
    page.click("#get-recommendations")
    expect(fresh.first).to_be_visible()
    expect(page.locator("#recommendations-status")).to_contain_text("new recommendations")
    first_batch = card_ids(fresh)
    assert first_batch
    for card in fresh.all():
        expect(card.locator("a.external")).to_have_text("Last.fm")
        expect(card.locator("a.external")).to_have_attribute("href", LASTFM_LINK)
    first_names = fresh.locator("a.name").all_text_contents()
    assert not set(first_names) & set(rated_names), "recommended artists the user already rated"

    # Again: the first batch moves under "Recommended before", the new batch is different.
    page.click("#get-recommendations")
    expect(past).to_have_count(len(first_batch))
    expect(fresh.first).to_be_visible()
    second_batch = card_ids(fresh)
    assert second_batch
    assert card_ids(past) == first_batch
    assert not set(second_batch) & set(first_batch), "the second batch repeats the first"
    expect(page.locator("#past-recommendations .empty")).to_have_count(0)
    check_layout("recommendations page with two batches")
    if mobile:
        page.screenshot(
            path=str(artifacts_dir / f"browser-{label}-recommendations.png"), full_page=True
        )

    # The history is kept: after a reload both batches are listed as past recommendations.
    page.reload()
    expect(past).to_have_count(len(first_batch) + len(second_batch))
    assert set(card_ids(past)) == set(first_batch) | set(second_batch)
    check_layout("recommendations page after a reload")

    # Log out; the rate page then asks to log in (an expected 401, which Chromium logs).
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in", exact=True)).to_be_visible()
    check_layout("home page after logging out")
    watch.allow("status of 401")
    page.goto("/rate")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#password")).to_be_visible()
    expect(page.locator("#artist-search")).to_have_count(0)
    check_layout("log-in page")

    # No console errors, uncaught exceptions or CSP violations anywhere on the way.
    watch.check()


def test_console_watch_reports_csp_violations(open_page: Any) -> None:
    """The watch the journey relies on does see a CSP violation (an inline script here)."""
    page, watch = open_page()
    page.goto("/")
    page.evaluate(
        """() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.body.append(script);
    }"""
    )
    page.wait_for_timeout(200)
    assert not page.evaluate("() => window.__inlineRan === true"), (
        "the CSP let an inline script run"
    )
    assert any("CSP violation" in problem for problem in watch.problems), watch.problems
    with pytest.raises(AssertionError):
        watch.check()


def focus_matches(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            "(selector) => !!document.activeElement && document.activeElement.matches(selector)",
            selector,
        )
    )


def tab_to(page: Any, selector: str, limit: int = 25, backwards: bool = False) -> int:
    """Press Tab (Shift+Tab) until the focus is on ``selector``; returns the presses needed."""
    key = "Shift+Tab" if backwards else "Tab"
    for presses in range(1, limit + 1):
        page.keyboard.press(key)
        if focus_matches(page, selector):
            return presses
    focused = page.evaluate("() => document.activeElement?.outerHTML.slice(0, 120)")
    raise AssertionError(f"{limit} Tabs never reached {selector}; focus is on {focused}")


def test_keyboard_only(open_page: Any) -> None:
    """Sign up, search, rate, remove the rating and get recommendations with the keyboard alone."""
    page, watch = open_page()
    username = unique_username("keys")

    # Sign up: the fields follow each other in Tab order and Enter submits.
    page.goto("/signup")
    tab_to(page, "#username")
    page.keyboard.type(username)
    for selector, text in [
        ("#email", f"{username}@example.com"),
        ("#password", PASSWORD),
        ("#confirmation", PASSWORD),
    ]:
        page.keyboard.press("Tab")
        assert focus_matches(page, selector), (
            f"Tab after the previous field did not reach {selector}"
        )
        page.keyboard.type(text)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/rate$"))
    expect_rated_count(page, 0)

    # Search, then Tab to the first result's rating button 8 and press it.
    tab_to(page, "#artist-search")
    page.keyboard.type("radiohead")
    first = page.locator("#search-results li.card").first
    expect(first.locator("a.name")).to_have_text("Radiohead")
    tab_to(page, '#search-results li.card:first-child button[data-value="8"]', limit=12)
    page.keyboard.press("Enter")
    expect_rated_count(page, 1)
    expect(first.locator('button[aria-pressed="true"]')).to_have_text("8")
    expect(first.locator("button[data-unrate]")).to_be_visible()

    # Tab on to the now visible Remove button; Enter removes the rating.
    tab_to(page, "#search-results li.card:first-child button[data-unrate]", limit=3)
    page.keyboard.press("Enter")
    expect_rated_count(page, 0)
    expect(first.locator('button[aria-pressed="true"]')).to_have_count(0)
    # Rate it again (recommendations need a rating: without one the page asks to rate first).
    first.locator('button[data-value="7"]').focus()
    page.keyboard.press("Enter")
    expect_rated_count(page, 1)

    # Back up to the navigation, follow it to the recommendations and ask for some.
    tab_to(page, 'nav a[href="/recommendations"]', limit=30, backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/recommendations$"))
    tab_to(page, "#get-recommendations")
    page.keyboard.press("Enter")
    expect(page.locator("#new-recommendations li.card").first).to_be_visible()
    watch.check()


UNLABELLED_CONTROLS = """() => {
  const named = (node) => !!node && node.textContent.trim().length > 0;
  const controls = [...document.querySelectorAll("input, select, textarea, button")]
    .filter((node) => node.type !== "hidden");
  const unlabelled = controls.filter((node) => {
    if ([...(node.labels || [])].some(named)) return false;
    if ((node.getAttribute("aria-label") || "").trim()) return false;
    const ids = (node.getAttribute("aria-labelledby") || "").split(/\\s+/).filter(Boolean);
    if (ids.some((id) => named(document.getElementById(id)))) return false;
    if (node.tagName === "BUTTON" && named(node)) return false;
    return true;
  });
  const described = unlabelled.map((node) => node.outerHTML.slice(0, 160));
  return { checked: controls.length, unlabelled: described };
}"""


def assert_controls_labelled(page: Any, where: str) -> int:
    result = page.evaluate(UNLABELLED_CONTROLS)
    assert not result["unlabelled"], f"{where}: controls without a label: {result['unlabelled']}"
    return int(result["checked"])


def test_every_control_has_a_label(open_page: Any) -> None:
    """Every input, select and button on every page has a label (or an accessible name)."""
    page, watch = open_page()
    checked = 0
    for path in ("/", "/login", "/signup"):
        page.goto(path)
        checked += assert_controls_labelled(page, path)

    sign_up_through_form(page, unique_username("labels"))
    checked += assert_controls_labelled(page, "/rate")
    card = search_first_result(page, "portishead", "Portishead")
    card.locator('button[data-rate][data-value="9"]').click()
    expect_rated_count(page, 1)
    checked += assert_controls_labelled(page, "/rate with search results")
    artist_path = card.locator("a.name").get_attribute("href")

    page.goto("/recommendations")
    page.click("#get-recommendations")
    expect(page.locator("#new-recommendations li.card").first).to_be_visible()
    checked += assert_controls_labelled(page, "/recommendations with results")
    for path in ("/ratings", "/account", artist_path):
        page.goto(path)
        checked += assert_controls_labelled(page, path)
    assert checked > 20, "suspiciously few form controls were checked"
    watch.check()


def test_remove_button_shows_only_for_rated_artists(open_page: Any) -> None:
    page, watch = open_page()
    sign_up_through_form(page, unique_username("remove"))
    card = search_first_result(page, "nirvana", "Nirvana")
    remove = card.locator("button[data-unrate]")
    expect(remove).to_be_hidden(timeout=2_000)
    card.locator('button[data-rate][data-value="6"]').click()
    expect(remove).to_be_visible()
    remove.click()
    expect_rated_count(page, 0)
    expect(remove).to_be_hidden(timeout=2_000)
    watch.check()
