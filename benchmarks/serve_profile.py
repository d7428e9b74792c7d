"""A py-spy profile of the serving processes during a saturated HTTP run.

py-spy samples every gunicorn process (``--subprocesses`` on the master) for a fixed time:
once as a flame graph (the SVG kept in benchmarks/results/) and once as collapsed stacks, from
which the frames holding most samples are summarised for docs/benchmarks.md.
"""

from __future__ import annotations

import collections
import re
import subprocess
from pathlib import Path

from measure import PYTHON

# Frames where a process waits for work rather than serving a request (the gunicorn master,
# a worker blocked in accept) and the launcher's frames every stack shares.
IDLE = ("Arbiter.", "SyncWorker.accept", "select (selectors.py)", "sleep")
LAUNCHER = ("musicrec/__main__.py", "musicrec/cli.py", "musicrec/serving.py")
FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def py_spy() -> str:
    return str(Path(PYTHON).with_name("py-spy"))


def record(pid: int, output: Path, seconds: int, raw: bool = False) -> None:
    command = [py_spy(), "record", "--pid", str(pid), "--subprocesses", "--duration", str(seconds)]
    command += ["--output", str(output)] + (["--format", "raw"] if raw else [])
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 60)


def _short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "src/", "python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{match['function']} ({path})"


def top_frames(collapsed: Path, count: int = 12) -> dict[str, list[tuple[str, float]]]:
    """The frames with most samples: at the top of the stack ("self"), and anywhere in the
    stack within musicrec ("musicrec, inclusive"), as shares of the samples of busy workers
    (idle stacks dropped, see IDLE)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not stack:
            continue
        weight = int(samples)
        frames = [_short(frame) for frame in stack.split(";")]
        if any(marker in frames[-1] for marker in IDLE):
            continue
        total += weight
        own[frames[-1]] += weight
        for frame in set(frames):
            if "musicrec/" in frame and not any(part in frame for part in LAUNCHER):
                inclusive[frame] += weight
    share = max(total, 1)
    return {
        "self": [(frame, n / share) for frame, n in own.most_common(count)],
        "musicrec, inclusive": [(frame, n / share) for frame, n in inclusive.most_common(count)],
    }
