"""Helpers the browser tests share to act on a page: sign up, call the JSON API from the page,
rate through it, and name a viewport in screenshots and messages; the fixture
``screen`` (import it into a test module to use it)."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tests.browser.conftest import DESKTOP, MOBILE, ConsoleWatch
from tests.browser.test_journey import sign_up_through_form, unique_username

VIEWPORTS = [pytest.param(DESKTOP, id="desktop"), pytest.param(MOBILE, id="375px")]


def label_of(viewport: dict[str, int]) -> str:
    """``375px`` for a phone-sized viewport, else ``desktop``."""
    return "375px" if viewport["width"] <= MOBILE["width"] else "desktop"


def signed_up(open_page: Any, viewport: dict[str, int], prefix: str) -> tuple[Any, Any]:
    """A page at ``viewport`` and its console watch, a new user (``prefix``...) signed up."""
    page, watch = open_page(viewport)
    sign_up_through_form(page, unique_username(prefix))
    return page, watch


class Screen(NamedTuple):
    """A signed-up user's page at one viewport, its console watch and the viewport's label."""

    page: Any
    watch: ConsoleWatch
    label: str


@pytest.fixture(params=VIEWPORTS)
def screen(request: pytest.FixtureRequest, open_page: Any) -> Screen:
    """A new user signed up through the form, at 1280 px and on a 375 px phone (two runs)."""
    page, watch = signed_up(open_page, request.param, "screen")
    return Screen(page, watch, label_of(request.param))


def api_in_page(page: Any, method: str, path: str, body: Any = None) -> Any:
    """Call the JSON API from the page, with its cookie and CSRF token, as app.js does."""
    return page.evaluate(
        """async ([method, path, body]) => {
          const token = document.querySelector('meta[name="csrf-token"]').content;
          const response = await fetch(path, {method, headers: {"Content-Type": "application/json",
            "X-CSRFToken": token}, body: body === null ? undefined : JSON.stringify(body)});
          return {status: response.status, body: await response.json().catch(() => null)};
        }""",
        [method, path, body],
    )


def rate_through_api(page: Any, queries: list[str], value: int = 9) -> None:
    """Rate the first artist found for each query ``value``, through the API from the page."""
    for query in queries:
        found = api_in_page(page, "GET", f"/api/v1/artists?q={query}&limit=1")
        artist = found["body"]["artists"][0]["id"]
        answer = api_in_page(page, "PUT", f"/api/v1/me/ratings/{artist}", {"rating": value})
        assert answer["status"] in (200, 201), answer
