"""The header of a stored report: what queries, yield and read-back need, taken from WSJF.

Header rows follow wats-api.md §2.6. `result` is the full word (Passed, Failed, Error,
Terminated) and `reportType` is U (test) or R (repair), as WATS writes them in exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from app.core.unit_yield import YieldRecord
from app.devserver.timeparse import parse_time

RESULT_WORDS = {"P": "Passed", "F": "Failed", "E": "Error", "T": "Terminated"}
RESULT_LETTERS = {word.lower(): letter for letter, word in RESULT_WORDS.items()}


@dataclass(frozen=True)
class ReportHeader:
    uuid: str
    report_type: str  # "T" or "R", as in WSJF
    sn: str
    pn: str
    rev: str
    process_code: int
    process_name: str
    result: str  # WSJF letter
    station: str
    location: str
    purpose: str
    start: datetime  # aware, in the station's own offset
    operator: str = ""
    batch: str = ""
    comment: str = ""
    exec_time: float | None = None
    sw_filename: str = ""
    sw_version: str = ""
    socket_index: int | None = None
    fixture_id: str = ""
    error_code: int | None = None
    error_message: str = ""
    product_name: str = ""
    misc: tuple[tuple[str, str], ...] = ()  # (description, value) pairs
    referenced_uut: str = ""

    @property
    def start_utc(self) -> datetime:
        return self.start.astimezone(UTC)

    @property
    def result_word(self) -> str:
        return RESULT_WORDS.get(self.result, self.result)

    @cached_property
    def yield_record(self) -> YieldRecord:
        # Cached: queries and yield read it for every stored report on every call.
        return YieldRecord(
            sn=self.sn,
            pn=self.pn,
            process_code=self.process_code,
            start_utc=self.start_utc,
            result=self.result,
            station=self.station,
            rev=self.rev,
            operator=self.operator,
            report_id=self.uuid,
            process_name=self.process_name,
            product_name=self.product_name,
            location=self.location,
            purpose=self.purpose,
            batch=self.batch,
            sw_filename=self.sw_filename,
            sw_version=self.sw_version,
            fixture_id=self.fixture_id,
            socket_index=self.socket_index,
            error_code=self.error_code,
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _misc_pairs(misc_infos: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(misc_infos, list):
        return ()
    pairs = []
    for item in misc_infos:
        if isinstance(item, dict):
            value = item.get("text")
            if value is None and item.get("numeric") is not None:
                value = item["numeric"]
            pairs.append((_text(item.get("description")), _text(value)))
    return tuple(pairs)


def header_from_wsjf(
    report: dict[str, Any], uuid: str, process_name: str, received: datetime
) -> ReportHeader:
    """The header of a validated WSJF report.

    `process_name` is the server's name for the process code (the report's own name is used
    when the server has none). A missing or unreadable `start` falls back to `startUTC` and
    then to the receive time, as WATS replaces invalid dates with the submit time.
    """
    start = parse_time(report.get("start")) or parse_time(report.get("startUTC")) or received
    detail = _object(report.get("uut") if report.get("type") == "T" else report.get("uur"))
    seq_call = _object(_object(report.get("root")).get("seqCall"))
    return ReportHeader(
        uuid=uuid,
        report_type=str(report["type"]),
        sn=str(report["sn"]),
        pn=str(report["pn"]),
        rev=_text(report.get("rev")),
        process_code=int(report["processCode"]),
        process_name=process_name or _text(report.get("processName")),
        result=_text(report.get("result")).upper()[:1],
        station=_text(report.get("machineName")),
        location=_text(report.get("location")),
        purpose=_text(report.get("purpose")),
        start=start,
        operator=_text(detail.get("user")),
        batch=_text(detail.get("batchSN")),
        comment=_text(detail.get("comment")),
        exec_time=_float_or_none(detail.get("execTime")),
        sw_filename=_text(seq_call.get("path") or seq_call.get("name")),
        sw_version=_text(seq_call.get("version")).strip(),
        socket_index=_int_or_none(detail.get("testSocketIndex")),
        fixture_id=_text(detail.get("fixtureId")),
        error_code=_int_or_none(detail.get("errorCode")),
        error_message=_text(detail.get("errorMessage")),
        product_name=_text(report.get("productName")),
        misc=_misc_pairs(report.get("miscInfos")),
        referenced_uut=_text(detail.get("refUUT")) if report.get("type") == "R" else "",
    )


def header_row(
    header: ReportHeader,
    *,
    run: int,
    passed_in_run: int,
    receive_count: int,
    report_size: int,
    timestamp: int,
) -> dict[str, Any]:
    """One row of `GET /api/Report/Query/Header` (wats-api.md §2.6)."""
    return {
        "uuid": header.uuid,
        "serialNumber": header.sn,
        "partNumber": header.pn,
        "revision": header.rev,
        "reportType": "U" if header.report_type == "T" else "R",
        "start": header.start.isoformat(),
        "result": header.result_word,
        "batchNumber": header.batch,
        "userName": header.operator,
        "stationName": header.station,
        "location": header.location,
        "purpose": header.purpose,
        "processCode": header.process_code,
        "processName": header.process_name,
        "comment": header.comment,
        "executionTime": header.exec_time,
        "swFilename": header.sw_filename,
        "swVersion": header.sw_version,
        "testSocketIndex": header.socket_index,
        "fixtureId": header.fixture_id,
        "errorCode": header.error_code,
        "errorMessage": header.error_message,
        "run": run,
        "passedInRun": passed_in_run,
        "receiveCount": receive_count,
        "reportSize": report_size,
        "timeStamp": timestamp,
        "causedUutFailure": None,
        "causedUutFailurePath": None,
        "referencedUut": header.referenced_uut or None,
        "measuresDeleted": False,
    }
