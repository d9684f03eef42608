"""When a result file is finished: never read a file a tester is still writing.

A file is settled (DESIGN.md §3) when

- it can be opened — on Windows *exclusively*, so a writer that still holds it open (the
  usual case while a tester streams results) keeps it unsettled; and
- its size and modification time did not change for `settle_s` (default 0.5 s).

On Linux a close-after-write event (inotify IN_CLOSE_WRITE, watchdog's FileClosedEvent)
short-cuts the wait: the writer is done the moment it closes the file.

All waiting goes through an injectable `Clock`, so tests drive time by hand.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from app.core.clock import Clock

DEFAULT_SETTLE_S = 0.5

T = TypeVar("T")
# Runs a blocking call; the default runs it inline (a stat on a local disk takes
# microseconds). For network shares the pipeline passes `asyncio.to_thread`.
Runner = Callable[[Callable[[], T]], Awaitable[T]]


@dataclass(frozen=True)
class FileSignature:
    """What changes while a file is being written."""

    size: int
    mtime_ns: int


def file_signature(path: Path) -> FileSignature | None:
    """Size and mtime of a regular file, or None when it is gone (or not a regular file)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not os.path.isfile(path):
        return None
    return FileSignature(info.st_size, info.st_mtime_ns)


if sys.platform == "win32":
    import _winapi

    _GENERIC_READ = 0x80000000
    _OPEN_EXISTING = 3
    _FILE_ATTRIBUTE_NORMAL = 0x80

    def can_open_exclusively(path: Path) -> bool:
        """True when nobody else has the file open (share mode 0 refuses to share it)."""
        try:
            handle = _winapi.CreateFile(
                str(path), _GENERIC_READ, 0, 0, _OPEN_EXISTING, _FILE_ATTRIBUTE_NORMAL, 0
            )
        except OSError:
            return False  # ERROR_SHARING_VIOLATION while a writer holds it, or gone
        _winapi.CloseHandle(handle)
        return True

else:

    def can_open_exclusively(path: Path) -> bool:
        """POSIX has no mandatory share modes: the best we can check is that it opens."""
        try:
            with open(path, "rb"):
                return True
        except OSError:
            return False


async def _inline(call: Callable[[], T]) -> T:
    return call()


async def _sleep_or_event(clock: Clock, seconds: float, event: asyncio.Event | None) -> bool:
    """Sleep on the clock, waking early when `event` is set. Returns whether it was set."""
    if event is None:
        await clock.sleep(seconds)
        return False
    if event.is_set():
        return True
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waiter.cancel()
    return event.is_set()


async def wait_until_settled(
    path: Path,
    *,
    clock: Clock,
    settle_s: float = DEFAULT_SETTLE_S,
    closed: asyncio.Event | None = None,
    run: Runner[object] | None = None,
) -> FileSignature | None:
    """Wait until `path` is settled; return its signature then, or None if it disappeared.

    `closed` is set by the caller when a close-after-write event arrives for the file. Every
    change of size or mtime restarts the quiet period. A file that stays locked (Windows)
    is retried every `settle_s` for as long as it exists: the tester may hold it for minutes.
    """
    runner: Runner[object] = run if run is not None else _inline

    async def signature() -> FileSignature | None:
        result = await runner(lambda: file_signature(path))
        assert result is None or isinstance(result, FileSignature)
        return result

    async def openable() -> bool:
        return bool(await runner(lambda: can_open_exclusively(path)))

    current = await signature()
    if current is None:
        return None
    quiet_since = clock.monotonic()
    while True:
        remaining = settle_s - (clock.monotonic() - quiet_since)
        was_closed = False
        if remaining > 0:
            was_closed = await _sleep_or_event(clock, remaining, closed)
        latest = await signature()
        if latest is None:
            return None
        if was_closed:
            assert closed is not None
            closed.clear()
            # The writer closed the file: what is on disk now is what it wrote.
            if await openable():
                return latest
            current, quiet_since = latest, clock.monotonic()
            continue
        if latest != current:
            current, quiet_since = latest, clock.monotonic()
            continue
        if clock.monotonic() - quiet_since < settle_s:
            continue
        if await openable():
            return latest
        # Still held by a writer (Windows) or unreadable for now: start a new quiet period.
        quiet_since = clock.monotonic()
