"""The header of a report: the few fields the queue lists and the yield engine counts.

A flat, frozen summary that is cheap to keep for every report ever sent, long after its
payload is pruned (DESIGN.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.core.report import ReportError, Step, UURReport, UUTReport, iter_steps


@dataclass(frozen=True, slots=True)
class ReportHeader:
    """Header of one report. `start` keeps its offset; `start_utc` is in UTC.

    `station` is the report's machineName, `operator` its uut/uur user. The failing step
    fields name the step that caused a test report to fail, its path joined by "/" from the
    root ("MainSequence Callback/Power rails/Idle current"); None when nothing failed.
    """

    id: str
    type: Literal["T", "R"]
    pn: str
    rev: str
    sn: str
    process_code: int
    process_name: str | None
    result: str
    start: datetime
    start_utc: datetime
    station: str
    location: str | None
    purpose: str | None
    operator: str | None
    batch_sn: str | None = None
    fixture_id: str | None = None
    socket_index: int | None = None
    failing_step_name: str | None = None
    failing_step_path: str | None = None


def header_of(report: UUTReport | UURReport) -> ReportHeader:
    """The header of a complete report.

    Raises `ReportError` when a field the server needs is still missing: the id (see
    `ensure_id`), the result (see Active mode), the station name or a process code.
    """
    if report.id is None:
        raise ReportError("field required (no id assigned yet)", field="id")
    if report.result is None:
        raise ReportError("field required (verdicts not computed yet)", field="result")
    if report.machine_name is None:
        raise ReportError("field required (no station name)", field="machineName")
    if report.process_code is None:
        raise ReportError("field required (only a process name is given)", field="processCode")
    start, start_utc = report.start_times()
    uut = report.uut if isinstance(report, UUTReport) else None
    failing = _failing_step(report) if isinstance(report, UUTReport) else None
    return ReportHeader(
        id=str(report.id),
        type=report.type,
        pn=report.pn,
        rev=report.rev,
        sn=report.sn,
        process_code=report.process_code,
        process_name=report.process_name,
        result=report.result,
        start=start,
        start_utc=start_utc,
        station=report.machine_name,
        location=report.location,
        purpose=report.purpose,
        operator=uut.user if uut is not None else _uur_user(report),
        batch_sn=uut.batch_sn if uut is not None else None,
        fixture_id=uut.fixture_id if uut is not None else None,
        socket_index=uut.test_socket_index if uut is not None else None,
        failing_step_name=failing[0].name if failing else None,
        failing_step_path="/".join(failing[1]) if failing else None,
    )


def _uur_user(report: UUTReport | UURReport) -> str | None:
    return report.uur.user if isinstance(report, UURReport) else None


def _failing_step(report: UUTReport) -> tuple[Step, tuple[str, ...]] | None:
    # The flagged step; failing that, the step whose id the uut header names.
    wanted = report.uut.step_id_caused_uut_failure
    by_id: tuple[Step, tuple[str, ...]] | None = None
    for step, path in iter_steps(report.root):
        if step.caused_uut_failure:
            return step, path
        if by_id is None and wanted is not None and step.id == wanted:
            by_id = (step, path)
    return by_id
