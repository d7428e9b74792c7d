"""Generated avatars: initials and a colour that depend on the name alone."""

from __future__ import annotations

import pytest

from musicrec.web.avatars import COLOURS, avatar_colour, initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("The Beatles", "TB"),
        ("Radiohead", "R"),
        ("björk", "B"),
        ("Guns N' Roses", "GR"),
        ("!!!", "!!"),
        (":(", ":("),
        ("AC/DC", "A"),
        ("  ", ""),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


def test_colour_is_stable_and_in_range() -> None:
    # h = h * 31 + code point, mod 2**32, mod COLOURS: "ab" -> 97 * 31 + 98 = 3105.
    assert avatar_colour("ab") == 3105 % COLOURS
    assert avatar_colour("Metallica") == avatar_colour("Metallica")
    assert {avatar_colour(name) for name in ("a", "b", "c", "d", "e", "f")} <= set(range(COLOURS))
