"""schemathesis ``--checks all`` over the OpenAPI document, with and without a Bearer token."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from security.conftest import Target, sign_up
from security.report import tool_version

pytestmark = pytest.mark.security

MAX_EXAMPLES = 20
MAX_TIME = 30  # seconds of generation per run
WALL_CLOCK = 150
CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"  # why each setting: see there


def _schemathesis() -> str:
    beside_python = Path(sys.executable).parent / "schemathesis"
    found = shutil.which("schemathesis") or (str(beside_python) if beside_python.exists() else "")
    if not found:
        pytest.fail("schemathesis is not installed: pip install -e '.[test]'")
    return found


def _untested(output: str) -> str | None:
    """Why some selected operations went untested (the time limit cut the run short), if so."""
    selected = re.search(r"Selected:\s+(\d+)/", output)
    tested = re.search(r"Tested:\s+(\d+)", output)
    if not selected or not tested:
        return "no summary of the operations tested"
    if int(tested.group(1)) < int(selected.group(1)):
        return f"only {tested.group(1)} of {selected.group(1)} operations tested"
    return None


def _summary(output: str) -> str:
    """schemathesis's closing lines: test cases generated and failures by kind."""
    failures = re.findall(r"❌ (ST\d+ [^\n:]+: \d+)", output)
    cases = re.search(r"(\d+ generated, [^\n]+)", output)
    parts = [cases.group(1) if cases else "no summary"] + failures
    return "; ".join(parts)


@pytest.mark.parametrize("signed_in", [True, False], ids=["with-token", "without-token"])
def test_no_failure(target: Target, signed_in: bool, record, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    binary = _schemathesis()
    args = [
        binary,
        "--config-file",
        str(CONFIG),
        "run",
        f"{target.base_url}/api/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME),
        "--request-timeout",
        "10",
        "--seed",
        "20141",
        "--no-color",
    ]
    if signed_in:
        # Its own account: the run must not log out the token the other attack tools use.
        token = sign_up(target.base_url, f"schema_{target.backend}")
        args += ["-H", f"Authorization: Bearer {token}", "--exclude-path", "/api/v1/auth/logout"]
    try:
        done = subprocess.run(
            args, capture_output=True, text=True, timeout=WALL_CLOCK, stdin=subprocess.DEVNULL
        )
        output = done.stdout + done.stderr
        returncode = done.returncode
    except subprocess.TimeoutExpired:
        output, returncode = f"killed after {WALL_CLOCK}s", -1
    (tmp_path / "schemathesis.log").write_text(output, encoding="utf-8")
    summary = _summary(output)
    where = f"{target.backend}: /api/openapi.json {'with' if signed_in else 'without'} token"
    record("schemathesis", tool_version([binary, "--version"]), where, summary)
    assert returncode == 0, f"schemathesis failed ({summary}); log: {tmp_path / 'schemathesis.log'}"
    # A run its time limit cut short is no verdict on the operations it did not reach.
    untested = _untested(output)
    assert untested is None, f"schemathesis incomplete: {untested}; log: {tmp_path}"
