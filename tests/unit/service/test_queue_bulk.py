"""retry_many / delete_many: a user's bulk action is one transaction and one change event."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.service.queue import ReportQueue, ReportState
from app.service.queue_events import ObservedQueue
from app.service.queue_models import QueuedReport, SourceBatch

BULK = 10_000  # the most ids one queue.retry / queue.delete request may name


def fill(queue: ReportQueue, count: int) -> list[str]:
    """`count` queued reports, oldest first; returns their ids."""
    ids: list[str] = []
    batches: list[SourceBatch] = []
    for index in range(count):
        doc = {"type": "T", "id": str(uuid.uuid4()), "pn": "P", "sn": f"S{index}", "rev": "A"}
        report = QueuedReport.from_payload(json.dumps(doc).encode())
        ids.append(report.id)
        batches.append(SourceBatch("wsjf", f"/in/{index}.json", f"{index:064x}", [report]))
    for start in range(0, count, 1000):
        queue.enqueue_files(batches[start : start + 1000])
    return ids


def state_of(queue: ReportQueue, report_id: str) -> ReportState | None:
    row = queue.get(report_id)
    return None if row is None else row.state


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[ObservedQueue]:
    with ObservedQueue.open(tmp_path / "queue.db") as observed:
        yield observed


def test_retry_many_queues_ten_thousand_rejected_reports_in_one_change(
    queue: ObservedQueue,
) -> None:
    ids = fill(queue, BULK)
    now = time.time()
    claimed = queue.claim_due(now + 1, BULK)
    assert len(claimed) == BULK
    for report in claimed:
        queue.mark_rejected(report.id, now, "processCode: 4242 is not a known process")
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    assert queue.retry_many(ids) == ids
    assert seen == [tuple(ids)]
    assert queue.counts() == {"queued": BULK, "uploading": 0, "uploaded": 0, "rejected": 0}
    assert queue.next_due_time() is not None


def test_delete_many_removes_ten_thousand_reports_in_one_change(queue: ObservedQueue) -> None:
    ids = fill(queue, BULK)
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    assert queue.delete_many(ids) == ids
    assert seen == [tuple(ids)]
    assert queue.counts() == {"queued": 0, "uploading": 0, "uploaded": 0, "rejected": 0}
    assert queue.list().total == 0


def test_retry_many_changes_what_retry_would_and_names_each_id_once(
    queue: ObservedQueue,
) -> None:
    rejected, waiting, uploading, uploaded = fill(queue, 4)
    now = time.time()
    assert len(queue.claim_due(now + 1, 4)) == 4
    queue.mark_rejected(rejected, now, "no")
    queue.release(waiting)
    queue.mark_uploaded(uploaded, now)
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    changed = queue.retry_many(
        [rejected, rejected.upper(), waiting, uploading, uploaded, str(uuid.uuid4()), "not-an-id"]
    )
    assert changed == [rejected, waiting]
    assert seen == [(rejected, waiting)]
    assert state_of(queue, rejected) == ReportState.QUEUED
    assert state_of(queue, uploading) == ReportState.UPLOADING
    assert state_of(queue, uploaded) == ReportState.UPLOADED


def test_delete_many_leaves_reports_being_uploaded(queue: ObservedQueue) -> None:
    first, second, third = fill(queue, 3)
    queue.claim_due(time.time() + 1, 1)  # the oldest is being uploaded
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    assert queue.delete_many([first, second, second.upper(), str(uuid.uuid4())]) == [second]
    assert state_of(queue, first) == ReportState.UPLOADING
    assert state_of(queue, second) is None
    assert state_of(queue, third) == ReportState.QUEUED
    assert seen == [(second,)]


def test_nothing_changed_means_no_event(queue: ObservedQueue) -> None:
    fill(queue, 1)
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    assert queue.retry_many([str(uuid.uuid4())]) == []
    assert queue.delete_many([]) == []
    assert seen == []
