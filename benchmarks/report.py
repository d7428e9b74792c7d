"""The results as JSON (benchmarks/results/) and as the table of docs/benchmarks.md."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import http_load
import measure
import notes_figures
import postgres
from measure import BENCHMARKS, REPO

RESULTS = BENCHMARKS / "results"
DOCS = REPO / "docs" / "benchmarks.md"

Entry = dict


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def _timing(side: dict) -> str:
    median, p99 = side["median_s"], side["p99_s"]
    if median < 0.1:
        return f"median {_ms(median)}, p99 {_ms(p99)} ({side['runs']:,} runs)"
    return f"median {_s(median)} of {side['runs']}"


def _ndcg(side: dict) -> str:
    return f"NDCG@10 {side['ndcg@10']:.4f}"


def _cells(entry: Entry) -> tuple[str, str]:
    case, project, reference = entry["case"], entry["project"], entry["reference"]
    if "error" in project:
        return f"failed: {project['error']}", "-"
    if case == "train-lastfm2k":
        exact = project["exact"]
        return (
            f"fit, conjugate gradient (the default): {_timing(project)}, {_ndcg(project)}; "
            f"exact solver: {_timing(exact)}, {_ndcg(exact)}; whole process "
            f"{_s(project['whole_process_median_s'])}",
            f"fit {_timing(reference)}, {_ndcg(reference)}; whole process "
            f"{_s(reference['whole_process_median_s'])}",
        )
    if case.startswith("train-scale"):
        short, long = entry["lengths"]
        return (
            f"{project['median_s']:.2f} s/iteration (conjugate gradient), "
            f"{project['exact']['median_s']:.2f} s/iteration (exact); 15 iterations "
            f"{_s(project['training_s'])}; peak RSS {project['peak_rss_mb']:,.0f} MB",
            f"{reference['median_s']:.2f} s/iteration (fits of {long} and {short} iterations: "
            f"{_s(reference['lengths_s'][str(long)])} and "
            f"{_s(reference['lengths_s'][str(short)])}); JVM peak RSS "
            f"{reference['peak_rss_mb']:,.0f} MB",
        )
    if case == "train-e2e":
        return (
            f"`musicrec train` {_s(project['median_s'])} from start to published (reading and "
            f"training {_s(project['read_and_train_s'])}), {project['ratings']:,} ratings, "
            f"peak RSS {project['peak_rss_mb']:,.0f} MB",
            f"the solver alone {_s(reference['median_s'])} "
            f"({reference['median_s'] / project['median_s']:.0%} of the command's time), peak "
            f"RSS {reference['peak_rss_mb']:,.0f} MB",
        )
    if case.startswith("serve-inprocess"):
        ours, theirs = (
            f"new user: {_timing(side)}; known user: median "
            f"{_ms(side['known_user']['median_s'])}, p99 {_ms(side['known_user']['p99_s'])}"
            for side in (project, reference)
        )
        parts = project.get("parts")
        if parts:
            ours += (
                f"; parts (medians): product {_ms(parts['product']['median_s'])}, top_n "
                f"{_ms(parts['top_n']['median_s'])} (a partial sort of every score: "
                f"{_ms(parts['partial_sort']['median_s'])})"
            )
        return ours, theirs
    if case == "serve-http":
        saturated, search = project["saturated"], project["search_saturated"]
        return (
            f"recommendations {project['rps']:.0f} req/s at saturation (p99 "
            f"{saturated['p99_ms']:.0f} ms); at 200 req/s p50 {project['p50_ms']:.1f} ms, p99 "
            f"{project['p99_ms']:.1f} ms; search {project['search_rps']:.0f} req/s (p99 "
            f"{search['p99_ms']:.0f} ms); errors {project['errors']}",
            f">= {reference['rps']:.0f} req/s, p99 <= {reference['saturated_p99_ms']:.0f} ms "
            f"at saturation and <= {reference['p99_ms']:.0f} ms at 200/s, "
            f"{reference['errors']} errors, search >= {reference['search_rps']:.0f} req/s",
        )
    if case == "seed-request":
        return (
            f"whole process: {_timing(project)}; one HTTP request to the running server: "
            f"{_timing(project['one_request'])}",
            f"whole process: {_timing(reference)}",
        )
    return _timing(project), _timing(reference)


def _ratio_cell(entry: Entry) -> str:
    if entry["ratio"] is None:
        return "-"
    cell = f"{entry['ratio']:,.1f}x"
    if entry.get("ratio_exact") is not None:
        cell += f" (exact solver: {entry['ratio_exact']:,.1f}x)"
    return cell


TARGETS: dict[str, tuple[str, Callable[[Entry], bool]]] = {
    "train-lastfm2k": (">= 25x, fit alone (the default solver)", lambda e: e["ratio"] >= 25),
    "train-scale-tenth": (">= 15x per iteration", lambda e: e["ratio"] >= 15),
    "train-scale-full": (
        ">= 10x per iteration; 15 iterations < 70 s, peak RSS < 2 GB",
        lambda e: (
            e["ratio"] >= 10
            and e["project"]["training_s"] < 70
            and e["project"]["peak_rss_mb"] < 2048
        ),
    ),
    "serve-inprocess": (
        "median <= 2 ms, p99 <= 10 ms",
        lambda e: e["project"]["median_s"] <= 0.002 and e["project"]["p99_s"] <= 0.010,
    ),
    "serve-inprocess-292k": ("median <= 3 ms", lambda e: e["project"]["median_s"] <= 0.003),
    "serve-http": (
        ">= 400 req/s; p99 <= 100 ms at saturation (both paths), <= 50 ms at 200/s; 0 errors "
        "or time-outs; search >= 1,000 req/s",
        lambda e: (
            e["project"]["rps"] >= 400
            and e["project"]["saturated"]["p99_ms"] <= 100
            and e["project"]["search_saturated"]["p99_ms"] <= 100
            and e["project"]["p99_ms"] <= 50
            and e["project"]["errors"] == 0
            and e["project"]["search_rps"] >= 1000
        ),
    ),
    "seed-request": (">= 500x, whole process against whole process", lambda e: e["ratio"] >= 500),
    "import-postgresql": ("< 5 s", lambda e: e["project"]["median_s"] < 5),
    "import-sqlite": ("< 5 s", lambda e: e["project"]["median_s"] < 5),
}


def _met(entry: Entry) -> str:
    if "error" in entry["project"]:
        return "failed"
    if entry["case"] not in TARGETS:
        return "-"
    return "yes" if TARGETS[entry["case"]][1](entry) else "**no**"


def write_json(entries: list[Entry], path: Path) -> None:
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(entries, indent=2) + "\n")


def _command_version(command: list[str], pattern: str) -> str:
    try:
        output = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    found = re.search(pattern, output.stdout + output.stderr)
    return found.group(1) if found else "unknown"


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def environment() -> dict[str, str]:
    """Machine, cores and versions, for the report's header."""
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    packages = ("numpy", "scipy", "implicit", "pyspark", "gunicorn", "flask", "sqlalchemy")
    versions = {name: metadata.version(name) for name in packages}
    return {
        "machine": f"{platform.machine()}, {_cpu()}, {memory_kb / 2**20:.0f} GB RAM",
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        **versions,
        "java": _command_version(["java", "-version"], r'version "([^"]+)"'),
        "postgresql": postgres.server_version(),
        "wrk": _command_version(["wrk", "-v"], r"wrk (?:debian/)?([\w.+-]+)"),
    }


