"""bandit and semgrep (with the rules in security/semgrep.yml) over src/: no unexplained finding.

A finding is fixed, or explained in place (``# nosec BXXX`` / ``# nosemgrep: RULE``, with why);
bandit's settings (pyproject.toml, ``[tool.bandit]``) say why whole tests are skipped.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from security.report import tool_version

pytestmark = pytest.mark.security

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "security" / "semgrep.yml"
RULE_CASES = REPO / "security" / "rule_cases"
SEMGREP_FLAGS = ["--metrics=off", "--disable-version-check", "--json", "--quiet"]


def _beside_python(name: str) -> Path:
    return Path(sys.executable).parent / name


def _bandit() -> str:
    path = shutil.which("bandit") or str(_beside_python("bandit"))
    if not Path(path).exists():
        pytest.fail("bandit is not installed: pip install -e '.[security]'")
    return path


def _semgrep() -> str:
    """semgrep lives in its own virtualenv (its pins clash with the test tools')."""
    candidates = [os.environ.get("SEMGREP", ""), str(REPO / ".venv-semgrep" / "bin" / "semgrep")]
    candidates.append(shutil.which("semgrep") or "")
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("semgrep is not installed: run `make security` (it makes .venv-semgrep)")


def _semgrep_findings(target: Path) -> list[dict[str, object]]:
    done = subprocess.run(
        [_semgrep(), "scan", "--config", str(RULES), *SEMGREP_FLAGS, str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    answer = json.loads(done.stdout)
    assert not answer["errors"], f"semgrep reported errors: {answer['errors']}"
    return list(answer["results"])


def test_bandit_finds_nothing_unexplained(record) -> None:  # type: ignore[no-untyped-def]
    bandit = _bandit()
    done = subprocess.run(
        [bandit, "-c", "pyproject.toml", "-r", "src", "-f", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    answer = json.loads(done.stdout)
    findings = [
        f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_text']}"
        for item in answer["results"]
    ]
    skipped = answer["metrics"]["_totals"].get("skipped_tests", 0)
    record(
        "bandit",
        tool_version([bandit, "--version"]),
        "src/",
        f"{len(findings)} findings; {skipped} explained in place (# nosec); B101 skipped in "
        "pyproject.toml",
    )
    assert not findings, "\n".join(findings)


def test_semgrep_rules_fire_on_their_cases() -> None:
    """Every ``# ruleid: X`` line in rule_cases/ is found by rule X, no ``# ok: X`` line is."""
    found = {
        (Path(str(item["path"])).name, item["start"]["line"], item["check_id"].rsplit(".", 1)[-1])  # type: ignore[index,union-attr]
        for item in _semgrep_findings(RULE_CASES)
    }
    problems = []
    for case in sorted(RULE_CASES.glob("*.py")):
        lines = case.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            expectation = re.search(r"#\s*(ruleid|ok):\s*([\w-]+)", line)
            if not expectation:
                continue
            kind, rule = expectation.groups()
            hit = (case.name, number + 1, rule) in found
            if hit != (kind == "ruleid"):
                problems.append(f"{case.name}:{number + 1}: expected {kind} {rule}")
    assert not problems, "\n".join(problems)


def test_semgrep_finds_nothing_unexplained(record) -> None:  # type: ignore[no-untyped-def]
    findings = _semgrep_findings(REPO / "src")
    rules = sum(1 for line in RULES.read_text().splitlines() if line.startswith("  - id:"))
    described = [
        f"{item['path']}:{item['start']['line']} {item['check_id']}"  # type: ignore[index]
        for item in findings
    ]
    explained = sum(
        line.count("nosemgrep")
        for path in (REPO / "src").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
    )
    record(
        "semgrep",
        tool_version([_semgrep(), "--version", "--disable-version-check"]),
        f"src/ ({rules} rules in security/semgrep.yml)",
        f"{len(described)} findings; {explained} explained in place (# nosemgrep)",
    )
    assert not described, "\n".join(described)
