"""The CSV export never hands a spreadsheet a formula, and still imports back."""

from __future__ import annotations

import csv
import io

import pytest

from musicrec.services.my_data import as_text_cell, export_csv


@pytest.mark.parametrize(
    "name", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]
)
def test_a_name_that_starts_a_formula_is_kept_as_text(name: str) -> None:
    assert as_text_cell(name) == "'" + name


@pytest.mark.parametrize("name", ["Radiohead", "The Beatles", "!!!", "'quoted", "a=b"])
def test_other_names_are_unchanged(name: str) -> None:
    assert as_text_cell(name) == name


def test_the_export_escapes_names_but_not_numbers() -> None:
    data = {
        "ratings": [
            {
                "artist_id": 7,
                "artist": "=cmd|' /C calc'!A0",
                "rating": 9,
                "source": "manual",
                "updated_at": "2026-01-01T00:00:00+00:00",
            }
        ],
        "dislikes": [{"artist_id": 8, "artist": "@evil", "created_at": "2026-01-01"}],
        "recommendations": [
            {
                "artist_id": 9,
                "artist": "-minus",
                "score": -0.25,
                "model_version": "v1",
                "created_at": "2026-01-01",
            }
        ],
        "settings": {"discovery": 0.25},
    }
    rows = list(csv.DictReader(io.StringIO(export_csv(data))))
    assert [row["artist"] for row in rows[:3]] == ["'=cmd|' /C calc'!A0", "'@evil", "'-minus"]
    assert rows[2]["value"] == "-0.25"  # a number stays a number
    assert rows[0]["artist_id"] == "7" and rows[0]["value"] == "9"
