"""The worker's event loop: qasync with asyncio's ready queue for `call_soon`.

qasync runs every `call_soon` as a Qt timer of its own (start a timer, get its event, kill
it), and `call_soon_threadsafe` as a queued Qt signal that then does the same. asyncio calls
`call_soon` for every step of every task and future, so a result file passing through the
pipeline costs dozens of timers; at a few hundred files a second that was a fifth of the
worker's CPU (py-spy, bench/pipeline.py).

Here `call_soon` appends to a queue and one zero-delay timer runs everything queued, the way
asyncio's own loop runs its ready queue once per iteration: callbacks added while it runs wait
for the next round, so Qt's own events (IPC sockets, signals) are never starved. Other
threads add to a locked queue and wake the loop with at most one posted Qt event per batch.
Delayed callbacks (`call_later`), socket notifiers and everything else stay qasync's.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from contextvars import Context
from typing import Any

import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject

_WAKE = QEvent.Type(QEvent.registerEventType())


class _Waker(QObject):
    """Receives the posted wake-up on the loop's thread."""

    def __init__(self, on_wake: Callable[[], None]) -> None:
        super().__init__()
        self._on_wake = on_wake

    def event(self, event: QEvent) -> bool:
        if event.type() == _WAKE:
            self._on_wake()
            return True
        return super().event(event)


class WorkerEventLoop(qasync.QEventLoop):  # type: ignore[misc]
    """A qasync loop whose `call_soon` and `call_soon_threadsafe` are batched (see above)."""

    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._soon: deque[asyncio.Handle] = deque()
        self._soon_scheduled = False
        self._incoming: deque[asyncio.Handle] = deque()
        self._incoming_lock = threading.Lock()
        self._wake_posted = False
        self._waker = _Waker(self._run_incoming)

    def call_soon(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context=context)
        self._soon.append(handle)
        self._schedule_round()
        return handle

    def _schedule_round(self) -> None:
        """One qasync (Qt) zero timer for everything queued until it fires."""
        if not self._soon_scheduled:
            self._soon_scheduled = True
            super().call_later(0, self._run_soon)

    def _run_soon(self) -> None:
        self._soon_scheduled = False
        # Only what is queued now: callbacks queued by these run in the next round, after
        # Qt has delivered its pending events.
        for _ in range(len(self._soon)):
            handle = self._soon.popleft()
            if not handle.cancelled():
                handle._run()

    def call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        self._check_closed()  # as asyncio's: RuntimeError once the loop is closed
        handle = asyncio.Handle(callback, args, self, context=context)
        with self._incoming_lock:
            self._incoming.append(handle)
            if not self._wake_posted:  # else a wake-up is on its way and takes this one too
                self._wake_posted = True
                # Under the lock, so that close() can never destroy the receiver in between.
                QCoreApplication.postEvent(self._waker, QEvent(_WAKE))
        return handle

    def _run_incoming(self) -> None:
        with self._incoming_lock:
            handles = list(self._incoming)
            self._incoming.clear()
            self._wake_posted = False
        self._soon.extend(handles)  # cancelled ones are skipped when the round runs
        if self._soon:
            self._schedule_round()

    def close(self) -> None:
        self._soon.clear()
        with self._incoming_lock:
            self._incoming.clear()
            self._wake_posted = True  # a call that got past the closed check posts nothing
        super().close()
        # Destroy the receiver here, on its own thread: left to the garbage collector, it
        # could be destroyed on whichever thread happens to collect (a pool thread), while
        # this thread is delivering events, which crashes Qt. (Valid unless closed before.)
        if shiboken6.isValid(self._waker):
            shiboken6.delete(self._waker)
