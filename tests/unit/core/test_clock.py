"""ManualClock wakes sleepers in deadline order without real sleeping; SystemClock is real."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.core.clock import Clock, ManualClock, SystemClock


async def wait_until_sleeping(clock: ManualClock, n: int) -> None:
    for _ in range(1000):
        if clock.sleepers == n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"expected {n} sleepers, have {clock.sleepers}")


async def test_advance_wakes_sleepers_whose_deadline_passed_in_order() -> None:
    clock = ManualClock(start=1000.0)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(f"{name}@{clock.monotonic():g}")

    tasks = [
        asyncio.create_task(sleeper("late", 10)),
        asyncio.create_task(sleeper("early", 2)),
        asyncio.create_task(sleeper("mid", 5)),
    ]
    await wait_until_sleeping(clock, 3)
    assert clock.next_deadline() == 2
    clock.advance(1)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(4.5)
    await asyncio.gather(*tasks[1:])
    assert woke == ["early@5.5", "mid@5.5"]
    assert clock.time() == 1005.5
    clock.advance(100)
    await tasks[0]
    assert woke[-1] == "late@105.5"
    assert clock.sleepers == 0
    assert clock.next_deadline() is None


async def test_cancelled_sleeper_drops_out_and_zero_sleep_returns() -> None:
    clock = ManualClock()
    task = asyncio.create_task(clock.sleep(60))
    await wait_until_sleeping(clock, 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.sleepers == 0
    clock.advance(120)  # resolving a cancelled future must not raise
    await clock.sleep(0)
    await clock.sleep(-1)


async def test_wall_clock_can_step_independently() -> None:
    clock = ManualClock(start=500.0)
    clock.set_time(100.0)
    assert (clock.time(), clock.monotonic()) == (100.0, 0.0)
    with pytest.raises(ValueError):
        clock.advance(-1)


async def test_system_clock_is_real() -> None:
    clock: Clock = SystemClock()
    assert isinstance(clock, Clock)
    assert isinstance(ManualClock(), Clock)
    assert abs(clock.time() - time.time()) < 5
    before = clock.monotonic()
    await clock.sleep(0.01)
    assert clock.monotonic() >= before + 0.005
