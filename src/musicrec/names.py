"""Folding names into keys for matching and search."""

from __future__ import annotations

import unicodedata


def fold_name(name: str) -> str:
    """Fold case, accents and width, and collapse whitespace: 'ＲＥＤ' and 'Red' share a key.

    NFKD splits accented letters into base letter + combining mark and maps full-width forms
    to their ASCII counterparts; the marks are then dropped and the rest case-folded.
    """
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(stripped.casefold().split())


# Unicode categories no name needs: controls (NUL, escapes), format characters (bidi overrides,
# zero-width joiners and spaces), surrogates, private use and unassigned code points.
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def has_unprintable(text: str) -> bool:
    """Whether ``text`` holds a control, format (invisible, bidi) or unassigned character."""
    return any(unicodedata.category(char) in UNPRINTABLE_CATEGORIES for char in text)
