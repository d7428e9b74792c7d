"""pip-audit --strict over the installed environment, where a vulnerability database answers.

Where none answers (this workplace reaches no vulnerability database), the test is skipped with
"dependency audit NOT run: <reason>", in the summary table too: never a green audit that did not
run.
"""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.security

WALL_CLOCK = 300
NOT_REACHED = re.compile(
    r"(could not be audited|ConnectionError|Max retries exceeded|Failed to establish|"
    r"Name or service not known|timed out|SSLError|ProxyError)",
)


def test_no_known_vulnerable_dependency(record) -> None:  # type: ignore[no-untyped-def]
    try:
        version = importlib.metadata.version("pip-audit")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("pip-audit is not installed: pip install -e '.[security]'")
    target = "the installed environment (--local)"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--strict", "--local", "--progress-spinner", "off"],
            capture_output=True,
            text=True,
            timeout=WALL_CLOCK,
        )
    except subprocess.TimeoutExpired:
        reason = f"dependency audit NOT run: no answer within {WALL_CLOCK}s"
        record("pip-audit", version, target, reason)
        pytest.skip(reason)
    output = done.stdout + done.stderr
    unreached = NOT_REACHED.search(output)
    if unreached:
        first = next(line for line in output.splitlines() if unreached.group(1) in line)
        reason = f"dependency audit NOT run: no vulnerability database reached ({first.strip()})"
        record("pip-audit", version, target, reason[:300])
        pytest.skip(reason)
    found = re.search(r"Found \d+ known vulnerabilit[^\n]*", output)
    summary = found.group(0) if found else "No known vulnerabilities found"
    record("pip-audit", version, target, summary)
    assert done.returncode == 0, output[-3000:]
