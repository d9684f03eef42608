"""Header extraction from WSJF and id normalisation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.samples import sample_path
from app.service.queue_models import (
    InvalidReportError,
    QueuedReport,
    ReportHeader,
    normalize_id,
)

from .queue_support import wsjf

RICH = {
    "type": "T",
    "id": "7D3C9A1E-8B2F-4C55-B0E1-5A9D2E6F4C21",
    "pn": "CTRL-2000",
    "sn": "C2K-24-0042",
    "rev": "B3",
    "processCode": 100,
    "result": "F",
    "machineName": "EOL-3",
    "location": "Plant A",
    "purpose": "Production",
    "start": "2025-03-01T14:02:11.250+01:00",
    "startUTC": "2025-03-01T13:02:11.250Z",
    "uut": {"user": "kari", "testSocketIndex": 0, "fixtureId": "FX-07", "batchSN": "LOT-118",
            "stepIdCausedUUTFailure": 4},
    "root": {"id": 0, "name": "MainSequence Callback", "status": "F", "steps": [
        {"id": 1, "name": "Power on", "status": "D"},
        {"id": 2, "name": "Power rails", "status": "F", "steps": [
            {"id": 3, "name": "Rails", "status": "P"},
            {"id": 4, "name": "Idle current", "status": "F", "causedUUTFailure": True},
        ]},
        {"id": 5, "name": "LED check", "status": "P"},
    ]},
}  # fmt: skip


def test_header_of_a_failing_report_names_the_step_by_id() -> None:
    header = ReportHeader.from_wsjf(RICH)
    assert header == ReportHeader(
        type="T",
        pn="CTRL-2000",
        rev="B3",
        sn="C2K-24-0042",
        process_code=100,
        process_name=None,
        result="F",
        start="2025-03-01T14:02:11.250+01:00",
        start_utc=datetime(2025, 3, 1, 13, 2, 11, 250000, tzinfo=UTC).timestamp(),
        station="EOL-3",
        location="Plant A",
        purpose="Production",
        operator="kari",
        fixture_id="FX-07",
        batch_sn="LOT-118",
        socket_index=0,
        failing_step_name="Idle current",
        failing_step_path="MainSequence Callback/Power rails/Idle current",
    )


def test_failing_step_falls_back_to_the_marked_then_the_innermost_failed_step() -> None:
    marked = json.loads(json.dumps(RICH))
    marked["uut"]["stepIdCausedUUTFailure"] = 2  # the flag wins over the id, as in app.core
    header = ReportHeader.from_wsjf(marked)
    assert header.failing_step_path == "MainSequence Callback/Power rails/Idle current"
    del marked["root"]["steps"][1]["steps"][1]["causedUUTFailure"]
    assert ReportHeader.from_wsjf(marked).failing_step_name == "Power rails"

    # The real FAT sample marks nothing; its failed leaf sits under a passed group.
    sample = json.loads(sample_path("wsjf-uut-minimal.json").read_bytes())
    header = ReportHeader.from_wsjf(sample)
    assert (header.failing_step_name, header.failing_step_path) == (
        "Multiple tests",
        "MainSequence Callback/Pass/Fail tests/Multiple tests",
    )
    # Lenient "…00.Z" startUTC from Virinco's samples.
    assert header.start_utc == datetime(2020, 1, 1, 8, tzinfo=UTC).timestamp()
    assert header.operator == "OperationsTest"


def test_a_passed_report_has_no_failing_step_and_start_utc_comes_from_start() -> None:
    header = ReportHeader.from_wsjf(wsjf(result="P", start="2025-03-01T10:15:00+01:00"))
    assert header.failing_step_name is None
    assert header.failing_step_path is None
    assert header.start_utc == datetime(2025, 3, 1, 9, 15, tzinfo=UTC).timestamp()


def test_repair_report_takes_operator_from_uur() -> None:
    sample = json.loads(sample_path("wsjf-uur.json").read_bytes())
    header = ReportHeader.from_wsjf(sample)
    assert (header.type, header.process_code, header.operator) == ("R", 500, "TestUser")
    assert header.failing_step_name is None


def test_ids_are_lowercase_uuids() -> None:
    assert normalize_id(" 7D3C9A1E-8B2F-4C55-B0E1-5A9D2E6F4C21 ") == (
        "7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21"
    )
    with pytest.raises(InvalidReportError, match="not a UUID"):
        normalize_id("report-1")
    with pytest.raises(InvalidReportError, match="no id"):
        normalize_id(None)


def test_queued_report_from_payload_reads_id_and_header() -> None:
    payload = json.dumps(RICH).encode()
    queued = QueuedReport.from_payload(payload)
    assert queued.id == "7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21"
    assert queued.header.sn == "C2K-24-0042"
    assert queued.payload is payload
    with pytest.raises(InvalidReportError, match="not valid JSON"):
        QueuedReport.from_payload(b"{nope")
    with pytest.raises(InvalidReportError, match="not a JSON object"):
        QueuedReport.from_payload(b"[1]")
