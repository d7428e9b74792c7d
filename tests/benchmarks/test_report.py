"""The figures the benchmark docs quote come from one run's entries, and only from them."""

from __future__ import annotations

import re

import pytest
from threadpoolctl import threadpool_limits

import case_train
import notes_figures
import run
import subjects
from measure import BENCHMARKS

RUN = "2026-12-04T15:00:00+00:00"


def _timing(seconds: float, runs: int = 3) -> dict:
    return {"median_s": seconds, "p99_s": seconds, "runs": runs}


def _scale(case: str, users: int) -> dict:
    return {
        "case": case,
        "lengths": [1, 3],
        "project": {
            **_timing(0.5, 1),
            "exact": _timing(0.9, 1),
            "training_s": 8.0,
            "iterations": 15,
            "factors": 64,
            "genres": 64,
            "peak_rss_mb": 300.0,
            "users": users,
            "artists": users - 1,
            "ratings": users * 40,
        },
        "reference": {
            **_timing(5.0, 1),
            "lengths_s": {"1": 20.0, "3": 30.0},
            "peak_rss_mb": 1500.0,
            "blocks": 2,
            "driver_memory": "6g",
        },
        "ratio": 10.0,
        "ratio_exact": 5.6,
    }


def _inprocess(case: str, artists: int) -> dict:
    parts = {name: _timing(0.001, 1000) for name in ("product", "top_n", "partial_sort")}
    side = {**_timing(0.002, 1000), "known_user": _timing(0.001, 1000)}
    return {
        "case": case,
        "project": {**side, "parts": parts, "artists": artists, "factors": 64, "iterations": 2},
        "reference": side,
        "ratio": 1.0,
    }


@pytest.fixture
def entries() -> list[dict]:
    """One of every case, with the fields the notes read (values need not be realistic)."""
    http = {"rps": 300.0, "p99_ms": 40.0, "p50_ms": 9.0, "errors": 0, "search_rps": 1500.0}
    saturated = {"connections": 16, "seconds": 20, "p99_ms": 90.0}
    found = [
        {
            "case": "train-lastfm2k",
            "project": {
                **_timing(0.5, 5),
                "ndcg@10": 0.25,
                "exact": {**_timing(0.9, 5), "ndcg@10": 0.2504},
                "whole_process_median_s": 2.0,
                "whole_process_runs": 3,
                "users": 1800,
                "ratings": 70000,
                "holdout_seed": 42,
                "settings": {
                    "factors": 48,
                    "iterations": 15,
                    "regularization": 1.0,
                    "alpha": 0.2,
                    "bm25_k1": 100.0,
                    "bm25_b": 0.8,
                },
            },
            "reference": {
                **_timing(10.0, 5),
                "ndcg@10": 0.2503,
                "reg_param": 0.144,
                "blocks": 2,
                "whole_process_median_s": 30.0,
            },
            "ratio": 20.0,
            "ratio_exact": 11.1,
        },
        _scale("train-scale-tenth", 35_935),
        _scale("train-scale-full", 359_347),
        {
            "case": "train-e2e",
            "project": {
                **_timing(150.0, 1),
                "read_and_train_s": 140.0,
                "peak_rss_mb": 5000.0,
                "ratings": 17_439_372,
                "factors": 64,
                "loading_s": {"copy_ratings": 120.0, "total": 125.0},
            },
            "reference": {**_timing(60.0, 1), "peak_rss_mb": 1800.0},
            "ratio": None,
        },
        _inprocess("serve-inprocess", 17_632),
        _inprocess("serve-inprocess-292k", 292_385),
        {
            "case": "serve-http",
            "project": {
                **http,
                "saturated": saturated,
                "search_saturated": saturated,
                "setup": {
                    "users": 200,
                    "ratings_each": 10,
                    "rate": 200,
                    "rate_seconds": 10,
                    "wrk_timeout_s": 2.0,
                },
            },
            "reference": {**http, "rps": 400.0, "saturated_p99_ms": 100.0},
            "ratio": 0.75,
        },
        {
            "case": "seed-request",
            "project": {**_timing(0.8, 3), "one_request": _timing(0.01, 200)},
            "reference": _timing(16.0, 3),
            "ratio": 20.0,
        },
    ]
    return [
        {**entry, "run": RUN, "load": ["1.0 / 1.0 / 1.0", "1.2 / 1.1 / 1.0"]} for entry in found
    ]


def test_every_placeholder_of_the_notes_is_filled_from_a_whole_run(entries: list[dict]) -> None:
    notes = (BENCHMARKS / "notes.md").read_text()
    filled = notes_figures.fill(notes, entries)
    assert notes_figures.MISSING not in filled
    assert not re.search(r"\{\w+\}", filled)
    assert "0.2504 (exact)" in filled and "regParam 0.144" in filled
    assert "17.4M" in filled  # the e2e case's ratings, from its entry


def test_a_case_the_run_did_not_measure_is_said_so(entries: list[dict]) -> None:
    notes = (BENCHMARKS / "notes.md").read_text()
    quick = [entry for entry in entries if entry["case"] not in ("train-e2e", "train-scale-full")]
    filled = notes_figures.fill(notes, quick)
    assert f"took {notes_figures.MISSING} from start to published" in filled


def test_the_docs_are_never_written_from_entries_of_several_runs(entries: list[dict]) -> None:
    entries[0]["run"] = "2026-12-01T09:00:00+00:00"  # re-measured alone by an --only run
    with pytest.raises(SystemExit, match="mix runs"):
        run.render({"started": RUN, "mode": "full", "seconds": 1, "load": ["", ""]}, entries)


def test_seconds_per_iteration_are_the_difference_of_two_fits() -> None:
    assert case_train._per_iteration({"1": 20.0, "3": 30.0}, (1, 3)) == pytest.approx(5.0)


def test_the_exact_solver_is_swapped_in_only_within_its_block() -> None:
    import implicit.cpu.als as library

    default = library.AlternatingLeastSquares
    with threadpool_limits(1, "blas"):
        with subjects._solver(use_cg=False):
            assert library.AlternatingLeastSquares(factors=2).use_cg is False
        assert library.AlternatingLeastSquares is default
        assert default(factors=2).use_cg is True
