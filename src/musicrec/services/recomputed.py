"""A value recomputed at most every so often, from the caller's session, not on every request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

MAX_AGE_SECONDS = 60.0
Value = TypeVar("Value")


class Recomputed(Generic[Value]):
    """A value computed with the caller's session and kept for ``max_age`` seconds."""

    def __init__(
        self,
        compute: Callable[[Session], Value],
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._compute, self._max_age, self._clock = compute, max_age, clock
        self._value: Value | None = None
        self._at = float("-inf")
        self._lock = threading.Lock()

    def get(self, session: Session) -> Value:
        """The kept value, recomputed when older than ``max_age``: by one caller at a time,
        while the others take the value they have (only the first value is waited for)."""
        value = self._value
        if value is not None and self._clock() - self._at < self._max_age:
            return value
        if value is None:
            self._lock.acquire()
        elif not self._lock.acquire(blocking=False):
            return value  # another caller is recomputing it
        try:
            if self._value is None or self._clock() - self._at >= self._max_age:
                self._value = self._compute(session)
                self._at = self._clock()
            return self._value
        finally:
            self._lock.release()

    def invalidate(self) -> None:
        self._at = float("-inf")
