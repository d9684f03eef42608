"""ReportHeader: the flat summary the queue and the yield engine keep for every report."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.core.report import ReportError, UUTReport, iter_steps, parse_report
from app.core.report_header import ReportHeader, header_of
from app.core.verdict import apply_verdicts
from tests.unit.core.wsjf_examples import MINIMAL_UUT, REPAIR, RICHER_UUT

PLUS_ONE = timezone(timedelta(hours=1))


def test_header_of_a_failing_test_report() -> None:
    header = header_of(parse_report(RICHER_UUT))
    assert header == ReportHeader(
        id="7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21",
        type="T",
        pn="CTRL-2000",
        rev="B3",
        sn="C2K-24-0042",
        process_code=100,
        process_name=None,
        result="F",
        start=datetime(2025, 3, 1, 14, 2, 11, 250000, tzinfo=PLUS_ONE),
        start_utc=datetime(2025, 3, 1, 13, 2, 11, 250000, tzinfo=UTC),
        station="EOL-3",
        location="Plant A",
        purpose="Production",
        operator="kari",
        batch_sn="LOT-118",
        fixture_id="FX-07",
        socket_index=0,
        failing_step_name="Idle current",
        failing_step_path="MainSequence Callback/Power rails/Idle current",
    )
    assert header.start.utcoffset() == timedelta(hours=1)
    assert header.start_utc.utcoffset() == timedelta(0)


def test_header_is_frozen() -> None:
    header = header_of(parse_report(MINIMAL_UUT))
    with pytest.raises(dataclasses.FrozenInstanceError):
        header.sn = "other"  # type: ignore[misc]


def test_header_of_a_passing_report_has_no_failing_step() -> None:
    header = header_of(parse_report(MINIMAL_UUT))
    assert header.result == "P"
    assert header.failing_step_name is None
    assert header.failing_step_path is None
    assert header.start_utc == datetime(2025, 3, 1, 9, 15, tzinfo=UTC)  # derived from start


def test_failing_step_found_by_id_when_no_step_is_flagged() -> None:
    report = parse_report(RICHER_UUT)
    assert isinstance(report, UUTReport)
    for step, _ in iter_steps(report.root):
        step.caused_uut_failure = False
    header = header_of(report)
    assert header.failing_step_path == "MainSequence Callback/Power rails/Idle current"


def test_header_follows_active_mode_verdicts() -> None:
    document = json.loads(MINIMAL_UUT)
    document["root"]["steps"][0]["numericMeas"][0]["value"] = 5.5
    report = parse_report(document)
    assert isinstance(report, UUTReport)
    apply_verdicts(report)
    header = header_of(report)
    assert header.result == "F"
    assert header.failing_step_name == "Supply 5V"
    assert header.failing_step_path == "MainSequence Callback/Supply 5V"


def test_header_of_a_repair_report() -> None:
    header = header_of(parse_report(REPAIR))
    assert header.type == "R"
    assert header.process_code == 500
    assert header.operator == "tech2"
    assert header.station == "REPAIR-1"
    assert (header.batch_sn, header.fixture_id, header.socket_index) == (None, None, None)
    assert header.failing_step_name is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("id"), "id: field required (no id assigned yet)"),
        (lambda d: d.pop("result"), "result: field required (verdicts not computed yet)"),
        (lambda d: d.pop("machineName"), "machineName: field required (no station name)"),
        (
            lambda d: (d.pop("processCode"), d.update(processName="EOL")),
            "processCode: field required (only a process name is given)",
        ),
    ],
)
def test_header_of_an_incomplete_report_says_what_is_missing(change: object, message: str) -> None:
    document = json.loads(MINIMAL_UUT)
    change(document)  # type: ignore[operator]
    report = parse_report(document)
    with pytest.raises(ReportError) as caught:
        header_of(report)
    assert str(caught.value) == message
