"""Child process: ``musicrec train`` as an operator runs it, timed from start to published.

The command runs in its own process (this one only times it and reads its last line); the
database and instance folder come from the environment (MUSICREC_DATABASE_URL,
MUSICREC_INSTANCE_DIR). Its own figure of reading plus training ("in X s") is kept beside.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import time

import measure

PUBLISHED = re.compile(r"Published model (\S+) .* from (\d+) ratings .* in ([\d.]+) s\.")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--timeout", type=float, default=1800)
    options = parser.parse_args()
    start = time.perf_counter()
    done = subprocess.run(
        [measure.PYTHON, "-m", "musicrec", "train", "--factors", str(options.factors)],
        capture_output=True,
        text=True,
        timeout=options.timeout,
        check=False,
    )
    wall = time.perf_counter() - start
    found = PUBLISHED.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"musicrec train failed ({done.returncode}): {done.stderr[-2000:]}")
    measure.report(
        {
            "wall_s": wall,
            "version": found.group(1),
            "ratings": int(found.group(2)),
            "read_and_train_s": float(found.group(3)),
        }
    )


if __name__ == "__main__":
    main()
