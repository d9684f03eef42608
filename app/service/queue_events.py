"""Queue change notifications: which reports changed, pushed as `queue` events (DESIGN.md §4).

`ObservedQueue` is the worker's `ReportQueue`: after every committed change (enqueue, claim,
upload outcome, user action) it tells its listeners the ids that changed, on whatever thread
made the change. `QueueEvents` collects those on the event loop, coalesces a burst into one
event a few milliseconds later, and publishes `{"counts": {...}, "changed": [ids]}` to the
subscribers of the `queue` topic, so the GUI's queue page never polls.

Counting the queue costs a few milliseconds on 100,000 rows, so under a steady stream of
changes (hundreds of uploads a second) events are spaced out in proportion to that cost
instead of counting after every commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

from app.service.queue import ReportQueue
from app.service.queue_models import (
    ClaimedReport,
    EnqueueResult,
    InvalidReportError,
    SourceBatch,
    normalize_id,
)

log = logging.getLogger("wats.queue.events")

# None means "many or unknown reports changed" (e.g. all `uploading` rows reset at start).
ChangedIds = tuple[str, ...] | None
QueueListener = Callable[[ChangedIds], None]

# The first change after a quiet spell is published this long after it (coalescing a burst).
EVENT_WINDOW_S = 0.02
# Under constant change, events are at least this many counting times apart.
COST_FACTOR = 10.0
# An event lists at most this many ids; beyond that it says "many changed" (empty list).
MAX_CHANGED_IDS = 500


class ObservedQueue(ReportQueue):
    """A ReportQueue that reports the ids of changed reports after each committed change."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listeners: list[QueueListener] = []

    def on_change(self, listener: QueueListener) -> Callable[[], None]:
        """Call `listener(ids)` after every change (on the thread that made it)."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    def _changed(self, ids: ChangedIds) -> None:
        if ids is not None and not ids:
            return
        for listener in list(self._listeners):
            try:
                listener(ids)
            except Exception:  # a listener must never undo or fail a committed change
                log.exception("queue change listener failed")

    def _one(self, report_id: str, changed: bool) -> bool:
        if changed:
            self._changed((_canonical(report_id),))
        return changed

    # ------------------------------------------------------------ changing methods

    def enqueue_files(self, batches: Sequence[SourceBatch]) -> list[EnqueueResult]:
        results = super().enqueue_files(batches)
        ids = tuple(
            _canonical(report.id)
            for batch, result in zip(batches, results, strict=True)
            if result.ok and result.inserted
            for report in batch.reports
        )
        self._changed(ids)
        return results

    def reset_uploading(self) -> int:
        count = super().reset_uploading()
        if count:
            self._changed(None)
        return count

    def claim_due(self, now: float, limit: int) -> list[ClaimedReport]:
        claimed = super().claim_due(now, limit)
        self._changed(tuple(report.id for report in claimed))
        return claimed

    def mark_uploaded(self, report_id: str, now: float) -> bool:
        return self._one(report_id, super().mark_uploaded(report_id, now))

    def mark_uploaded_many(self, report_ids: Sequence[str], now: float) -> list[str]:
        changed = super().mark_uploaded_many(report_ids, now)
        if changed:
            self._changed(tuple(changed))
        return changed

    def mark_retry(self, report_id: str, now: float, next_attempt_at: float, error: str) -> bool:
        return self._one(report_id, super().mark_retry(report_id, now, next_attempt_at, error))

    def mark_rejected(self, report_id: str, now: float, message: str) -> bool:
        return self._one(report_id, super().mark_rejected(report_id, now, message))

    def release(self, report_id: str) -> bool:
        return self._one(report_id, super().release(report_id))

    # retry and delete of one report go through these two as well.
    def retry_many(self, report_ids: Sequence[str]) -> list[str]:
        changed = super().retry_many(report_ids)
        self._changed(tuple(changed))
        return changed

    def resubmit(self, report_id: str, payload: bytes) -> bool:
        return self._one(report_id, super().resubmit(report_id, payload))

    def delete_many(self, report_ids: Sequence[str]) -> list[str]:
        changed = super().delete_many(report_ids)
        self._changed(tuple(changed))
        return changed


def _canonical(report_id: str) -> str:
    try:
        return normalize_id(report_id)
    except InvalidReportError:
        return str(report_id).strip().lower()


class QueueEvents:
    """Turns queue changes into coalesced `queue` events on the worker's event loop.

    `publish(topic, data)` sends the event; `on_counts(counts)` gets the fresh counts too
    (the worker's status model shows them).
    """

    def __init__(
        self,
        queue: ObservedQueue,
        executor: Executor,
        publish: Callable[[str, Any], object],
        on_counts: Callable[[dict[str, int]], None] | None = None,
        *,
        window_s: float = EVENT_WINDOW_S,
    ) -> None:
        self._queue = queue
        self._executor = executor
        self._publish = publish
        self._on_counts = on_counts
        self._window_s = window_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._ids: dict[str, None] = {}  # insertion-ordered set
        self._many = False
        self._pending = False  # a flush is scheduled or running
        self._next_allowed = 0.0  # monotonic time the next flush may start
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def start(self) -> None:
        """Start listening; call from the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._unsubscribe = self._queue.on_change(self._from_any_thread)

    async def aclose(self) -> None:
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def notify(self, ids: ChangedIds) -> None:
        """Record a change (on the loop) and make sure an event follows shortly."""
        if self._closed:
            return
        if ids is None:
            self._many = True
        elif not self._many:
            self._ids.update(dict.fromkeys(ids))
            if len(self._ids) > MAX_CHANGED_IDS:
                self._many = True
        if self._pending:
            return
        self._pending = True
        assert self._loop is not None
        delay = max(self._window_s, self._next_allowed - time.monotonic())
        self._timer = self._loop.call_later(delay, self._start_flush)

    def _from_any_thread(self, ids: ChangedIds) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody listens
            loop.call_soon_threadsafe(self.notify, ids)

    def _start_flush(self) -> None:
        self._timer = None
        if self._closed:
            return
        assert self._loop is not None
        self._task = self._loop.create_task(self._flush())

    async def _flush(self) -> None:
        ids = [] if self._many else list(self._ids)
        self._ids.clear()
        self._many = False
        started = time.monotonic()
        try:
            counts = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._queue.counts
            )
        except Exception as exc:  # closed while stopping, or a database error: no event
            log.debug("queue counts unavailable for the queue event: %s", exc)
            self._pending = False
            return
        cost = time.monotonic() - started
        self._next_allowed = time.monotonic() + cost * COST_FACTOR
        self._pending = False
        self._publish("queue", {"counts": counts, "changed": ids})
        if self._on_counts is not None:
            try:
                self._on_counts(counts)
            except Exception:
                log.exception("queue counts listener failed")
        if self._ids or self._many:
            self.notify(())  # changes that arrived while counting get their own event
