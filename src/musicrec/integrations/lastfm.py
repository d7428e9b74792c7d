"""Last.fm: the links to its artist pages that the app shows beside each artist."""

from __future__ import annotations

from urllib.parse import quote_plus, urlsplit

ARTIST_PAGE_BASE = "https://www.last.fm/music/"
LINK_SCHEMES = frozenset({"http", "https"})


def artist_page_url(name: str) -> str:
    """The Last.fm page of an artist, built the way Last.fm spells its own links."""
    return ARTIST_PAGE_BASE + quote_plus(name)


def checked_page_url(url: str) -> str | None:
    """A link from imported data, if it is a web link: http becomes https (Last.fm serves the
    same pages over https); any other scheme (``javascript:``, ``data:``...) gives None."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES or not parts.netloc:
        return None
    if parts.scheme.lower() == "http":
        return "https://" + url[len("http://") :]
    return url
