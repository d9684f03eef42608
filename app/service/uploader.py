"""The uploader: moves queued reports to the WATS server (DESIGN.md §3 "Uploads").

Runs on the worker's asyncio loop; the queue's synchronous calls go to an executor.

Rules:
- At most `concurrency` uploads in flight (default 4).
- A transient failure (network, timeout, 5xx, 429, TLS, a reply that makes no sense) puts
  the report back to `queued` with its own full-jitter backoff and closes a gate for the
  whole uploader: no request until the gate opens, then ONE probe at a time until a request
  gets an answer, then full concurrency again. No attempt cap: a report waits for months if
  the server is gone for months. `Retry-After` is honoured as the minimum wait.
- A rejection (400/404/413/422) parks the report as `rejected` with the server's message;
  the other reports keep flowing.
- An authentication failure (401/403) puts the report back untouched and pauses all uploads
  in an alarm state until the credentials change (`set_client`) or `resume_auth()`.
- The user can `pause()`/`resume()`. `stop(grace_s)` stops claiming, lets in-flight uploads
  finish for up to `grace_s`, cancels the rest and puts them back to `queued`.
- Wake-ups: `notify_new_reports()` wakes the loop at once; otherwise it sleeps until the
  next report is due (timer wake-ups at least 1 s apart) and not at all when nothing is due.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from app.core.backoff import Backoff
from app.core.clock import Clock, SystemClock
from app.service.queue import ReportQueue
from app.service.queue_models import ClaimedReport, QueueError, normalize_id
from app.wats import (
    AuthenticationError,
    IdentifiedReport,
    RateLimitedError,
    RejectedError,
    SubmitResult,
    WatsError,
)

log = logging.getLogger(__name__)

_T = TypeVar("_T")

DEFAULT_CONCURRENCY = 4
# Timer-driven wake-ups are at least this far apart, so reports due a few ms apart (full
# jitter spreads them) are taken in one pass instead of one wake-up each.
MIN_TIMER_INTERVAL_S = 1.0
# Never sleep longer than this on a timer: a wall-clock step backwards (NTP, DST bugs)
# then delays a due report by at most this much instead of by the size of the step.
MAX_TIMER_S = 300.0
# How long confirmed uploads wait to be recorded together (a crash meanwhile only means a
# re-send under the same id, which the server upserts).
MARK_WINDOW_S = 0.02
# What `_step` returns to run again at once (it claimed something; maybe more are due).
_AGAIN = -1.0


class UploadClient(Protocol):
    """What the uploader needs of `app.wats.WatsClient`."""

    async def submit_wsjf(self, report: IdentifiedReport, /) -> SubmitResult: ...


if TYPE_CHECKING:
    from app.wats import WatsClient

    # mypy proves here that the real client fits what the uploader asks for.
    _REAL_CLIENT_FITS: type[UploadClient] = WatsClient


class UploaderState(StrEnum):
    STOPPED = "stopped"  # not started, or stopped
    RUNNING = "running"  # uploads in flight or about to be claimed
    IDLE = "idle"  # nothing due now
    BACKING_OFF = "backing_off"  # the server is failing; waiting for the gate to open
    PAUSED = "paused"  # the user paused uploads
    AUTH_FAILED = "auth_failed"  # 401/403: waiting for new credentials


@dataclass(frozen=True)
class UploaderStatus:
    state: UploaderState = UploaderState.STOPPED
    backoff_until: float | None = None  # wall-clock epoch s when the gate opens
    last_error: str | None = None
    uploaded: int = 0  # this session
    rejected: int = 0  # this session
    transient_failures: int = 0  # this session
    in_flight: int = 0
    consecutive_failures: int = 0  # > 0 means probing: one request at a time


class Uploader:
    """Uploads due reports from `queue` through `client`. Start with `await start()`.

    `executor` runs the queue's synchronous calls (None: the loop's default executor).
    `min_timer_interval_s` only exists so fast tests can shrink the 1 s timer spacing.
    """

    def __init__(
        self,
        queue: ReportQueue,
        client: UploadClient,
        *,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        executor: Executor | None = None,
        min_timer_interval_s: float = MIN_TIMER_INTERVAL_S,
    ) -> None:
        self._queue = queue
        self._client = client
        self._clock = clock or SystemClock()
        self._backoff = backoff or Backoff()
        self._concurrency = _valid_concurrency(concurrency)
        self._executor = executor
        self._min_timer_interval = min_timer_interval_s
        self._listeners: list[Callable[[UploaderStatus], None]] = []
        self._status = UploaderStatus()
        self._wake_event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        # Claimed ahead of free slots, so a slot that frees up starts its next upload at once
        # instead of waiting for a database round trip.
        self._ready: collections.deque[ClaimedReport] = collections.deque()
        # Successful uploads not yet recorded: written in batches by one background task.
        self._marks: list[str] = []
        self._mark_task: asyncio.Task[None] | None = None
        self._interrupted: set[str] = set()  # cancelled before their outcome was recorded
        self._stopping = False
        self._paused = False
        self._auth_error: str | None = None
        self._gate_mono: float | None = None  # monotonic time the backoff gate opens
        self._last_timer_wake: float | None = None

    # ------------------------------------------------------------------ control

    async def start(self) -> None:
        """Put reports left `uploading` by a previous run back to `queued`, then run."""
        if self._task is not None:
            return
        self._stopping = False
        reset = await self._call(self._queue.reset_uploading)
        if reset:
            log.info("%d report(s) left uploading by the last run are queued again", reset)
        self._task = asyncio.create_task(self._run(), name="uploader")
        self._publish(state=UploaderState.RUNNING)

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop claiming; wait up to `grace_s` for in-flight uploads; requeue the rest."""
        self._stopping = True
        self._wake()
        if self._task is not None:
            await self._task
            self._task = None
        await self._release_ready()
        pending = set(self._in_flight.values())
        if pending:
            timer = asyncio.ensure_future(self._clock.sleep(grace_s))
            try:
                while pending and not timer.done():
                    done, _ = await asyncio.wait(
                        pending | {timer}, return_when=asyncio.FIRST_COMPLETED
                    )
                    pending -= done
            finally:
                timer.cancel()
                await asyncio.gather(timer, return_exceptions=True)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._mark_task is not None:
            await self._mark_task
        for report_id in sorted(self._interrupted):
            with contextlib.suppress(QueueError):
                await self._call(self._queue.release, report_id)
        if self._interrupted:
            log.info(
                "%d upload(s) interrupted by the stop are queued again", len(self._interrupted)
            )
        self._interrupted.clear()
        self._publish(state=UploaderState.STOPPED)

    def notify_new_reports(self) -> None:
        """New reports were enqueued: look at the queue now."""
        self._wake()

    def pause(self) -> None:
        """Stop starting uploads (the ones in flight finish)."""
        self._paused = True
        self._wake()
        self._publish()

    def resume(self) -> None:
        self._paused = False
        self._wake()
        self._publish()

    def set_client(self, client: UploadClient) -> None:
        """New credentials or server: use `client`, clear the auth alarm and the backoff."""
        self._client = client
        self._auth_error = None
        self._gate_mono = None
        self._status = replace(self._status, consecutive_failures=0, backoff_until=None)
        self._wake()
        self._publish()

    def resume_auth(self) -> None:
        """Try again after an authentication failure with the same client."""
        self._auth_error = None
        self._wake()
        self._publish()

    def set_backoff(self, backoff: Backoff) -> None:
        """New backoff numbers (config change); applies from the next failure on."""
        self._backoff = backoff

    def set_concurrency(self, concurrency: int) -> None:
        self._concurrency = _valid_concurrency(concurrency)
        self._wake()

    def on_change(self, listener: Callable[[UploaderStatus], None]) -> Callable[[], None]:
        """Call `listener(status)` on every change; returns a function that unsubscribes."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def status(self) -> UploaderStatus:
        return self._status

    @property
    def paused(self) -> bool:
        return self._paused

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        while not self._stopping:
            self._wake_event.clear()
            try:
                timeout = await self._step()
            except QueueError as exc:
                # The database failed (disk full, I/O error): say so and try again later
                # rather than die; the reports are safe where they are.
                log.error("report queue error: %s", exc)
                self._publish(last_error=str(exc))
                timeout = self._backoff.policy.cap_s
            if timeout == _AGAIN:
                continue
            await self._sleep_until_woken(timeout)

    async def _step(self) -> float | None:
        """Do what can be done now; return how long to sleep (None: until woken)."""
        if self._auth_error is not None:
            await self._release_ready()
            self._publish(state=UploaderState.AUTH_FAILED)
            return None
        if self._paused:
            await self._release_ready()
            self._publish(state=UploaderState.PAUSED)
            return None
        if self._gate_mono is not None and self._clock.monotonic() < self._gate_mono:
            await self._release_ready()  # their own due times count again while we wait
            # An upload that finished meanwhile may have opened the gate: look again.
            gate, mono = self._gate_mono, self._clock.monotonic()
            if gate is not None and mono < gate:
                self._publish(state=UploaderState.BACKING_OFF)
                return gate - mono
            return _AGAIN
        mono = self._clock.monotonic()
        probing = self._status.consecutive_failures > 0
        limit = 1 if probing else self._concurrency
        free = limit - len(self._in_flight)
        if free <= 0:
            self._publish(state=UploaderState.RUNNING)
            return None  # a finishing upload wakes us
        claimed: list[ClaimedReport] = []
        if len(self._ready) < free:
            # Claim ahead, up to twice the concurrency: one database round trip per batch.
            want = free if probing else 2 * self._concurrency - len(self._in_flight)
            want -= len(self._ready)
            claimed = await self._call(self._queue.claim_due, self._clock.time(), want)
            if claimed and (self._stopping or self._paused or self._auth_error is not None):
                # Things changed while we were claiming: hand them straight back.
                self._ready.extend(claimed)
                await self._release_ready()
                return _AGAIN
            self._ready.extend(claimed)
        started = 0
        while self._ready and len(self._in_flight) < limit:
            report = self._ready.popleft()
            self._in_flight[report.id] = asyncio.create_task(
                self._upload(report), name=f"upload {report.id}"
            )
            started += 1
        if started or claimed:
            self._publish(state=UploaderState.RUNNING, in_flight=len(self._in_flight))
            return _AGAIN  # claim again: maybe more are due and slots are free
        due = await self._call(self._queue.next_due_time)
        busy = UploaderState.RUNNING if self._in_flight else UploaderState.IDLE
        self._publish(state=busy)
        if due is None:
            return None  # nothing queued: no timer at all
        delay = min(max(due - self._clock.time(), 0.0), MAX_TIMER_S)
        if self._last_timer_wake is not None:
            delay = max(delay, self._last_timer_wake + self._min_timer_interval - mono)
        return max(delay, 0.0)

    async def _sleep_until_woken(self, timeout: float | None) -> None:
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._wake_event.wait())}
        timer: asyncio.Future[None] | None = None
        if timeout is not None:
            timer = asyncio.ensure_future(self._clock.sleep(timeout))
            waiters.add(timer)
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        if timer is not None and not self._wake_event.is_set():
            self._last_timer_wake = self._clock.monotonic()

    # ------------------------------------------------------------------ one upload

    async def _upload(self, report: ClaimedReport) -> None:
        try:
            await self._attempt(report)
        except asyncio.CancelledError:
            self._interrupted.add(report.id)
            raise
        except QueueError as exc:
            # The outcome could not be written; the row stays `uploading` and goes back to
            # `queued` at the next start (an upload that happened is then repeated: upsert).
            log.error("could not record the upload of report %s: %s", report.id, exc)
            self._publish(last_error=f"The upload result could not be recorded: {exc}")
        finally:
            self._in_flight.pop(report.id, None)
            self._start_ready()
            self._publish(in_flight=len(self._in_flight))
            self._wake()

    def _start_ready(self) -> None:
        """Hand the freed slot to an already-claimed report at once (no loop round trip),
        when nothing stops uploads; otherwise `_step` decides."""
        if (
            not self._ready
            or self._stopping
            or self._paused
            or self._auth_error is not None
            or self._gate_mono is not None
            or self._status.consecutive_failures > 0
            or len(self._in_flight) >= self._concurrency
        ):
            return
        report = self._ready.popleft()
        self._in_flight[report.id] = asyncio.create_task(
            self._upload(report), name=f"upload {report.id}"
        )

    async def _attempt(self, report: ClaimedReport) -> None:
        client = self._client
        try:
            result = await client.submit_wsjf(IdentifiedReport(report.id, report.payload))
        except AuthenticationError as exc:
            await self._call(self._queue.release, report.id)
            if client is self._client:  # credentials changed meanwhile: not this client's fault
                self._auth_error = str(exc)
                log.warning("uploads paused: %s", exc)
                self._publish(state=UploaderState.AUTH_FAILED, last_error=str(exc))
            return
        except RejectedError as exc:
            message = exc.server_message.strip() or str(exc)
            await self._rejected(report, message)
            return
        except ValueError as exc:
            # The client refused before sending (not JSON, no id): it can never succeed.
            await self._rejected(report, f"The report cannot be sent: {exc}")
            return
        except RateLimitedError as exc:
            await self._transient(report, str(exc), exc.retry_after)
            return
        except WatsError as exc:
            # TransientError, TlsError, UnexpectedResponseError and anything new: retry.
            await self._transient(report, str(exc), None)
            return
        except Exception as exc:
            log.exception("unexpected error uploading report %s", report.id)
            await self._transient(report, f"Unexpected error while uploading: {exc}", None)
            return
        if _same_id(result.id, report.id):
            self._record_uploaded(report.id)
            self._server_answered()
            self._publish(uploaded=self._status.uploaded + 1)
        else:
            await self._transient(
                report, f"The server confirmed report {result.id} instead of {report.id}.", None
            )

    async def _rejected(self, report: ClaimedReport, message: str) -> None:
        await self._call(self._queue.mark_rejected, report.id, self._clock.time(), message)
        log.warning("report %s rejected by the server: %s", report.id, message)
        # A rejection is an answer: the server is up, so stop probing.
        self._server_answered()
        self._publish(rejected=self._status.rejected + 1, last_error=message)

    async def _transient(
        self, report: ClaimedReport, message: str, retry_after: float | None
    ) -> None:
        # Count and close the gate before the first await: concurrent failures must each
        # see the count the previous one left.
        now = self._clock.time()
        failures = self._status.consecutive_failures + 1
        gate_mono = self._clock.monotonic() + self._backoff.delay(failures - 1, retry_after)
        if self._gate_mono is None or gate_mono > self._gate_mono:
            self._gate_mono = gate_mono
        self._publish(
            consecutive_failures=failures,
            transient_failures=self._status.transient_failures + 1,
            backoff_until=now + (self._gate_mono - self._clock.monotonic()),
            last_error=message,
        )
        own_delay = self._backoff.delay(report.attempts, retry_after)
        await self._call(self._queue.mark_retry, report.id, now, now + own_delay, message)
        log.info("upload of %s failed (%s); retry in %.1f s", report.id, message, own_delay)

    def _server_answered(self) -> None:
        if self._status.consecutive_failures or self._gate_mono is not None:
            self._gate_mono = None
            self._status = replace(self._status, consecutive_failures=0, backoff_until=None)

    # ------------------------------------------------------------------ batching

    async def _release_ready(self) -> None:
        """Give claimed-but-not-started reports back to `queued` (pause, backoff, stop)."""
        if not self._ready:
            return
        ids = [report.id for report in self._ready]
        self._ready.clear()

        def release_all() -> None:
            for report_id in ids:
                self._queue.release(report_id)

        await self._call(release_all)

    def _record_uploaded(self, report_id: str) -> None:
        """Record a confirmed upload without holding its slot: a background task writes
        the marks in batches. Should the worker die before that, the report goes back to
        `queued` at the next start and is re-sent under the same id (the server upserts)."""
        self._marks.append(report_id)
        if self._mark_task is None or self._mark_task.done():
            self._mark_task = asyncio.create_task(self._flush_marks(), name="upload marks")

    async def _flush_marks(self) -> None:
        # Let the confirmations of the other uploads in flight join this batch: one
        # database round trip for many instead of one each.
        await asyncio.sleep(MARK_WINDOW_S)
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await self._call(self._queue.mark_uploaded_many, batch, self._clock.time())
            except QueueError as exc:
                log.error("could not record %d upload(s): %s", len(batch), exc)
                self._publish(last_error=f"The upload result could not be recorded: {exc}")

    # ------------------------------------------------------------------ plumbing

    def _wake(self) -> None:
        self._wake_event.set()

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    def _publish(self, **changes: Any) -> None:
        status = replace(self._status, **changes)
        if status == self._status:
            return
        self._status = status
        for listener in list(self._listeners):
            try:
                listener(status)
            except Exception:
                log.exception("uploader status listener failed")


def _same_id(echoed: str, sent: str) -> bool:
    try:
        return normalize_id(echoed.strip().strip("{}")) == sent
    except ValueError:
        return False


def _valid_concurrency(value: int) -> int:
    if value < 1:
        raise ValueError("upload concurrency must be at least 1")
    return value
