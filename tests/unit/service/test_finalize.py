"""finalize_reports: deterministic ids, fallbacks, limits, Active mode and old dates."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from app.converters.base import Converter, ConverterParameters, ConverterSource, Report
from app.converters.finalize import finalize_reports
from app.core.report import ReportError, UURReport, UUTReport, parse_report
from app.core.report_ids import deterministic_report_id

SHA = "ab" * 32
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


class ActiveConverter(Converter):
    name: ClassVar[str] = "unit-active"

    def convert(self, source: ConverterSource) -> list[Report]:
        raise NotImplementedError


class ImportingConverter(ActiveConverter):
    name: ClassVar[str] = "unit-import"
    always_import: ClassVar[bool] = True


def uut(**fields: Any) -> UUTReport:
    doc: dict[str, Any] = {
        "type": "T",
        "pn": "PN-1",
        "sn": "SN-1",
        "rev": "A",
        "processCode": 10,
        "result": "P",
        "machineName": "",
        "start": "2025-03-01T10:15:00+01:00",
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "P",
            "steps": [
                {
                    "id": 1,
                    "group": "M",
                    "stepType": "ET_NLT",
                    "name": "Supply",
                    "status": "P",
                    "numericMeas": [
                        {
                            "name": None,
                            "status": "P",
                            "compOp": "GELE",
                            "value": 5.3,
                            "lowLimit": 4.9,
                            "highLimit": 5.1,
                        }
                    ],
                }
            ],
        },
    }
    doc.update(fields)
    report = parse_report(doc)
    assert isinstance(report, UUTReport)
    return report


def finalize(
    reports: list[Report],
    params: ConverterParameters | None = None,
    converter: Converter | None = None,
) -> list[Report]:
    return finalize_reports(
        reports,
        converter=converter or ActiveConverter(),
        params=params or ConverterParameters(),
        file_sha256=SHA,
        station_default="THIS-PC",
        now=NOW,
    )


def test_missing_and_zero_ids_become_deterministic() -> None:
    given = uuid.UUID("0b6f2a52-3c1e-4f0e-9a57-2d1c4b7e9f10")
    reports: list[Report] = [
        uut(),
        uut(id="00000000-0000-0000-0000-000000000000"),
        uut(id=str(given)),
    ]
    finished = finalize(reports)
    assert [r.id for r in finished] == [
        deterministic_report_id("unit-active", SHA, 0),
        deterministic_report_id("unit-active", SHA, 1),
        given,
    ]
    again = finalize([uut(), uut(id="00000000-0000-0000-0000-000000000000")])
    assert [r.id for r in again] == [r.id for r in finished[:2]]


def test_fallbacks_fill_only_what_is_missing() -> None:
    params = ConverterParameters(
        fallback_rev="B",
        location="Plant A",
        purpose="Production",
        operator="kari",
    )
    missing, complete = finalize(
        [
            uut(rev=""),
            uut(machineName="EOL-3", location="Lab", purpose="Debug", uut={"user": "ola"}),
        ],
        params,
    )
    assert isinstance(missing, UUTReport)
    assert isinstance(complete, UUTReport)
    assert (missing.machine_name, missing.rev, missing.location, missing.purpose) == (
        "THIS-PC",
        "B",
        "Plant A",
        "Production",
    )
    assert missing.uut.user == "kari"
    assert (complete.machine_name, complete.rev, complete.location, complete.purpose) == (
        "EOL-3",
        "A",
        "Lab",
        "Debug",
    )
    assert complete.uut.user == "ola"


def test_station_parameter_beats_the_host_name() -> None:
    (report,) = finalize([uut()], ConverterParameters(station="LINE-1"))
    assert report.machine_name == "LINE-1"


def test_repair_report_operator_fallback() -> None:
    repair = parse_report(
        {
            "type": "R",
            "pn": "PN",
            "sn": "SN",
            "rev": "A",
            "processCode": 500,
            "result": "P",
            "machineName": "R1",
            "start": "2025-03-02T09:00:00+01:00",
            "uur": {"processCode": 100},
        }
    )
    (report,) = finalize([repair], ConverterParameters(operator="tech2"))
    assert isinstance(report, UURReport)
    assert report.uur.user == "tech2"


def test_limits_truncate_or_reject() -> None:
    (report,) = finalize([uut(sn="S" * 130)], ConverterParameters(validation_mode="truncate"))
    assert report.sn == "S" * 100
    with pytest.raises(ReportError, match="sn"):
        finalize([uut(sn="S" * 130)], ConverterParameters(validation_mode="reject"))


def test_active_mode_computes_verdicts_import_keeps_them() -> None:
    (active,) = finalize([uut()], ConverterParameters(mode="active"))
    (imported,) = finalize([uut()], ConverterParameters(mode="import"))
    (always,) = finalize([uut()], ConverterParameters(mode="active"), ImportingConverter())
    assert isinstance(active, UUTReport)
    assert active.result == "F"  # 5.3 is outside 4.9..5.1
    assert active.uut.step_id_caused_uut_failure == 1
    assert imported.result == "P"
    assert always.result == "P"


def test_dates_before_1970_become_the_conversion_time() -> None:
    (report,) = finalize([uut(start="1969-12-31T23:00:00+00:00")])
    assert report.start == NOW
    (recent,) = finalize([uut()])
    assert recent.start is not None
    assert recent.start.year == 2025
