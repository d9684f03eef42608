"""The worker's yield monitor over a real queue database: load, live updates, resubmits,
deletes, alarms through the status model, and `yield` events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.core.yield_engine import YieldQuery
from app.core.yield_periods import parse_period
from app.core.yield_settings import YieldSettings
from app.service.queue_events import ObservedQueue
from app.service.queue_models import QueuedReport
from app.service.status import StatusModel, WorkerStatus
from app.service.yield_service import YieldService, YieldUnavailable
from tests.unit.service.queue_support import batch, report, wsjf

TZ = ZoneInfo("Europe/Oslo")
NOW = 1_741_100_000.0  # 2025-03-04 15:53 in Oslo
START = "2025-03-04T14:{:02d}:00+01:00"


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.queue = ObservedQueue.open(tmp_path / "queue.db")
        self.status = StatusModel(WorkerStatus("default", 1, "test"))
        self.events: list[tuple[str, Any]] = []
        self.settings = YieldSettings()
        self.now = NOW
        self.service: YieldService | None = None

    def build(self) -> YieldService:
        self.service = YieldService(
            self.queue.path,
            self.status,
            lambda topic, data: self.events.append((topic, data)),
            lambda: self.settings,
            queue=self.queue,
            tz=TZ,
            clock=lambda: self.now,
        )
        return self.service

    def add(self, *reports: QueuedReport, path: str = "/in/a.json") -> None:
        assert self.queue.enqueue_files([batch(list(reports), path=path)])[0].ok

    async def figures(self, period: str = "today") -> dict[str, Any]:
        assert self.service is not None
        return await self.service.query(YieldQuery(parse_period(period)))

    def yield_events(self) -> list[dict[str, Any]]:
        return [data for topic, data in self.events if topic == "yield"]


async def until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await asyncio.sleep(0.01)


async def settled(harness: Harness, reports: int, period: str = "today") -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        data = await harness.figures(period)
        if data["total"]["reports"] == reports:
            return data
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {reports} reports, have {data['total']['reports']}")
        await asyncio.sleep(0.01)


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    h = Harness(tmp_path)
    yield h
    h.queue.close()


def unit_report(sn: str, result: str, minute: int, **kw: Any) -> QueuedReport:
    return report(sn=sn, result=result, process_code=50, start=START.format(minute), **kw)


async def test_loads_existing_headers_then_follows_new_reports(harness: Harness) -> None:
    harness.add(unit_report("A", "P", 0), unit_report("B", "F", 1))
    service = harness.build()
    service.start()
    try:
        data = await harness.figures()
        assert (data["total"]["units"], data["total"]["first_pass"]) == (2, 1)
        assert harness.yield_events()[0]["runs_indexed"] == 2
        harness.add(unit_report("B", "P", 5), unit_report("C", "P", 6), path="/in/b.json")
        data = await settled(harness, 4)
        assert (data["total"]["units"], data["total"]["second_pass"]) == (3, 3)
        event = await until(lambda: [e for e in harness.yield_events() if e["added"]])
        assert event[0]["added"] == 2
        assert event[0]["processes"] == [50]
    finally:
        await service.aclose()


async def test_uploads_change_nothing_and_send_no_event(harness: Harness) -> None:
    harness.add(unit_report("A", "P", 0))
    service = harness.build()
    service.start()
    try:
        await harness.figures()
        before = len(harness.yield_events())
        claimed = harness.queue.claim_due(time.time() + 10, 10)
        harness.queue.mark_uploaded(claimed[0].id, NOW + 11)
        harness.add(unit_report("Z", "P", 9), path="/in/z.json")  # a marker after the upload
        await settled(harness, 2)
        await until(lambda: len(harness.yield_events()) > before)
        events = harness.yield_events()[before:]
        assert [e["added"] for e in events] == [1]
    finally:
        await service.aclose()


async def test_a_resubmit_replaces_the_header_and_a_delete_reloads(harness: Harness) -> None:
    bad = unit_report("A", "F", 0, report_id="3b2e8a57-3c1e-4f0e-9a57-2d1c4b7e9f10")
    harness.add(bad, unit_report("B", "P", 1))
    service = harness.build()
    service.start()
    try:
        assert (await harness.figures())["total"]["first_pass"] == 1
        claimed = harness.queue.claim_due(time.time() + 10, 10)
        for item in claimed:
            if item.id == bad.id:
                harness.queue.mark_rejected(item.id, NOW + 11, "no")
        fixed = wsjf(report_id=bad.id, sn="A", result="P", process_code=50, start=START.format(0))
        assert harness.queue.resubmit(bad.id, json.dumps(fixed).encode())
        await until(lambda: [e for e in harness.yield_events() if e["replaced"]])
        assert (await harness.figures())["total"]["first_pass"] == 2
        harness.queue.mark_rejected(bad.id, NOW + 12, "again")
        assert harness.queue.delete(bad.id)
        await until(lambda: [e for e in harness.yield_events() if e["reloaded"]])
        data = await harness.figures()
        assert (data["total"]["units"], data["total"]["reports"]) == (1, 1)
    finally:
        await service.aclose()


async def test_repair_reports_do_not_count(harness: Harness) -> None:
    service = harness.build()
    service.start()
    try:
        harness.add(
            unit_report("A", "P", 0),
            unit_report("R", "P", 1, extra={"type": "R", "uur": {"user": "x"}}),
        )
        data = await settled(harness, 1)
        assert data["total"]["units"] == 1
    finally:
        await service.aclose()


async def test_alarms_go_through_the_status_model_once(harness: Harness) -> None:
    harness.settings = YieldSettings.model_validate(
        {"alarms": {"consecutive_failures": 3, "step_recent_failures": 0}}
    )
    service = harness.build()
    service.start()
    try:
        await harness.figures()
        for minute in range(3):
            harness.add(unit_report(f"F{minute}", "F", minute), path=f"/in/f{minute}.json")
        alarms = await until(lambda: harness.status.current.alarms)
        assert [(a.kind, a.subject) for a in alarms] == [("yield_failures", "50 SW Debug")]
        assert alarms[0].message.startswith("Yield alarm: The last 3 units of 50 SW Debug")
        harness.add(unit_report("F9", "F", 9), path="/in/f9.json")
        await settled(harness, 4)
        assert len(harness.status.current.alarms) == 1
        event = harness.yield_events()[-1]
        assert [a["kind"] for a in event["alarms"]] == ["yield_failures"]
        harness.add(unit_report("OK", "P", 10), path="/in/ok.json")
        await until(lambda: not harness.status.current.alarms)
        # Time moves on: with the alarm window passed, nothing comes back.
        harness.now += 9 * 3600
        service.settings_changed()
        await until(lambda: harness.yield_events()[-1]["alarms"] == [])
    finally:
        await service.aclose()


async def test_alarms_clear_when_the_window_slides_past_them(harness: Harness) -> None:
    harness.settings = YieldSettings.model_validate(
        {"alarms": {"consecutive_failures": 2, "step_recent_failures": 0, "window_hours": 2}}
    )
    service = YieldService(
        harness.queue.path,
        harness.status,
        lambda topic, data: harness.events.append((topic, data)),
        lambda: harness.settings,
        queue=harness.queue,
        tz=TZ,
        clock=lambda: harness.now,
        alarm_tick_s=0.05,  # the once-a-minute look, sped up
    )
    harness.service = service
    harness.add(unit_report("F1", "F", 50), unit_report("F2", "F", 51))
    service.start()
    try:
        await until(lambda: harness.status.current.alarms)
        harness.now += 3 * 3600
        await until(lambda: not harness.status.current.alarms)
    finally:
        await service.aclose()


async def test_queries_wait_for_the_first_load_and_fail_once_closed(harness: Harness) -> None:
    harness.add(unit_report("A", "P", 0))
    service = harness.build()
    pending = asyncio.ensure_future(harness.figures())
    await asyncio.sleep(0.05)
    assert not pending.done()
    service.start()
    assert (await pending)["total"]["units"] == 1
    await service.aclose()
    with pytest.raises(YieldUnavailable, match="stopping"):
        await harness.figures()
