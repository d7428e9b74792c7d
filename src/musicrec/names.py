"""Folding names into keys for matching and search."""

from __future__ import annotations

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
# zero-width joiners and spaces), surrogates and private use, in the Basic Multilingual Plane.
# The API's schema states the rule as a pattern, and a JSON Schema (ECMA-262) pattern names
# characters beyond the BMP only as surrogate pairs; so these pass: unassigned code points
# (hundreds of ranges, each Unicode version its own), the supplementary planes' private use and
# their few format characters (the tags of flag emoji, a few in historic scripts).
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
LAST_IN_BMP = 0xFFFF
# ... of which the schema's pattern names all but the surrogates: a lone surrogate is no Unicode
# text, which is all a JSON Schema string describes (a pattern naming them is one schemathesis
# cannot use); the server refuses them all the same.
STATED_CATEGORIES = UNPRINTABLE_CATEGORIES - {"Cs"}


MAX_NAME_LENGTH = 200


def tidy_name(name: str) -> str:
    """The name with its runs of whitespace collapsed to single spaces and its ends trimmed."""
    return " ".join(name.split())


def name_problem(name: str) -> str | None:
    """Why ``name`` (tidied) cannot name an artist, or None: the rule for every new catalogue
    entry, typed by a user or brought by an import. Invisible and format characters are refused
    rather than stripped, so a look-alike ('Radiohead' + U+200B) never passes as the real one."""
    if not name or not fold_name(name):
        return "Give the artist's name."
    if has_unprintable(name):
        return "Use visible characters only (no control or format characters)."
    if len(name) > MAX_NAME_LENGTH:
        return f"Use at most {MAX_NAME_LENGTH} characters."
    return None


def has_unprintable(text: str) -> bool:
    """Whether ``text`` holds a control, format (invisible, bidi), surrogate or private-use
    character of the Basic Multilingual Plane."""
    return any(
        ord(char) <= LAST_IN_BMP and unicodedata.category(char) in UNPRINTABLE_CATEGORIES
        for char in text
    )


@cache
def unprintable_class() -> str:
    """The characters ``has_unprintable`` finds but surrogates, as the inside of a regex
    character class (backslash-u escapes, read alike by JSON Schema and Python), for the API's
    schema."""
    groups: list[tuple[int, int]] = []
    for code in range(LAST_IN_BMP + 1):
        if unicodedata.category(chr(code)) not in STATED_CATEGORIES:
            continue
        if groups and code == groups[-1][1] + 1:
            groups[-1] = (groups[-1][0], code)
        else:
            groups.append((code, code))
    return "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in groups)


def _escape(code: int) -> str:
    return f"\\u{code:04X}"
