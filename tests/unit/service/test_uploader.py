"""The uploader against a scripted fake server, on a ManualClock: nothing here sleeps."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.core.backoff import Backoff
from app.core.clock import ManualClock
from app.service.queue import ReportQueue, ReportState
from app.service.uploader import Uploader, UploaderState, UploaderStatus
from app.wats import (
    AuthenticationError,
    IdentifiedReport,
    RateLimitedError,
    RejectedError,
    SubmitResult,
    TlsError,
    TransientError,
)

from .queue_support import T0, batch, report

URL = "http://127.0.0.1:9/api/Report/WSJF"
Outcome = BaseException | str | None  # raise it / echo this id / echo the sent id


def server_down() -> TransientError:
    return TransientError("The WATS server answered 503.", url=URL, status=503)


class FakeServer:
    """Answers `submit_wsjf` by a plan; can hold calls in flight until released."""

    def __init__(self) -> None:
        self.plan: Callable[[str, int], Outcome] = lambda rid, n: None
        self.calls: list[str] = []
        self.call_times: list[float] = []
        self.holding = False
        self.held: list[asyncio.Future[None]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.clock: ManualClock | None = None

    async def submit_wsjf(self, report: IdentifiedReport, /) -> SubmitResult:
        rid = json.loads(report.to_json())["id"]
        assert rid == report.id
        self.calls.append(rid)
        if self.clock is not None:
            self.call_times.append(self.clock.monotonic())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.holding:
                future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self.held.append(future)
                await future
            outcome = self.plan(rid, len(self.calls))
        finally:
            self.in_flight -= 1
        if isinstance(outcome, BaseException):
            raise outcome
        return SubmitResult(id=outcome or rid.upper())  # servers may echo upper case

    def release(self, n: int | None = None) -> None:
        count = len(self.held) if n is None else n
        for future in self.held[:count]:
            if not future.done():
                future.set_result(None)
        del self.held[:count]


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.clock = ManualClock(start=T0)
        self.queue = ReportQueue.open(tmp / "queue.db", now=self.clock.time)
        self.server = FakeServer()
        self.server.clock = self.clock
        self.executor = ThreadPoolExecutor(max_workers=1)
        self.uploader = Uploader(
            self.queue,
            self.server,
            clock=self.clock,
            backoff=Backoff(random=lambda: 0.5),
            concurrency=4,
            executor=self.executor,
        )

    def add(self, n: int) -> list[str]:
        reports = [report(sn=f"SN-{i}") for i in range(n)]
        self.queue.enqueue_files([batch(reports, path=f"/in/{uuid.uuid4()}.json")])
        return [r.id for r in reports]

    def state_of(self, report_id: str) -> ReportState:
        row = self.queue.get(report_id)
        assert row is not None
        return row.state

    def uploaded(self) -> int:
        return self.queue.counts()["uploaded"]

    async def settle(self) -> None:
        """Let the loop run until it waits: flush the executor and the ready callbacks."""
        loop = asyncio.get_running_loop()
        for _ in range(3):
            for _ in range(20):
                await asyncio.sleep(0)
            await loop.run_in_executor(self.executor, lambda: None)
        for _ in range(20):
            await asyncio.sleep(0)


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `condition` (letting the loop and executor run) until true or fail."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.001)


def backing_off(rig: Rig) -> bool:
    """The loop has seen the failure and sleeps on the gate's timer."""
    return rig.uploader.status.state is UploaderState.BACKING_OFF and rig.clock.sleepers == 1


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.server.release()
    await r.uploader.stop(grace_s=0)
    r.executor.shutdown(wait=True)
    r.queue.close()


# ---------------------------------------------------------------- flow


