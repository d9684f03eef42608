"""Helpers for the worker IPC method tests: a queue filled before the worker starts, a failed
file in an Error folder, and an IPC client for a Station."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.ipc.blocking import BlockingIpcClient
from app.ipc.protocol import IpcError
from app.samples.generate import generated_uut
from app.service.post_actions import FailureDetails, move_to_error
from app.service.queue import ReportQueue
from app.service.queue_models import QueuedReport, SourceBatch
from tests.fixtures.worker import Station

REPORT_NAMESPACE = uuid.UUID("5f1f6c1e-7c0e-4a51-9d35-6a0f0f3c2b11")


def report_id(index: int) -> str:
    return str(uuid.uuid5(REPORT_NAMESPACE, str(index)))


def report_bytes(index: int, **overrides: Any) -> bytes:
    doc = generated_uut(index, with_id=False)
    doc["id"] = report_id(index)
    doc.update(overrides)
    return json.dumps(doc).encode()


def fill_queue(
    station: Station, count: int, *, rejected: int = 0, per_commit: int = 500, **overrides: Any
) -> list[str]:
    """Put `count` reports into the station's queue before its worker starts; the first
    `rejected` of them are marked rejected by the server. Returns the ids, oldest first."""
    ids: list[str] = []
    with ReportQueue.open(station.paths.queue_db) as queue:
        for start in range(0, count, per_commit):
            batches = []
            for index in range(start, min(count, start + per_commit)):
                report = QueuedReport.from_payload(report_bytes(index, **overrides))
                ids.append(report.id)
                batches.append(
                    SourceBatch("Line 1", f"/in/unit-{index}.json", f"{index:064x}", [report])
                )
            queue.enqueue_files(batches)
        if rejected:
            now = time.time()
            for claimed in queue.claim_due(now + 1, rejected):
                queue.mark_rejected(claimed.id, now, "processCode: 4242 is not a known process")
    return ids


def make_failed_file(
    station: Station, converter: str, watch_folder: Path, name: str, data: bytes
) -> tuple[str, Path]:
    """A file the pipeline failed: in the Error folder with its note, logged in the queue.
    Returns (key, path in the Error folder)."""
    import hashlib

    source = watch_folder / name
    source.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    with ReportQueue.open(station.paths.queue_db) as queue:
        key = queue.record_failed_file(converter, str(source), sha, "not valid JSON: line 1")
    target = move_to_error(
        source, watch_folder / "Error", FailureDetails("wsjf", "1.0", "not valid JSON", line=1)
    )
    return key, target


@contextmanager
def client_for(station: Station, timeout: float = 10.0) -> Iterator[BlockingIpcClient]:
    """A blocking IPC client connected to the station's worker."""
    saved = os.environ.get("WATS_STATION_HOME")
    os.environ["WATS_STATION_HOME"] = str(station.home)
    try:
        with BlockingIpcClient(station.instance, timeout=timeout) as client:
            client.connect()
            yield client
    finally:
        if saved is None:
            os.environ.pop("WATS_STATION_HOME", None)
        else:
            os.environ["WATS_STATION_HOME"] = saved


def error_of(station: Station, method: str, params: Any = None) -> IpcError:
    """The IpcError the worker answers `method` with (fails the test if it succeeds)."""
    try:
        result = station.call(method, params)
    except IpcError as exc:
        return exc
    raise AssertionError(f"{method} succeeded: {result!r}")
