"""Numbers no database column holds, in an import on a live server (issue 18, defect 8).

An artist id of 2**63 made SQLite's driver overflow (a 500); every such number, in JSON or CSV,
as an artist id, a rating or a "not for me" id, must be a 4xx that names the row and the field.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from security.conftest import Target, sign_up

pytestmark = pytest.mark.security

HUGE = 2**63
HEADER = "kind,artist_id,artist,value,source,model_version,at,signature\n"
CASES: list[tuple[str, object, str, str]] = [
    ("json", {"ratings": [{"artist_id": HUGE, "rating": 5}]}, "ratings[0]", "artist_id"),
    ("json", {"ratings": [{"artist_id": -HUGE, "rating": 5}]}, "ratings[0]", "artist_id"),
    ("json", {"ratings": [{"artist_id": 2**31, "rating": 5}]}, "ratings[0]", "artist_id"),
    ("json", {"ratings": [{"artist_id": 1, "rating": HUGE}]}, "ratings[0]", "rating"),
    ("json", {"dislikes": [{"artist_id": HUGE}]}, "dislikes[0]", "artist_id"),
    ("csv", HEADER + f"rating,{HUGE},x,5,manual,,,\n", "line 2", "artist_id"),
    ("csv", HEADER + f"rating,1,x,{HUGE},manual,,,\n", "line 2", "value"),
    ("csv", HEADER + f"not_for_me,{HUGE},x,,,,,\n", "line 2", "artist_id"),
]


def test_numbers_out_of_range_are_4xx_naming_the_field(target: Target, record) -> None:  # type: ignore[no-untyped-def]
    base = target.base_url
    auth = {"Authorization": f"Bearer {sign_up(base, f'ids_{uuid.uuid4().hex[:8]}')}"}
    wrong: list[str] = []
    for kind, body, field, named in CASES:
        if kind == "json":
            answer = requests.post(f"{base}/api/v1/me/import", json=body, headers=auth, timeout=30)
        else:
            answer = requests.post(
                f"{base}/api/v1/me/import",
                data=str(body),
                headers={**auth, "Content-Type": "text/csv"},
                timeout=30,
            )
        error = (
            answer.json().get("error", {})
            if answer.headers.get("content-type", "").startswith("application/json")
            else {}
        )
        if not (
            400 <= answer.status_code < 500
            and error.get("field") == field
            and named in str(error.get("message", ""))
        ):
            wrong.append(f"{kind} {named}: {answer.status_code} {answer.text[:120]}")
    record("import ids probe", "-", f"{target.backend} {base}", "; ".join(wrong) or "none")
    assert wrong == []
