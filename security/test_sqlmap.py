"""sqlmap at level 3, risk 3 on every form and parameter, on both databases: nothing injectable."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from security import sqlmap_scan
from security.conftest import Target
from security.report import tool_version

pytestmark = pytest.mark.security

PARALLEL = 4  # sqlmap processes at once: most of their time is spent waiting on the server


def test_nothing_injectable(target: Target, record, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if sqlmap_scan.sqlmap_binary() is None:
        pytest.fail("sqlmap is not installed: run `make security` (apt-get install sqlmap)")
    version = tool_version(["sqlmap", "--version"])
    # Headers and the auth cookie reach no SQL whatever the database: tested on SQLite only.
    targets = sqlmap_scan.targets(
        target.artist_id, target.username, headers=target.backend == "sqlite"
    )

    def scan(index: int) -> sqlmap_scan.Verdict:
        return sqlmap_scan.run(
            targets[index],
            target.base_url,
            target.backend,
            target.token,
            tmp_path / f"target-{index}",
        )

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        verdicts = list(pool.map(scan, range(len(targets))))

    for scanned, result in zip(targets, verdicts, strict=True):
        where = f"{target.backend}: {scanned.method} {scanned.path}"
        record("sqlmap", version, where, result.summary)
    failures = [
        f"{scanned.name}: {result.summary}"
        for scanned, result in zip(targets, verdicts, strict=True)
        if not result.clean
    ]
    assert not failures, "\n".join(failures) + f"\n(console logs under {tmp_path})"
