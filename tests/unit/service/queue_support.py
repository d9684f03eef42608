"""Builders shared by the queue and uploader tests: WSJF payloads, batches, a settable time."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from app.service.queue_models import QueuedReport, SourceBatch

T0 = 1_700_000_000.0


class FakeTime:
    """A callable wall clock the queue reads for its own timestamps."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def wsjf(
    *,
    report_id: str | None = None,
    sn: str = "SN-1",
    pn: str = "PN-100",
    rev: str = "A",
    process_code: int = 10,
    result: str = "P",
    start: str = "2025-03-01T10:15:00+01:00",
    station: str = "STATION-01",
    operator: str = "op1",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "T",
        "id": report_id or str(uuid.uuid4()),
        "pn": pn,
        "sn": sn,
        "rev": rev,
        "processCode": process_code,
        "processName": "SW Debug",
        "result": result,
        "machineName": station,
        "location": "Lab 2",
        "purpose": "Production",
        "start": start,
        "uut": {"user": operator, "fixtureId": "FX-1", "batchSN": "LOT-1", "testSocketIndex": 2},
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": result,
            "steps": [],
        },
    }
    doc.update(extra or {})
    return doc


def report(**kwargs: Any) -> QueuedReport:
    return QueuedReport.from_payload(json.dumps(wsjf(**kwargs)).encode())


def batch(
    reports: Sequence[QueuedReport], *, path: str = "/in/a.json", converter: str = "wsjf"
) -> SourceBatch:
    digest = hashlib.sha256(path.encode() + b"".join(r.payload for r in reports)).hexdigest()
    return SourceBatch(
        converter=converter, source_path=path, source_sha256=digest, reports=list(reports)
    )
