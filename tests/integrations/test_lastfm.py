from __future__ import annotations

import pytest

from musicrec.integrations.lastfm import artist_page_url, checked_page_url


def test_artist_page_url_quotes_the_name_as_lastfm_does() -> None:
    assert artist_page_url("Sigur Rós") == "https://www.last.fm/music/Sigur+R%C3%B3s"
    assert artist_page_url("AC/DC") == "https://www.last.fm/music/AC%2FDC"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("http://www.last.fm/music/Air", "https://www.last.fm/music/Air"),
        ("https://www.last.fm/music/Air", "https://www.last.fm/music/Air"),
        ("  https://www.last.fm/music/Air ", "https://www.last.fm/music/Air"),
    ],
)
def test_web_links_are_kept_over_https(given: str, kept: str) -> None:
    assert checked_page_url(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "ftp://example.com/a",
        "//www.last.fm/music/Air",
        "https://",
        "http://[::1",
    ],
)
def test_other_schemes_are_refused(given: str) -> None:
    assert checked_page_url(given) is None