def _profile_section(entries: list[Entry]) -> str:
    http = next((e for e in entries if e["case"] == "serve-http"), None)
    if http is None or "profile" not in http["project"]:
        return ""
    profile = http["project"]["profile"]
    lines = [
        "## Where a request's time goes",
        "",
        f"py-spy sampled every gunicorn process during a saturated run of `POST "
        f"/api/v1/me/recommendations` (flame graph: [{Path(profile['svg']).name}]"
        f"(../{profile['svg']})). Shares of all samples:",
        "",
        "| on CPU (top of the stack) | share | within musicrec (anywhere in the stack) | share |",
        "|---|---|---|---|",
    ]
    own, inclusive = profile["self"], profile["musicrec, inclusive"]
    for row in range(max(len(own), len(inclusive))):
        left = own[row] if row < len(own) else ("", 0.0)
        right = inclusive[row] if row < len(inclusive) else ("", 0.0)
        lines.append(
            f"| `{left[0]}` | {left[1]:.1%} | `{right[0]}` | {right[1]:.1%} |"
            if right[0]
            else f"| `{left[0]}` | {left[1]:.1%} | | |"
        )
    return "\n".join(lines) + "\n"


def _fairness_section(entries: list[Entry]) -> str:
    """serve-http's latency at saturation and what each connection got, both paths."""
    http = next((e for e in entries if e["case"] == "serve-http"), None)
    project = http["project"] if http else {}
    runs = [
        (path, project[key], project.get(paced), project.get(f"{paced}_new_connections"))
        for path, key, paced in (
            ("recommendations", "saturated", "fixed_rate"),
            ("search", "search_saturated", "search_fixed_rate"),
        )
        if "spread" in project.get(key, {})
    ]
    if not runs:
        return ""
    first = runs[0][1]
    lines = [
        "## Fairness at saturation",
        "",
        f"wrk, {first['connections']} connections (one thread each, so each is one client's "
        f"loop), {first['seconds']} s, answers later than {http_load.WRK_TIMEOUT_S:.0f} s "
        "counted as time-outs. p50 to max are wrk's, over every request (wrk adds the requests "
        "a stalled connection would have sent, its coordinated-omission correction); the "
        "per-connection columns are each connection's own latencies (benchmarks/wrk/rotate.lua)"
        ": the slowest client against the fastest. A fair server gives every connection about "
        "the same number of answers. The last two columns are open-loop runs at a fixed 200 "
        "requests a second, latency counted from each request's scheduled time: over 16 "
        "keep-alive connections (as wrk2 -R200 -c16), and with a new connection for every "
        "request (`benchmarks/http_load.py`)."
        + (
            f" Load average {project['load'][0]} when serve-http started, "
            f"{project['load'][1]} when it ended."
            if "load" in project
            else ""
        ),
        "",
        "| path | req/s | p50 ms | p90 ms | p99 ms | max ms | time-outs | answers per "
        "connection (fewest - most) | per-connection p99 ms (lowest - highest) | "
        "at 200/s, 16 connections: p50 / p99 / max ms | at 200/s, a new connection each: "
        "p50 / p99 / max ms |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path, run, paced, paced_new in runs:
        spread = run["spread"]
        at_rate, at_rate_new = _at_rate(paced), _at_rate(paced_new)
        lines.append(
            f"| {path} | {run['rps']:,.0f} | {run['p50_ms']:.1f} | {run['p90_ms']:.1f} | "
            f"{run['p99_ms']:.1f} | {run['max_ms']:,.0f} | {run['timeouts']} | "
            f"{spread['fewest_requests']:,} - {spread['most_requests']:,} | "
            f"{spread['p99_ms'][0]:.1f} - {spread['p99_ms'][1]:.1f} | {at_rate} | "
            f"{at_rate_new} |"
        )
    return "\n".join(lines) + "\n"


def _at_rate(run: dict | None) -> str:
    """A fixed-rate run's p50 / p99 / max (max where recorded)."""
    if not run:
        return "-"
    cell = f"{run['p50_ms']:.1f} / {run['p99_ms']:.1f}"
    return cell + (f" / {run['max_ms']:,.0f}" if "max_ms" in run else "")


def _workers_section(entries: list[Entry]) -> str:
    """The worker class and count sweep of serve-http (full mode), if it ran."""
    http = next((e for e in entries if e["case"] == "serve-http"), None)
    rows = http["project"].get("workers") if http else None
    if not rows:
        return ""
    lines = [
        "## Worker class and count",
        "",
        "`musicrec serve` with each choice on the same database and users, at saturation "
        "(wrk, 16 connections; gthread with 8 threads a worker). The default is the first row.",
        "",
        "| worker class | workers | recommendations req/s | p99 ms | search req/s | "
        "search p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        search_p99 = f"{row['search_p99_ms']:,.0f}" if "search_p99_ms" in row else "-"
        lines.append(
            f"| {row['worker_class']} | {row['workers']} | {row['rps']:,.0f} | "
            f"{row['p99_ms']:,.0f} | {row['search_rps']:,.0f} | {search_p99} | {row['errors']} |"
        )
    return "\n".join(lines) + "\n"


def write_docs(
    entries: list[Entry], started: datetime, load: tuple[str, str], run: str, notes: str
) -> None:
    """Rewrite docs/benchmarks.md: header, the table, the profile summary, the notes."""
    env = environment()
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (benchmarks/run.py); the figures are also in "
        "[benchmarks/results/latest.json](../benchmarks/results/latest.json).",
        "",
        f"Measured {started.strftime('%Y-%m-%d %H:%M UTC')} ({run}) on {env.pop('machine')}, "
        f"{env.pop('cores')} cores; load average {load[0]} at the start, {load[1]} at the end "
        "(the machine is shared: figures taken while others use the CPU are noisy). Versions: "
        + ", ".join(f"{name} {version}" for name, version in env.items())
        + ".",
        "",
        "Ratio = reference median / project median (how many times faster ours is); for "
        "serve-http, our requests a second / the target's. Each case's load average (1, 5 and "
        "15 minutes) at its start and end is in the last column.",
        "",
        "| case | project (musicrec) | reference | ratio | target | met | load average (start; "
        "end) |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in entries:
        ours, theirs = _cells(entry)
        ratio = _ratio_cell(entry)
        target = TARGETS.get(entry["case"], ("-", None))[0]
        load = "; ".join(entry["load"]) if "load" in entry else "-"
        header.append(
            f"| {entry['case']} | {ours} | {theirs} | {ratio} | {target} | {_met(entry)} | {load} |"
        )
    sections = (
        _fairness_section(entries)
        + "\n"
        + _profile_section(entries)
        + "\n"
        + _workers_section(entries)
    )
    filled = notes_figures.fill(notes, entries).strip()
    text = "\n".join(header) + "\n\n" + sections + "\n" + filled + "\n"
    DOCS.write_text(text)


def now() -> datetime:
    return datetime.now(UTC)


def load_average() -> str:
    return measure.load_average()