async def test_uploads_everything_with_bounded_concurrency(rig: Rig) -> None:
    ids = rig.add(10)
    rig.server.holding = True
    await rig.uploader.start()
    await until(lambda: rig.server.in_flight == 4)
    await rig.settle()
    assert rig.server.in_flight == 4
    assert rig.uploader.status.in_flight == 4
    assert rig.uploader.status.state is UploaderState.RUNNING
    rig.server.holding = False
    rig.server.release()
    await until(lambda: rig.uploaded() == 10)
    assert sorted(rig.server.calls) == sorted(ids)
    assert rig.server.max_in_flight == 4
    await until(lambda: rig.uploader.status.state is UploaderState.IDLE)
    assert rig.uploader.status.uploaded == 10
    # Nothing queued: no timer at all, the uploader waits to be notified.
    assert rig.clock.sleepers == 0


async def test_start_requeues_reports_left_uploading(rig: Rig) -> None:
    [rid] = rig.add(1)
    rig.queue.claim_due(T0, 1)  # a previous run died mid-upload
    await rig.uploader.start()
    await until(lambda: rig.state_of(rid) is ReportState.UPLOADED)


async def test_notify_wakes_at_once_and_nothing_polls_when_idle(rig: Rig) -> None:
    await rig.uploader.start()
    await until(lambda: rig.uploader.status.state is UploaderState.IDLE)
    [first] = rig.add(1)
    await rig.settle()
    assert rig.server.calls == []  # not notified, not polling: untouched
    assert rig.clock.sleepers == 0
    rig.uploader.notify_new_reports()
    await until(lambda: rig.state_of(first) is ReportState.UPLOADED)
    assert rig.clock.time() == T0  # no time had to pass


async def test_sleeps_until_the_next_due_report(rig: Rig) -> None:
    [rid] = rig.add(1)
    rig.queue.claim_due(T0, 1)
    rig.queue.mark_retry(rid, T0, T0 + 100, "HTTP 503")
    await rig.uploader.start()
    await until(lambda: rig.clock.next_deadline() == 100)
    rig.clock.advance(64)
    await rig.settle()
    assert rig.server.calls == []
    rig.clock.advance(36)
    await until(lambda: rig.state_of(rid) is ReportState.UPLOADED)


async def test_timer_wakeups_are_at_least_a_second_apart(rig: Rig) -> None:
    a, b = rig.add(2)
    rig.queue.claim_due(T0, 2)
    rig.queue.mark_retry(a, T0, T0 + 10, "x")
    rig.queue.mark_retry(b, T0, T0 + 10.25, "x")
    await rig.uploader.start()
    await until(lambda: rig.clock.next_deadline() == 10)
    rig.clock.advance(10)
    await until(lambda: rig.state_of(a) is ReportState.UPLOADED)
    # B is due 0.25 s later, but the last timer wake-up was just now: wait a full second.
    await until(lambda: rig.clock.next_deadline() == 1.0)
    rig.clock.advance(1)
    await until(lambda: rig.state_of(b) is ReportState.UPLOADED)


# ---------------------------------------------------------------- failures


async def test_backoff_sequence_grows_to_the_cap_with_one_probe_at_a_time(rig: Rig) -> None:
    [rid] = rig.add(1)
    rig.server.plan = lambda r, n: server_down()
    await rig.uploader.start()
    # random = 0.5, so each wait is half the ceiling: 1, 2, 4, … 128, then 150 (cap 300).
    expected = [1, 2, 4, 8, 16, 32, 64, 128, 150, 150, 150]
    for i, gap in enumerate(expected):
        await until(lambda i=i: rig.uploader.status.consecutive_failures == i + 1)
        await until(lambda: backing_off(rig))
        status = rig.uploader.status
        assert status.state is UploaderState.BACKING_OFF
        assert status.backoff_until == rig.clock.time() + gap
        row = rig.queue.get(rid)
        assert row is not None
        assert (row.attempts, row.next_attempt_at) == (i + 1, rig.clock.time() + gap)
        rig.clock.advance(gap / 2)
        await rig.settle()
        assert len(rig.server.calls) == i + 1  # not before the gate opens
        rig.clock.advance(gap / 2)
        await until(lambda i=i: len(rig.server.calls) == i + 2)
    gaps = [b - a for a, b in zip(rig.server.call_times, rig.server.call_times[1:], strict=False)]
    assert gaps == expected
    assert rig.server.max_in_flight == 1
    assert rig.uploader.status.last_error == "The WATS server answered 503."


