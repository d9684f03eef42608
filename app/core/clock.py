"""Time sources: the real one for the worker and a manual one so tests never sleep.

Everything that waits or stamps a time (the uploader, backoff deadlines, queue timestamps)
takes a `Clock`, so a test can jump an hour ahead in a microsecond and still see the exact
order in which sleepers wake.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Wall clock for stored timestamps, monotonic clock for intervals, and a sleep."""

    def time(self) -> float:
        """Wall-clock time, seconds since the Unix epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never jumps backwards."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the calling task for `seconds` (at once if `seconds` <= 0)."""
        ...


class SystemClock:
    """The real clocks and `asyncio.sleep`."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when a test calls `advance`.

    `sleep` parks the task on a future keyed by its deadline; `advance` moves both clocks
    forward and resolves, in deadline order, every future whose deadline has been reached.
    A cancelled sleeper simply drops out. Nothing here ever sleeps for real.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._wall = float(start)
        self._mono = 0.0
        self._sequence = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def time(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            # Still yield to the loop, like asyncio.sleep(0) does.
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._mono + seconds, next(self._sequence), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds` and wake every sleeper whose deadline passed."""
        if seconds < 0:
            raise ValueError("a manual clock only moves forward")
        self._wall += seconds
        self._mono += seconds
        while self._sleepers and self._sleepers[0][0] <= self._mono:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    def set_time(self, wall: float) -> None:
        """Set the wall clock (to simulate an NTP step); the monotonic clock is untouched."""
        self._wall = float(wall)

    @property
    def sleepers(self) -> int:
        """How many tasks are currently waiting in `sleep` (cancelled ones excluded)."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_deadline(self) -> float | None:
        """Seconds until the earliest live sleeper wakes, or None when nobody sleeps."""
        live = [deadline for deadline, _, future in self._sleepers if not future.done()]
        return min(live) - self._mono if live else None
