"""atheris over the import parser: only the documented ``DatasetError`` may escape."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

from security.fuzz_import import write_seeds

pytestmark = pytest.mark.security

HARNESS = Path(__file__).resolve().parent / "fuzz_import.py"
RUNS = 20_000
MAX_SECONDS = 90


def test_load_lastfm_raises_only_dataset_error(record, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    try:
        version = importlib.metadata.version("atheris")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("atheris is not installed: pip install -e '.[security]'")
    corpus = tmp_path / "corpus"
    write_seeds(corpus)
    done = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            str(corpus),
            f"-atheris_runs={RUNS}",
            f"-max_total_time={MAX_SECONDS}",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=MAX_SECONDS + 120,
        cwd=tmp_path,
    )
    output = done.stdout + done.stderr
    (tmp_path / "fuzz.log").write_text(output, encoding="utf-8")
    runs = re.findall(r"Done (\d+) in (\d+) second", output)
    crash = re.search(r"=== Uncaught Python exception: ===\s*\n(.*?)\n", output)
    found = (
        f"uncaught {crash.group(1).strip()}"
        if crash
        else (f"no uncaught exception in {runs[-1][0]} runs ({runs[-1][1]} s)" if runs else "")
    )
    record("atheris", version, "datasets.lastfm_hetrec.load_lastfm (4 shapes)", found or "no run")
    assert done.returncode == 0 and runs, (
        f"{found or 'the fuzzer did not finish'}:\n{output[-3000:]}"
    )