async def test_real_jitter_keeps_every_wait_within_its_bound(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.uploader = Uploader(
        rig.queue, rig.server, clock=rig.clock, backoff=Backoff(), executor=rig.executor
    )
    rig.add(1)
    rig.server.plan = lambda r, n: server_down()
    try:
        await rig.uploader.start()
        for i in range(12):
            await until(lambda i=i: rig.uploader.status.consecutive_failures == i + 1)
            await until(lambda: backing_off(rig))
            wait = rig.clock.next_deadline()
            assert wait is not None
            # The gate, and then the due time; each at most the ceiling (and ≥ 1 s apart).
            assert 0 <= wait <= min(300, 2 * 2**i)
            rig.clock.advance(wait)
            while len(rig.server.calls) < i + 2:
                await until(lambda i=i: rig.clock.sleepers == 1 or len(rig.server.calls) >= i + 2)
                if len(rig.server.calls) < i + 2:
                    nxt = rig.clock.next_deadline()
                    assert nxt is not None
                    assert nxt <= 300
                    rig.clock.advance(nxt)
    finally:
        await rig.uploader.stop(grace_s=0)
        rig.executor.shutdown(wait=True)
        rig.queue.close()


async def test_single_probe_while_failing_then_full_concurrency(rig: Rig) -> None:
    rig.add(8)
    rig.server.holding = True
    rig.server.plan = lambda r, n: server_down() if n <= 4 else None
    await rig.uploader.start()
    await until(lambda: rig.server.in_flight == 4)
    rig.server.release()
    await until(lambda: rig.uploader.status.consecutive_failures == 4)
    await until(lambda: backing_off(rig))
    assert rig.clock.next_deadline() == 8  # 0.5 · 2 · 2^3 after four failures in a row

    rig.clock.advance(8)
    await until(lambda: rig.server.in_flight == 1)
    rig.uploader.notify_new_reports()
    await rig.settle()
    assert rig.server.in_flight == 1  # the probe, alone, although 7 reports are due
    assert len(rig.server.calls) == 5

    rig.server.release(1)  # the probe succeeds: full concurrency again
    await until(lambda: rig.server.in_flight == 4)
    assert rig.uploader.status.consecutive_failures == 0
    assert rig.uploader.status.backoff_until is None
    rig.server.holding = False
    rig.server.release()
    await until(lambda: rig.uploaded() == 8)
    assert rig.uploader.status.transient_failures == 4


async def test_retry_after_is_honoured(rig: Rig) -> None:
    [rid] = rig.add(1)
    limited = RateLimitedError("Too many requests.", url=URL, retry_after=30)
    rig.server.plan = lambda r, n: limited if n == 1 else None
    await rig.uploader.start()
    await until(lambda: backing_off(rig))
    row = rig.queue.get(rid)
    assert row is not None
    assert row.next_attempt_at == T0 + 30  # jitter would have said 1 s
    assert rig.uploader.status.backoff_until == T0 + 30
    rig.clock.advance(16)
    await rig.settle()
    rig.clock.advance(8)
    await rig.settle()
    assert len(rig.server.calls) == 1
    rig.clock.advance(6)
    await until(lambda: rig.state_of(rid) is ReportState.UPLOADED)
    assert rig.server.call_times == [0, 30]


async def test_tls_and_wrong_echoed_id_and_bugs_are_retried(rig: Rig) -> None:
    a, b, c = rig.add(3)
    first: dict[str, Exception | str] = {
        a: TlsError("Certificate expired.", url=URL),
        b: str(uuid.uuid4()),  # the server confirmed another report
        c: RuntimeError("client bug"),
    }
    rig.server.plan = lambda r, n: first.pop(r, None)
    await rig.uploader.start()
    await until(lambda: rig.uploader.status.transient_failures == 3)
    await until(lambda: rig.queue.counts()["queued"] == 3)
    for rid, text in ((a, "Certificate expired."), (b, "instead of"), (c, "client bug")):
        row = rig.queue.get(rid)
        assert row is not None
        assert row.state is ReportState.QUEUED
        assert text in (row.last_error or "")
    await until(lambda: backing_off(rig))  # the timer must exist before time moves on
    rig.clock.advance(8)
    await until(lambda: rig.uploaded() == 3)


async def test_rejected_is_parked_with_the_message_while_others_flow(rig: Rig) -> None:
    ids = rig.add(6)
    bad = ids[2]
    refusal = RejectedError(
        "The WATS server refused the report (400).",
        url=URL,
        status=400,
        server_message="Unknown process code 999",
    )
    rig.server.plan = lambda r, n: refusal if r == bad else None
    await rig.uploader.start()
    # `rejected` counts once the rejection is stored; `uploaded` as soon as the server confirms
    # (the mark is written in a batch just after): wait for both.
    await until(lambda: rig.uploader.status.uploaded == 5 and rig.uploader.status.rejected == 1)
    row = rig.queue.get(bad)
    assert row is not None
    assert (row.state, row.last_error, row.attempts) == (
        ReportState.REJECTED,
        "Unknown process code 999",
        1,
    )
    status = rig.uploader.status
    assert (status.rejected, status.uploaded, status.consecutive_failures) == (1, 5, 0)
    assert rig.server.calls.count(bad) == 1


async def test_a_report_the_client_cannot_send_is_rejected(rig: Rig) -> None:
    [rid] = rig.add(1)
    rig.server.plan = lambda r, n: ValueError("the report has no id")
    await rig.uploader.start()
    await until(lambda: rig.state_of(rid) is ReportState.REJECTED)
    row = rig.queue.get(rid)
    assert row is not None
    assert row.last_error == "The report cannot be sent: the report has no id"


async def test_authentication_failure_pauses_all_until_credentials_change(rig: Rig) -> None:
    ids = rig.add(3)
    denied = AuthenticationError("The WATS server refused the token (401).", url=URL, status=401)
    rig.server.plan = lambda r, n: denied
    await rig.uploader.start()
    await until(lambda: rig.uploader.status.state is UploaderState.AUTH_FAILED)
    await rig.settle()
    assert rig.uploader.status.last_error == "The WATS server refused the token (401)."
    calls = len(rig.server.calls)
    assert calls <= 3
    for rid in ids:  # back in the queue, no attempt counted
        row = rig.queue.get(rid)
        assert row is not None
        assert (row.state, row.attempts) == (ReportState.QUEUED, 0)
    rig.uploader.notify_new_reports()
    rig.clock.advance(3600)
    await rig.settle()
    assert len(rig.server.calls) == calls
    assert rig.uploader.status.state is UploaderState.AUTH_FAILED

    good = FakeServer()
    rig.uploader.set_client(good)
    await until(lambda: rig.uploaded() == 3)
    assert sorted(good.calls) == sorted(ids)
    await until(lambda: rig.uploader.status.state is UploaderState.IDLE)


async def test_resume_auth_tries_again_with_the_same_client(rig: Rig) -> None:
    [rid] = rig.add(1)
    denied = AuthenticationError("Forbidden (403).", url=URL, status=403)
    rig.server.plan = lambda r, n: denied if n == 1 else None
    await rig.uploader.start()
    await until(lambda: rig.uploader.status.state is UploaderState.AUTH_FAILED)
    rig.uploader.resume_auth()
    await until(lambda: rig.state_of(rid) is ReportState.UPLOADED)


# ---------------------------------------------------------------- control


async def test_pause_and_resume(rig: Rig) -> None:
    rig.uploader.pause()
    await rig.uploader.start()
    rig.add(3)
    rig.uploader.notify_new_reports()
    await until(lambda: rig.uploader.status.state is UploaderState.PAUSED)
    await rig.settle()
    assert rig.server.calls == []
    assert rig.uploader.paused
    rig.uploader.resume()
    await until(lambda: rig.uploaded() == 3)
    assert not rig.uploader.paused


async def test_graceful_stop_waits_for_grace_then_requeues_in_flight(rig: Rig) -> None:
    ids = rig.add(4)
    rig.server.holding = True
    await rig.uploader.start()
    await until(lambda: rig.server.in_flight == 4)

    stopping = asyncio.create_task(rig.uploader.stop(grace_s=10))
    await until(lambda: rig.clock.sleepers == 1)  # the grace timer
    rig.server.release(1)  # one finishes within the grace period
    await until(lambda: rig.uploaded() == 1)
    rig.clock.advance(5)
    await rig.settle()
    assert not stopping.done()
    rig.clock.advance(5)
    await stopping

    counts = rig.queue.counts()
    assert counts == {"queued": 3, "uploading": 0, "uploaded": 1, "rejected": 0}
    assert rig.server.in_flight == 0
    for rid in ids:
        row = rig.queue.get(rid)
        assert row is not None
        assert row.attempts == (1 if row.state is ReportState.UPLOADED else 0)
    assert rig.uploader.status.state is UploaderState.STOPPED
    # Nothing new starts after a stop.
    rig.uploader.notify_new_reports()
    await rig.settle()
    assert len(rig.server.calls) == 4


async def test_stop_returns_at_once_when_nothing_is_in_flight(rig: Rig) -> None:
    await rig.uploader.start()
    await until(lambda: rig.uploader.status.state is UploaderState.IDLE)
    await rig.uploader.stop()
    assert rig.uploader.status.state is UploaderState.STOPPED
    await rig.uploader.start()  # and can start again
    [rid] = rig.add(1)
    rig.uploader.notify_new_reports()
    await until(lambda: rig.state_of(rid) is ReportState.UPLOADED)


async def test_listeners_see_every_change_and_can_unsubscribe(rig: Rig) -> None:
    seen: list[UploaderStatus] = []
    unsubscribe = rig.uploader.on_change(seen.append)

    def broken(status: UploaderStatus) -> None:
        raise RuntimeError("listener bug")

    rig.uploader.on_change(broken)  # a failing listener must not stop the uploader
    rig.add(2)
    await rig.uploader.start()
    await until(lambda: rig.uploaded() == 2)
    await until(lambda: rig.uploader.status.state is UploaderState.IDLE)
    states = [s.state for s in seen]
    assert UploaderState.RUNNING in states
    assert states[-1] is UploaderState.IDLE
    assert seen[-1].uploaded == 2
    unsubscribe()
    count = len(seen)
    rig.uploader.pause()
    assert len(seen) == count


async def test_a_queue_failure_is_reported_and_survived(rig: Rig) -> None:
    await rig.uploader.start()
    await until(lambda: rig.uploader.status.state is UploaderState.IDLE)
    rig.queue.close()
    rig.uploader.notify_new_reports()
    await until(lambda: "closed" in (rig.uploader.status.last_error or ""))
    assert rig.uploader.status.state is not UploaderState.STOPPED


async def test_concurrency_must_be_positive(rig: Rig) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        rig.uploader.set_concurrency(0)
    rig.uploader.set_concurrency(2)
    rig.add(6)
    rig.server.holding = True
    await rig.uploader.start()
    await until(lambda: rig.server.in_flight == 2)
    await rig.settle()
    assert rig.server.in_flight == 2
