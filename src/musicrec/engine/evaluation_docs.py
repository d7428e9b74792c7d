"""Write the generated parts of docs/evaluation.md from one ``musicrec evaluate --curve --json``:

    musicrec evaluate --dataset ../shared/data/lastfm-2k --curve --json > report.json
    .venv/bin/python -m musicrec.engine.evaluation_docs report.json docs/evaluation.md \\
        --note "8 min 12 s on 2 shared cores, load 3-5"

Each part sits between ``<!-- generated: NAME -->`` and ``<!-- /generated: NAME -->`` in the
page, and only those lines are replaced: ``report`` (the groups and every protocol's table),
``targets`` (goal, asserted threshold and measured value of each target) and ``curve`` (how
many ratings are enough). Nothing in them is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from musicrec.engine.evaluate import format_curve, format_report
from musicrec.engine.targets import SPREADS, measure


def _number(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 1.5 else f"{value:.3f}"


def targets_table(result: dict[str, Any]) -> str:
    """Markdown: each target's goal, what the test asserts, the measured mean +- spread and
    per-seed values, and whether the goal is met."""
    lines = [
        f"| target | goal | test asserts | measured (mean ± spread) | per seed | "
        f"mean - {SPREADS:g} spreads | goal met |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in measure(result):
        target = row.target
        asserted = f"{target.kind} {_number(target.threshold)}"
        if target.every_seed:
            asserted += " (every seed)"
        seeds = " / ".join(_number(v) for v in row.per_seed)
        met = "yes" if row.goal_met else "**no**"
        lines.append(
            f"| {target.name} | {_number(target.goal)} | {asserted} | "
            f"{_number(row.mean)} ± {_number(row.spread)} | {seeds} | "
            f"{_number(row.suggested_floor)} | {met} |"
        )
    return "\n".join(lines)


def parts(result: dict[str, Any], note: str = "") -> dict[str, str]:
    """The text of each generated part."""
    source = "`musicrec evaluate --dataset ../shared/data/lastfm-2k --curve --json`"
    if note:
        source += f" ({note})"
    out = {
        "report": f"Generated from {source}.\n\n```\n{format_report(_without_curve(result))}\n```",
        "targets": targets_table(result),
    }
    if "curve" in result:
        out["curve"] = format_curve(result["curve"])
    return out


def _without_curve(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key != "curve"}


def _filler(text: str) -> Callable[[re.Match[str]], str]:
    def fill(match: re.Match[str]) -> str:
        return f"{match.group(1)}{text}\n{match.group(2)}"

    return fill


def replace_parts(page: str, texts: dict[str, str]) -> str:
    """``page`` with the lines between each part's markers replaced; a part whose markers
    are missing raises ValueError (the page says where each part goes)."""
    for name, text in texts.items():
        marker = re.escape(name)
        pattern = re.compile(
            rf"(<!-- generated: {marker} -->\n).*?(<!-- /generated: {marker} -->)", re.DOTALL
        )
        if not pattern.search(page):
            raise ValueError(f"no <!-- generated: {name} --> ... markers in the page")
        page = pattern.sub(_filler(text), page)
    return page


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path, help="the JSON of musicrec evaluate --curve --json")
    parser.add_argument("page", type=Path, help="docs/evaluation.md")
    parser.add_argument("--note", default="", help="how long the run took, on what load")
    args = parser.parse_args(argv)
    result = json.loads(args.result.read_text())
    args.page.write_text(replace_parts(args.page.read_text(), parts(result, args.note)))


if __name__ == "__main__":
    main()
