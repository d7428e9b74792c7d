"""The figures benchmarks/notes.md quotes, taken from one run's entries.

notes.md is prose with ``{name}`` placeholders; :func:`fill` puts in each figure from the run
being written (a figure of a case the run did not measure reads "not measured in this run"),
so no figure in docs/benchmarks.md is typed by hand. Lines starting ``<!--`` are notes to
the editor and are dropped.
"""

from __future__ import annotations

from collections.abc import Callable

Entry = dict
MISSING = "(not measured in this run)"


class _Figures(dict):
    def __missing__(self, key: str) -> str:
        return MISSING


def _by_case(entries: list[Entry]) -> dict[str, Entry]:
    return {entry["case"]: entry for entry in entries if "error" not in entry["project"]}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _count(value: float) -> str:
    """17,439,372 -> 17.4M; 35,935 -> 35,935."""
    return f"{value / 1e6:.1f}M" if value >= 1e6 else f"{value:,.0f}"


def _train(found: Entry) -> dict[str, str]:
    project, reference = found["project"], found["reference"]
    settings = project["settings"]
    return {
        "train_users": f"{project['users']:,}",
        "train_ratings": f"{project['ratings']:,}",
        "holdout_seed": str(project["holdout_seed"]),
        "factors": str(settings["factors"]),
        "iterations": str(settings["iterations"]),
        "regularization": f"{settings['regularization']:g}",
        "alpha": f"{settings['alpha']:g}",
        "bm25_k1": f"{settings['bm25_k1']:g}",
        "bm25_b": f"{settings['bm25_b']:g}",
        "spark_reg_param": f"{reference['reg_param']:.4g}",
        "spark_blocks": str(reference["blocks"]),
        "fit_runs": str(project["runs"]),
        "whole_runs": str(project["whole_process_runs"]),
        "ndcg_cg": f"{project['ndcg@10']:.4f}",
        "ndcg_exact": f"{project['exact']['ndcg@10']:.4f}",
        "ndcg_spark": f"{reference['ndcg@10']:.4f}",
        "ratio_cg": f"{found['ratio']:.1f}x",
        "ratio_exact": f"{found['ratio_exact']:.1f}x",
    }


def _scale(prefix: str) -> Callable[[Entry], dict[str, str]]:
    def figures(found: Entry) -> dict[str, str]:
        project, reference = found["project"], found["reference"]
        short, long = found["lengths"]
        return {
            f"{prefix}_users": f"{project['users']:,}",
            f"{prefix}_artists": f"{project['artists']:,}",
            f"{prefix}_ratings": _count(project["ratings"]),
            f"{prefix}_short": str(short),
            f"{prefix}_long": str(long),
            f"{prefix}_driver_memory": reference["driver_memory"],
            f"{prefix}_spark_blocks": str(reference["blocks"]),
            f"{prefix}_factors": str(project["factors"]),
            f"{prefix}_iterations": str(project["iterations"]),
            f"{prefix}_genres": str(project["genres"]),
        }

    return figures


def _inprocess(prefix: str) -> Callable[[Entry], dict[str, str]]:
    def figures(found: Entry) -> dict[str, str]:
        project = found["project"]
        parts = project["parts"]
        cells = project["artists"] * project["factors"]
        return {
            f"{prefix}_users": f"{project['runs']:,}",
            f"{prefix}_artists": _count(project["artists"]),
            f"{prefix}_factors": str(project["factors"]),
            f"{prefix}_iterations": str(project["iterations"]),
            f"{prefix}_top_n": _ms(parts["top_n"]["median_s"]),
            f"{prefix}_partial_sort": _ms(parts["partial_sort"]["median_s"]),
            f"{prefix}_product": _ms(parts["product"]["median_s"]),
            f"{prefix}_float32_mb": f"{cells * 4 / 1e6:.0f} MB",
            f"{prefix}_float64_mb": f"{cells * 8 / 1e6:.0f} MB",
        }

    return figures


def _http(found: Entry) -> dict[str, str]:
    project = found["project"]
    setup, saturated = project["setup"], project["saturated"]
    return {
        "http_users": str(setup["users"]),
        "http_ratings_each": str(setup["ratings_each"]),
        "http_connections": str(saturated["connections"]),
        "http_seconds": str(saturated["seconds"]),
        "http_rate": str(setup["rate"]),
        "http_rate_seconds": str(setup["rate_seconds"]),
        "http_wrk_timeout": f"{setup['wrk_timeout_s']:g} s",
        "http_target_rps": f"{found['reference']['rps']:,.0f}",
    }


def _seed(found: Entry) -> dict[str, str]:
    project, reference = found["project"], found["reference"]
    one = project["one_request"]
    return {
        "seed_whole_runs": str(project["runs"]),
        "seed_spark_runs": str(reference["runs"]),
        "seed_one_runs": str(one["runs"]),
        "seed_ratio": f"{found['ratio']:,.1f}x",
        "seed_one_request_ratio": f"{reference['median_s'] / one['median_s']:,.0f}x",
    }


def _e2e(found: Entry) -> dict[str, str]:
    project, reference = found["project"], found["reference"]
    loading = project["loading_s"]
    return {
        "e2e_ratings": _count(project["ratings"]),
        "e2e_seconds": _s(project["median_s"]),
        "e2e_read_and_train": _s(project["read_and_train_s"]),
        "e2e_solver": _s(reference["median_s"]),
        "e2e_outside_solver": _s(project["median_s"] - reference["median_s"]),
        "e2e_copy_ratings": _s(loading["copy_ratings"]),
        "e2e_loading": _s(loading["total"]),
        "e2e_peak_rss": f"{project['peak_rss_mb']:,.0f} MB",
        "e2e_factors": str(project["factors"]),
    }


SOURCES: dict[str, Callable[[Entry], dict[str, str]]] = {
    "train-lastfm2k": _train,
    "train-scale-tenth": _scale("tenth"),
    "train-scale-full": _scale("full"),
    "train-e2e": _e2e,
    "serve-inprocess": _inprocess("small"),
    "serve-inprocess-292k": _inprocess("large"),
    "serve-http": _http,
    "seed-request": _seed,
}


def figures(entries: list[Entry]) -> dict[str, str]:
    """Every placeholder's text from the run's entries (cases not measured: left out)."""
    out: dict[str, str] = {}
    for case, found in _by_case(entries).items():
        if case in SOURCES:
            out.update(SOURCES[case](found))
    return out


def fill(notes: str, entries: list[Entry]) -> str:
    """notes.md with its placeholders filled from ``entries``."""
    kept = "\n".join(line for line in notes.splitlines() if not line.startswith("<!--"))
    return kept.format_map(_Figures(figures(entries)))
