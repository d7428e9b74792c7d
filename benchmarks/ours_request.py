"""Child process: ours as a whole process, the counterpart of the seed app's per request path:
load the newest published model version and recommend for one user's ratings."""

from __future__ import annotations

import argparse
from pathlib import Path

import measure
import subjects


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--artists", type=int, nargs="+", required=True)
    parser.add_argument("--ratings", type=int, nargs="+", required=True)
    options = parser.parse_args()
    found = subjects.recommend_from_newest_model(
        options.model_dir, options.artists, options.ratings
    )
    measure.report({"recommended": len(found)})


if __name__ == "__main__":
    main()
