from __future__ import annotations

import threading

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


def test_while_one_caller_recomputes_the_others_take_the_value_they_have() -> None:
    clock = FakeClock()
    computing, release = threading.Event(), threading.Event()
    calls: list[object] = []

    def compute(session: object) -> int:
        calls.append(session)
        if len(calls) > 1:  # the recomputation is slow (a busy database)
            computing.set()
            assert release.wait(10)
        return len(calls)

    value = Recomputed(compute, max_age=60.0, clock=clock)  # type: ignore[arg-type]
    value.get("first")  # type: ignore[arg-type]
    clock.now = 61.0
    recomputing = threading.Thread(target=value.get, args=("slow",))
    recomputing.start()
    assert computing.wait(10)

    others: list[int] = []
    reader = threading.Thread(target=lambda: others.extend(value.get("x") for _ in range(3)))  # type: ignore[arg-type]
    reader.start()
    reader.join(5)
    answered_without_waiting = not reader.is_alive()
    release.set()
    recomputing.join(10)
    reader.join(10)

    assert answered_without_waiting and others == [1, 1, 1]
    assert calls == ["first", "slow"] and value.get("y") == 2  # type: ignore[arg-type]
