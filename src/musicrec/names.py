"""Folding names into keys for matching and search."""

from __future__ import annotations

import sys
import unicodedata
from functools import cache


def fold_name(name: str) -> str:
    """Fold case, accents and width, and collapse whitespace: 'ＲＥＤ' and 'Red' share a key.

    NFKD splits accented letters into base letter + combining mark and maps full-width forms
    to their ASCII counterparts; the marks are then dropped and the rest case-folded.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


# Unicode categories no name needs: controls (NUL, escapes), format characters (bidi overrides,
# zero-width joiners and spaces), surrogates and private use. Unassigned code points pass: they
# carry no risk, and the API's schema could not state a rule over them (hundreds of ranges, and
# each Unicode version its own), which schemathesis then found refused when schema-valid.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def has_unprintable(text: str) -> bool:
    """Whether ``text`` holds a control, format (invisible, bidi), surrogate or private-use
    character."""
    return any(unicodedata.category(char) in UNPRINTABLE_CATEGORIES for char in text)


@cache
def unprintable_class() -> str:
    """The characters ``has_unprintable`` finds, as the inside of a regex character class in
    Python's syntax (backslash-u and backslash-U escapes): the API's schema states the rule."""
    groups: list[tuple[int, int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) not in UNPRINTABLE_CATEGORIES:
            continue
        if groups and code == groups[-1][1] + 1:
            groups[-1] = (groups[-1][0], code)
        else:
            groups.append((code, code))
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in groups)


def _escape(code: int) -> str:
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"
