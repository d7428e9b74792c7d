"""Template filters for numbers and moments, shared by every page.

Numbers get thousands separators ("83,340"); moments are written as ISO 8601 in UTC for the
browser to show in the viewer's own time zone (static/app.js), with a UTC text for a browser
without JavaScript.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def thousands(value: int | float | None) -> str:
    """``83340`` -> ``"83,340"``; None (nothing to show) -> ``""``."""
    if value is None:
        return ""
    return f"{value:,}"


def _in_utc(moment: datetime) -> datetime:
    """The moment in UTC; a naive one is taken to be UTC already (as the database stores)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``2026-12-04T09:58:12.345+00:00``: what ``new Date()`` reads in every browser."""
    return _in_utc(moment).isoformat(timespec="milliseconds")


def utc_text(moment: datetime, seconds: bool = False) -> str:
    """``04 Dec 2026, 09:58 UTC`` (with ``:12`` seconds when asked): the text shown until the
    page's script writes the viewer's local time, and for good without JavaScript."""
    return _in_utc(moment).strftime("%d %b %Y, %H:%M:%S UTC" if seconds else "%d %b %Y, %H:%M UTC")


@dataclass(frozen=True)
class TimeMark:
    """How a batch's time is told apart from its neighbours' on one page."""

    seconds: bool  # another batch was made in the same minute: show the seconds
    number: int | None  # others share even the second: "batch 2" (oldest is 1)


def time_marks(moments: Sequence[datetime]) -> list[TimeMark]:
    """A mark for each moment, in order: seconds where a minute is shared, and a number among
    those made in the same second (a quick series of presses)."""
    minutes = Counter(_in_utc(m).strftime("%Y-%m-%dT%H:%M") for m in moments)
    by_second: dict[str, list[datetime]] = {}
    for moment in moments:
        by_second.setdefault(_second_of(moment), []).append(_in_utc(moment))
    marks = []
    for moment in moments:
        twins = sorted(by_second[_second_of(moment)])
        number = twins.index(_in_utc(moment)) + 1 if len(twins) > 1 else None
        marks.append(TimeMark(minutes[_in_utc(moment).strftime("%Y-%m-%dT%H:%M")] > 1, number))
    return marks


def _second_of(moment: datetime) -> str:
    return _in_utc(moment).strftime("%Y-%m-%dT%H:%M:%S")


FILTERS: dict[str, Callable[..., Any]] = {
    "thousands": thousands,
    "iso_utc": iso_utc,
    "utc_text": utc_text,
    "time_marks": time_marks,
}
