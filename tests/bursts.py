"""Requests sent at the same moment, for tests of limits that must hold across workers."""

from __future__ import annotations

import threading
from collections.abc import Callable


def burst(send: Callable[[int], int], count: int) -> list[int]:
    """``count`` calls of ``send(number)`` released together from threads; their statuses."""
    start = threading.Barrier(count)
    statuses = [0] * count

    def one(number: int) -> None:
        start.wait()
        statuses[number] = send(number)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses
