from __future__ import annotations

import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import pytest

from musicrec.datasets import load_lastfm
from musicrec.names import fold_name, has_unprintable, unprintable_class


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Dan Bălan", "dan balan"),
        ("ＲＥＤ", "red"),
        ("Murat Kekİllİ", "murat kekilli"),
        ("  Sigur   Rós ", "sigur ros"),
        ("MALICE MIZER", "malice mizer"),
    ],
)
def test_fold_name_folds_case_accents_width_and_spaces(name: str, key: str) -> None:
    assert fold_name(name) == key


@pytest.mark.realdata
def test_shared_catalogue_has_17_groups_of_names_that_fold_together(shared_data: Path) -> None:
    groups: defaultdict[str, list[str]] = defaultdict(list)
    for name in load_lastfm(shared_data).artist_names:
        groups[fold_name(name)].append(name)

    shared = {key: names for key, names in groups.items() if len(names) > 1}

    assert len(shared) == 17
    assert sorted(shared["dan balan"]) == ["Dan Balan", "Dan Bălan"]
    assert sorted(shared["red"]) == ["Red", "Red", "ＲＥＤ"]


def test_the_schemas_pattern_refuses_what_has_unprintable_finds() -> None:
    """The API's schema states the rule as a regex class: the same characters, every one."""
    visible_only = re.compile(f"[^{unprintable_class()}]*")
    assert "\\U" not in unprintable_class()  # JSON Schema's patterns have no such escape
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if unicodedata.category(char) == "Cs":  # no text: refused, not stated
            assert has_unprintable(char) and visible_only.fullmatch(char), hex(code)
            continue
        assert (visible_only.fullmatch(char) is None) == has_unprintable(char), hex(code)
