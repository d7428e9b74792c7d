from __future__ import annotations

from musicrec.services.recomputed import Recomputed


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_recomputed_keeps_a_value_for_its_max_age_then_recomputes() -> None:
    clock = FakeClock()
    calls: list[object] = []

    def compute(session: object) -> int:
        calls.append(session)
        return len(calls)

    value = Recomputed(compute, max_age=60.0, clock=clock)  # type: ignore[arg-type]
    assert value.get("s1") == 1  # type: ignore[arg-type]
    clock.now = 59.9
    assert value.get("s2") == 1  # type: ignore[arg-type]
    clock.now = 60.0
    assert value.get("s3") == 2  # type: ignore[arg-type]
    assert calls == ["s1", "s3"]  # computed with the caller's session
    value.invalidate()
    assert value.get("s4") == 3  # type: ignore[arg-type]
