"""The worker's yield monitor: an in-memory index of every test report's header, kept up to
date as reports are queued, answering `yield.query` and raising yield alarms.

- At start the index loads every header from the queue database on the yield thread
  (about a second per million rows); queries wait for that first load.
- After every queue change (`ObservedQueue.on_change`) the changed ids are read back and
  applied: new reports are added, a resubmitted one replaces its old header, a deleted one
  makes the index reload. Upload bookkeeping changes no header and costs one indexed read.
- After each change, and once a minute (alarm windows slide with time), the alarm rules
  run; new alarms are raised and ended ones cleared through the worker's status model, so
  they go out as `alarm` events, tray notifications and log lines. A `yield` event tells
  dashboards that figures changed, so they query again instead of polling.

All index work runs on one thread of its own: no locks, and a query over a million rows
never holds up the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol, TypeVar

from app.core.yield_alarms import AlarmChanges, AlarmTracker, YieldAlarm, evaluate
from app.core.yield_engine import YieldQuery, run_query
from app.core.yield_index import ApplyResult, YieldIndex
from app.core.yield_periods import SystemTimezone
from app.core.yield_settings import YieldSettings
from app.service.queue_events import ChangedIds
from app.service.status import StatusModel
from app.service.yield_store import YieldStore

log = logging.getLogger("wats.yield")

T = TypeVar("T")
Publish = Callable[[str, Any], object]

# Alarm windows slide with time: look again this often even when nothing arrives.
ALARM_TICK_S = 60.0
# Changes arriving this close together are applied as one batch.
BATCH_WINDOW_S = 0.01
READY_TIMEOUT_S = 120.0


class ChangeSource(Protocol):
    """What the service needs of the queue: a listener for changed report ids."""

    def on_change(self, listener: Callable[[ChangedIds], None]) -> Callable[[], None]: ...


class YieldUnavailable(Exception):
    """The index is not ready (still loading, or the worker is stopping)."""


@dataclass(frozen=True)
class _Batch:
    result: ApplyResult
    reloaded: bool


class YieldService:
    def __init__(
        self,
        db_path: Path,
        status: StatusModel,
        publish: Publish,
        settings: Callable[[], YieldSettings],
        *,
        queue: ChangeSource | None = None,
        tz: tzinfo | None = None,
        clock: Callable[[], float] = time.time,
        alarm_tick_s: float = ALARM_TICK_S,
    ) -> None:
        self._store = YieldStore(db_path)
        self._status = status
        self._publish = publish
        self._settings = settings
        self._queue = queue
        self.tz: tzinfo = tz or SystemTimezone()
        self._clock = clock
        self._alarm_tick_s = alarm_tick_s
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="yield")
        self.index = YieldIndex()
        self._tracker = AlarmTracker()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: dict[str, None] = {}
        # Created here (Python 3.10+ binds an Event to a loop only when first awaited), so a
        # query arriving before start() waits for the load instead of failing.
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._failure: str | None = None
        self.load_seconds: float | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Subscribe to queue changes and start loading; call on the running loop."""
        self._loop = asyncio.get_running_loop()
        if self._queue is not None:
            # Before loading, so nothing committed during the load is missed.
            self._unsubscribe = self._queue.on_change(self._from_any_thread)
        self._task = self._loop.create_task(self._run())

    async def aclose(self) -> None:
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        with contextlib.suppress(RuntimeError):
            await self._in_thread(self._store.close)
        self._thread.shutdown(wait=True)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    async def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        if self._closed:
            raise YieldUnavailable("the yield monitor has stopped (the worker is stopping)")
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise YieldUnavailable(
                "the yield figures are still being loaded from the queue; try again shortly"
            ) from None
        if self._failure is not None:
            raise YieldUnavailable(self._failure)

    # ------------------------------------------------------------ queries

    async def query(self, query: YieldQuery) -> dict[str, Any]:
        """The figures of `query` now, as plain JSON data."""
        await self.wait_ready()
        settings = self._settings()
        now = datetime.fromtimestamp(self._clock(), self.tz)
        view = await self._in_thread(run_query, self.index, query, now, settings)
        data = view.to_dict()
        data["alarms"] = self.alarms()
        return data

    def alarms(self) -> list[dict[str, Any]]:
        return [_alarm_dict(a) for a in self._tracker.active.values()]

    def settings_changed(self) -> None:
        """Targets or alarm rules changed: judge the alarms again now."""
        self._wake.set()

    # ------------------------------------------------------------ changes

    def _from_any_thread(self, ids: ChangedIds) -> None:
        loop = self._loop
        if ids is None or loop is None or loop.is_closed():
            return  # None: all `uploading` rows reset at start; no header changed
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._note, ids)

    def _note(self, ids: tuple[str, ...]) -> None:
        self._pending.update(dict.fromkeys(ids))
        self._wake.set()

    async def _run(self) -> None:
        started = time.monotonic()
        try:
            await self._in_thread(self._load)
        except Exception as exc:
            log.exception("the yield index could not be loaded; yield figures are unavailable")
            self._failure = f"the yield figures could not be read from the queue: {exc}"
            self._ready.set()
            return
        self.load_seconds = time.monotonic() - started
        log.info(
            "yield index: %d test reports of %d units loaded in %.2f s",
            self.index.live_runs,
            self.index.unit_count,
            self.load_seconds,
        )
        self._ready.set()
        await self._judge(publish_anyway=True, batch=None)
        while not self._closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._alarm_tick_s)
            self._wake.clear()
            batch: _Batch | None = None
            if self._pending:
                await asyncio.sleep(BATCH_WINDOW_S)
                ids = list(self._pending)
                self._pending.clear()
                try:
                    batch = await self._in_thread(self._apply, ids)
                except YieldUnavailable:
                    return
                except Exception:
                    log.exception("updating the yield index failed; it is reloaded")
                    batch = await self._in_thread(self._reload)
            await self._judge(publish_anyway=False, batch=batch)

    def _load(self) -> None:
        for rows in self._store.load():
            self.index.load(rows)

    def _reload(self) -> _Batch:
        fresh = YieldIndex()
        for rows in self._store.load():
            fresh.load(rows)
        self.index = fresh
        return _Batch(ApplyResult(), reloaded=True)

    def _apply(self, ids: list[str]) -> _Batch:
        changed = self._store.changed(ids)
        if changed.missing:
            # A report was deleted. The index keeps no report ids (they would double its
            # size), so it cannot find the row: read everything again. Deleting is a rare
            # user action; a million rows take about a second.
            return self._reload()
        return _Batch(self.index.apply(changed.rows), reloaded=False)

    async def _judge(self, *, publish_anyway: bool, batch: _Batch | None) -> None:
        settings = self._settings()
        now = self._clock()
        try:
            current = await self._in_thread(evaluate, self.index, settings, now)
        except YieldUnavailable:
            return
        changes = self._tracker.update(current)
        self._announce(changes)
        changed = batch is not None and (
            batch.reloaded or batch.result.added > 0 or batch.result.replaced > 0
        )
        if changed or changes or publish_anyway:
            result = batch.result if batch is not None else ApplyResult()
            self._publish(
                "yield",
                {
                    "as_of": now,
                    "added": result.added,
                    "replaced": result.replaced,
                    "reloaded": bool(batch and batch.reloaded),
                    "processes": sorted(result.processes),
                    "runs_indexed": self.index.live_runs,
                    "alarms": self.alarms(),
                },
            )

    def _announce(self, changes: AlarmChanges) -> None:
        for alarm in changes.cleared:
            self._status.clear_alarm(alarm.kind, alarm.subject)
        # raise_alarm logs the line and announces a new alarm; for a known one it only
        # refreshes the message (no second notification).
        for alarm in [*changes.raised, *changes.updated]:
            self._status.raise_alarm(alarm.kind, _status_message(alarm), alarm.subject)

    async def _in_thread(self, call: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, functools.partial(call, *args))
        except RuntimeError as exc:
            if "shutdown" in str(exc):
                raise YieldUnavailable("the worker is stopping") from None
            raise


def _status_message(alarm: YieldAlarm) -> str:
    level = "Yield alarm" if alarm.level == "alarm" else "Yield warning"
    return f"{level}: {alarm.message}"


def _alarm_dict(alarm: YieldAlarm) -> dict[str, Any]:
    return {
        "kind": alarm.kind,
        "subject": alarm.subject,
        "level": alarm.level,
        "message": alarm.message,
        "process_code": alarm.process_code,
        "pn": alarm.pn,
    }
