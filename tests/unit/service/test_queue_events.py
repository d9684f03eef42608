"""Queue change notifications: which ids changed, coalesced into `queue` events."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from app.service.queue_events import MAX_CHANGED_IDS, ObservedQueue, QueueEvents
from app.service.queue_models import QueuedReport, SourceBatch


def batch(index: int) -> SourceBatch:
    doc = {"type": "T", "id": str(uuid.uuid4()), "pn": "P", "sn": f"S{index}", "rev": "A"}
    report = QueuedReport.from_payload(json.dumps(doc).encode())
    return SourceBatch("wsjf", f"/in/{index}.json", f"{index:064x}", [report])


@pytest.fixture
def queue(tmp_path: Path) -> Any:
    with ObservedQueue.open(tmp_path / "queue.db") as observed:
        yield observed


def test_every_change_reports_its_ids(queue: ObservedQueue) -> None:
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    batches = [batch(i) for i in range(3)]
    ids = [b.reports[0].id for b in batches]
    queue.enqueue_files(batches)
    queue.enqueue_files(batches[:1])  # already queued: no change, no call
    claimed = queue.claim_due(time.time() + 1, 2)
    queue.mark_uploaded(claimed[0].id, time.time())
    queue.mark_rejected(claimed[1].id, time.time(), "no")
    queue.mark_uploaded(claimed[0].id, time.time())  # not uploading any more: no change
    queue.retry(claimed[1].id)
    queue.delete(ids[2])
    assert seen == [
        tuple(ids),
        (ids[0], ids[1]),
        (ids[0],),
        (ids[1],),
        (ids[1],),
        (ids[2],),
    ]


def test_reset_at_start_says_many_changed(queue: ObservedQueue) -> None:
    queue.enqueue_files([batch(0)])
    queue.claim_due(time.time() + 1, 1)
    seen: list[tuple[str, ...] | None] = []
    queue.on_change(seen.append)
    assert queue.reset_uploading() == 1
    assert seen == [None]


async def test_a_burst_becomes_one_event_with_counts(queue: ObservedQueue) -> None:
    published: list[tuple[str, Any]] = []
    counts_seen: list[dict[str, int]] = []
    got = asyncio.Event()

    def publish(topic: str, data: Any) -> None:
        published.append((topic, data))
        got.set()

    with ThreadPoolExecutor(1) as executor:
        events = QueueEvents(queue, executor, publish, counts_seen.append)
        events.start()
        loop = asyncio.get_running_loop()
        batches = [batch(i) for i in range(5)]
        for one in batches:
            await loop.run_in_executor(executor, queue.enqueue_files, [one])
        await asyncio.wait_for(got.wait(), 5)
        await asyncio.sleep(0.1)  # nothing more may follow for the burst (a negative check)
        await events.aclose()
    assert len(published) == 1
    topic, data = published[0]
    assert topic == "queue"
    assert data["changed"] == [b.reports[0].id for b in batches]
    assert data["counts"]["queued"] == 5
    assert counts_seen == [data["counts"]]


async def test_too_many_ids_are_sent_as_an_empty_list(queue: ObservedQueue) -> None:
    published: list[Any] = []
    got = asyncio.Event()

    def publish(_topic: str, data: Any) -> None:
        published.append(data)
        got.set()

    with ThreadPoolExecutor(1) as executor:
        events = QueueEvents(queue, executor, publish)
        events.start()
        many = tuple(str(uuid.uuid4()) for _ in range(MAX_CHANGED_IDS + 1))
        events.notify(many)
        await asyncio.wait_for(got.wait(), 5)
        await events.aclose()
    assert published[0]["changed"] == []
