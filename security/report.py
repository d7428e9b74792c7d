"""The suite's summary table: one row per tool run, with its version, target and findings."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Row:
    """What one tool found against one target; ``outcome`` is pytest's verdict for the test."""

    tool: str
    version: str
    target: str
    found: str
    outcome: str = ""


@dataclass
class Report:
    """Rows recorded by the tests, keyed by the test that recorded them."""

    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, nodeid: str, tool: str, version: str, target: str, found: str) -> None:
        self.rows.setdefault(nodeid, []).append(Row(tool, version, target, found))

    def table(self, outcomes: dict[str, tuple[str, str]]) -> list[Row]:
        """Every test's rows with its outcome; a test that recorded none gets one row of its own
        (from the outcome's short message, so a failure before recording still shows)."""
        table: list[Row] = []
        for nodeid, (outcome, message) in outcomes.items():
            recorded = self.rows.get(nodeid)
            if not recorded:
                name = nodeid.rsplit("::", 1)[-1]
                table.append(Row(_tool_of(nodeid), "", name, message or "-", outcome))
                continue
            for row in recorded:
                table.append(Row(row.tool, row.version, row.target, row.found, outcome))
        return table


def _tool_of(nodeid: str) -> str:
    return "hypothesis" if nodeid.startswith("tests/security/") else nodeid.split("::", 1)[0]


def short_message(longrepr: str) -> str:
    """The assertion's own message: the first ``E`` line of pytest's report, else its last line."""
    lines = [line.strip() for line in longrepr.strip().splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    return (errors[0] if errors else lines[-1] if lines else "")[:240]


def tool_version(command: list[str]) -> str:
    """The first line a tool prints for its version flag, or why it could not be asked."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unavailable ({error.__class__.__name__})"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


def markdown(rows: list[Row]) -> str:
    """The table as Markdown, with the time it was made."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# `make security`: {when}",
        "",
        "| tool | version | target | result | what it found |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [row.tool, row.version, row.target, row.outcome, row.found]
        lines.append(
            "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"
        )
    return "\n".join(lines) + "\n"


def write(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(rows), encoding="utf-8")
