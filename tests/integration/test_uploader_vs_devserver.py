"""The uploader, the real queue and the real WatsClient against the local WATS server process.

200 reports through a 429 burst, then 30 % 5xx answers plus replies lost after the server
stored the report: every report arrives, none twice (distinct ids == 200).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from app.core.backoff import Backoff, BackoffPolicy
from app.service.queue import ReportQueue
from app.service.queue_models import QueuedReport
from app.service.uploader import Uploader, UploaderState
from app.wats import WatsClient
from tests.fixtures.devserver import DevServerProcess
from tests.unit.service.queue_support import batch, wsjf

REPORTS = 200


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def make_reports(n: int) -> list[QueuedReport]:
    return [
        QueuedReport.from_payload(json.dumps(wsjf(sn=f"INT-{i:04d}")).encode()) for i in range(n)
    ]


async def test_every_report_arrives_exactly_once_through_429s_and_5xx(
    devserver: DevServerProcess, tmp_path: Path
) -> None:
    queue = ReportQueue.open(tmp_path / "queue.db")
    executor = ThreadPoolExecutor(max_workers=1)
    reports = make_reports(REPORTS)
    # Ten source files of twenty reports, in one group commit.
    queue.enqueue_files(
        [batch(reports[i : i + 20], path=f"/in/{i}.json") for i in range(0, REPORTS, 20)]
    )
    devserver.set_faults(throttle_retry_after=1)  # the burst: every call gets 429
    async with WatsClient(devserver.url, devserver.token, post_timeout=10) as client:
        uploader = Uploader(
            queue,
            client,
            # Short waits keep the test quick; the policy's shape is what is exercised.
            backoff=Backoff(BackoffPolicy(base_s=0.05, cap_s=0.4)),
            executor=executor,
            min_timer_interval_s=0.05,
        )
        try:
            await uploader.start()
            await until(lambda: uploader.status.transient_failures >= 1, 20, "the first 429")
            assert "429" in (uploader.status.last_error or "")
            # Retry-After: 1 s is honoured: nothing got through during the burst.
            assert devserver.stats()["distinct_ids"] == 0
            devserver.set_faults(
                throttle_retry_after=None,
                fail_rate=0.3,
                fail_status=503,
                drop_rate=0.05,
                drop_after_handling=True,
            )
            await until(lambda: queue.counts()["uploaded"] == REPORTS, 120, "all uploads")
            await until(
                lambda: uploader.status.state is UploaderState.IDLE, 10, "the uploader to idle"
            )
        finally:
            await uploader.stop(grace_s=5)
            executor.shutdown(wait=True)

    stats = devserver.stats()
    assert stats["distinct_ids"] == REPORTS
    assert set(stats["receive_counts"]) == {r.id for r in reports}
    # Lost replies made some reports arrive twice; upsert by id kept them single.
    assert stats["received"] >= REPORTS
    status = uploader.status
    assert status.uploaded == REPORTS
    assert status.transient_failures > 10  # 30 % of 200+ attempts failed
    assert queue.counts() == {"queued": 0, "uploading": 0, "uploaded": REPORTS, "rejected": 0}
    queue.close()


async def test_a_wrong_token_raises_the_alarm_and_new_credentials_finish_the_job(
    devserver: DevServerProcess, tmp_path: Path
) -> None:
    queue = ReportQueue.open(tmp_path / "queue.db")
    executor = ThreadPoolExecutor(max_workers=1)
    reports = make_reports(5)
    queue.enqueue_files([batch(reports)])
    async with (
        WatsClient(devserver.url, "d3Jvbmc6dG9rZW4=") as wrong,
        WatsClient(devserver.url, devserver.token) as right,
    ):
        uploader = Uploader(queue, wrong, executor=executor)
        try:
            await uploader.start()
            await until(lambda: uploader.status.state is UploaderState.AUTH_FAILED, 20, "the alarm")
            assert "401" in (uploader.status.last_error or "")
            assert queue.counts()["queued"] == 5
            assert devserver.stats()["distinct_ids"] == 0
            uploader.set_client(right)
            await until(lambda: queue.counts()["uploaded"] == 5, 20, "all uploads")
        finally:
            await uploader.stop(grace_s=5)
            executor.shutdown(wait=True)
    assert devserver.stats()["distinct_ids"] == 5
    queue.close()
