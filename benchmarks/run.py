"""What `make bench` runs: every case, ours and the reference in the same run.

    python benchmarks/run.py            all cases -> results/latest.json, docs/benchmarks.md
    python benchmarks/run.py --quick    skips train-scale-full and train-e2e, fewer
                                        repetitions and shorter load runs
                                        -> results/quick.json (the docs are left alone)
    python benchmarks/run.py --only serve-http,seed-request    a subset -> results/only.json
                                        (merged with earlier --only runs; docs left alone)
    python benchmarks/run.py --render   docs/benchmarks.md again from results/latest.json
    python benchmarks/run.py --quick --publish    quick, but written as latest.json and docs

The docs are only ever written from one whole run (latest.json and latest-meta.json, written
together): every figure of docs/benchmarks.md, the notes' included, comes from that run's
JSON, with its load average. A case that fails is recorded with its error and the run goes
on; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import bench_import
import case_http
import case_inprocess
import case_train
import case_train_e2e
import report
from measure import BENCHMARKS

NOTES = BENCHMARKS / "notes.md"
META = report.RESULTS / "latest-meta.json"

Case = tuple[tuple[str, ...], Callable[[bool], list[dict]]]


def cases(quick: bool) -> list[Case]:
    """(case names, function returning their entries), in the order they run."""
    out: list[Case] = [
        (("train-lastfm2k",), lambda q: [case_train.train_lastfm2k(q)]),
        (
            ("train-scale-tenth",),
            lambda q: [case_train.train_scale("lastfm360k-tenth", "train-scale-tenth", q)],
        ),
    ]
    if not quick:
        out.append(
            (
                ("train-scale-full",),
                lambda q: [case_train.train_scale("lastfm360k-full", "train-scale-full", q)],
            )
        )
        out.append((("train-e2e",), lambda q: [case_train_e2e.train_e2e(q)]))
    out += [
        (
            ("serve-inprocess",),
            lambda q: [case_inprocess.serve_inprocess("serve-inprocess", "lastfm2k", 48, 15)],
        ),
        (
            ("serve-inprocess-292k",),
            lambda q: [
                case_inprocess.serve_inprocess("serve-inprocess-292k", "lastfm360k-full", 64, 2)
            ],
        ),
        (("serve-http", "seed-request"), case_http.http_cases),
        (("import-postgresql", "import-sqlite"), bench_import.import_cases),
    ]
    return out


def merged(output: Path, found: list[dict]) -> list[dict]:
    """The output file's entries with ``found`` replacing those of the same cases, in the
    order the cases run (so ``--only`` updates a few cases of an earlier run)."""
    entries = json.loads(output.read_text()) if output.exists() else []
    new = {entry["case"] for entry in found}
    entries = [entry for entry in entries if entry["case"] not in new] + found
    order = [name for names, _function in cases(quick=False) for name in names]
    return sorted(entries, key=lambda entry: order.index(entry["case"]))


def run(quick: bool, only: set[str], publish: bool, started: str) -> tuple[list[dict], bool]:
    failed = False
    if only:
        output = report.RESULTS / "only.json"
    else:
        output = report.RESULTS / ("quick.json" if quick and not publish else "latest.json")
        output.unlink(missing_ok=True)
    entries: list[dict] = []
    for names, function in cases(quick):
        if only and not only & set(names):
            continue
        print(f"== {', '.join(names)}", flush=True)
        start, load_before = time.perf_counter(), report.load_average()
        try:
            found = function(quick)
        except Exception as error:  # a failed case is reported, the others still run
            traceback.print_exc()
            found = [
                {"case": name, "project": {"error": repr(error)}, "reference": {}, "ratio": None}
                for name in names
            ]
        found = [entry for entry in found if not only or entry["case"] in only]
        load = (load_before, report.load_average())
        for entry in found:  # which run measured it, and how loaded the machine was
            entry.update(run=started, load=load, seconds=round(time.perf_counter() - start))
        failed = failed or any("error" in entry["project"] for entry in found)
        print(f"   {time.perf_counter() - start:.0f} s", flush=True)
        for entry in found:
            print(f"   {json.dumps(entry)[:400]}", flush=True)
        entries = merged(output, found) if only else [*entries, *found]
        report.write_json(entries, output)
    return entries, failed


def render(meta: dict, entries: list[dict]) -> None:
    """docs/benchmarks.md from one run's entries (refused when they come from several)."""
    runs = {entry.get("run") for entry in entries}
    if runs != {meta["started"]}:
        raise SystemExit(f"the results mix runs {sorted(map(str, runs))}: run the bench again")
    started = report.datetime.fromisoformat(meta["started"])
    run = f"`make bench{'-quick' if meta['mode'] == 'quick' else ''}`, {meta['seconds']} s"
    report.write_docs(entries, started, tuple(meta["load"]), run, NOTES.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--publish", action="store_true", help="quick results as latest.json")
    options = parser.parse_args()
    if options.render:
        entries = json.loads((report.RESULTS / "latest.json").read_text())
        render(json.loads(META.read_text()), entries)
        return
    only = {name for name in options.only.split(",") if name}
    started, load_before = report.now(), report.load_average()
    begin = time.perf_counter()
    entries, failed = run(options.quick, only, options.publish, started.isoformat())
    seconds = time.perf_counter() - begin
    print(f"== all done in {seconds:.0f} s", flush=True)
    if (options.publish or not options.quick) and not only:
        meta = {
            "started": started.isoformat(),
            "load": (load_before, report.load_average()),
            "mode": "quick" if options.quick else "full",
            "seconds": round(seconds),
        }
        META.write_text(json.dumps(meta) + "\n")
        render(meta, entries)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
