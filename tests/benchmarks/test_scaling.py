"""``scaling.py``'s timings keep the quietest pass, so other load does not inflate them."""

from __future__ import annotations

import time

import scaling


def test_quietest_reports_the_pass_with_the_lowest_median() -> None:
    calls = []

    def work(seconds: float) -> None:
        calls.append(seconds)
        if len(calls) <= 10:  # the whole first pass runs as if on a loaded machine
            time.sleep(seconds)

    result = scaling.quietest(work, [(0.003,)] * 10, repetitions=3)
    assert len(calls) == 30
    assert result["repetitions"] == 3 and result["runs"] == 10
    assert result["pass_medians_s"][0] >= 0.003
    assert result["median_s"] == min(result["pass_medians_s"]) < 0.003


def test_quietest_each_takes_the_passes_in_turn() -> None:
    calls: list[str] = []
    functions = {name: (lambda _x, name=name: calls.append(name)) for name in ("exact", "index")}
    results = scaling.quietest_each(functions, [(1,), (2,)], repetitions=2)
    assert calls == ["exact", "exact", "index", "index", "exact", "exact", "index", "index"]
    assert set(results) == {"exact", "index"}
    assert all(len(r["pass_medians_s"]) == 2 and r["runs"] == 2 for r in results.values())
