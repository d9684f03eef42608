"""Lenient reading of WSJF (what testers and servers really write) and readable errors."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.core.report import (
    CompOp,
    ReportError,
    UURReport,
    UUTReport,
    ensure_id,
    parse_report,
    replace_invalid_dates,
)
from app.core.report_types import COMP_OP_CODES
from tests.unit.core.wsjf_examples import MINIMAL_UUT, REPAIR

Document = dict[str, Any]


def minimal() -> Document:
    document: Document = json.loads(MINIMAL_UUT)
    return document


def measurement(document: Document) -> Document:
    result: Document = document["root"]["steps"][0]["numericMeas"][0]
    return result


def parse_uut(document: Document | str | bytes) -> UUTReport:
    report = parse_report(document if isinstance(document, str | bytes) else json.dumps(document))
    assert isinstance(report, UUTReport)
    return report


def first_numeric(report: UUTReport) -> Any:
    steps = report.root.steps
    assert steps is not None
    assert steps[0].numeric_meas is not None
    return steps[0].numeric_meas[0]


# ---------------------------------------------------------------- comparison operators


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("GELE", CompOp.GELE),
        ("gele", CompOp.GELE),
        ("IgnoreCase", CompOp.IGNORECASE),
        ("IGNORECASE", CompOp.IGNORECASE),
        (" lt ", CompOp.LT),
        ("Log", CompOp.LOG),
        ("CaseSensitive", CompOp.CASESENSIT),
        ("7", CompOp.GELE),
        ("no such operator", CompOp.LOG),
        ("", CompOp.LOG),
        (None, CompOp.LOG),
        (99, CompOp.LOG),
        (7.0, CompOp.GELE),
        (True, CompOp.LOG),
    ],
)
def test_comp_op_is_read_leniently(written: Any, expected: CompOp) -> None:
    document = minimal()
    measurement(document)["compOp"] = written
    assert first_numeric(parse_uut(document)).comp_op is expected


@pytest.mark.parametrize(("code", "expected"), sorted(COMP_OP_CODES.items()))
def test_every_csharp_operator_code_is_read(code: int, expected: CompOp) -> None:
    document = minimal()
    measurement(document)["compOp"] = code
    report = parse_uut(document)
    assert first_numeric(report).comp_op is expected
    assert report.to_wsjf()["root"]["steps"][0]["numericMeas"][0]["compOp"] == expected.value


def test_missing_comp_op_is_log() -> None:
    document = minimal()
    del measurement(document)["compOp"]
    report = parse_uut(document)
    assert first_numeric(report).comp_op is CompOp.LOG
    assert report.to_wsjf()["root"]["steps"][0]["numericMeas"][0]["compOp"] == "LOG"


def test_csharp_codes_are_in_spec_order() -> None:
    assert [op.value for _, op in sorted(COMP_OP_CODES.items())] == [
        "EQ", "NE", "GT", "LT", "GE", "LE", "GTLT", "GELE", "GELT", "GTLE",
        "LTGT", "LEGE", "LEGT", "LTGE", "LOG", "CASESENSIT", "IGNORECASE",
    ]  # fmt: skip


# ---------------------------------------------------------------- letters


@pytest.mark.parametrize(
    ("written", "expected"),
    [("p", "P"), ("Passed", "P"), ("FAILED", "F"), (" f ", "F"), ("skipped", "S"), ("s", "S")],
)
def test_measurement_status_in_any_case(written: str, expected: str) -> None:
    document = minimal()
    measurement(document)["status"] = written
    assert first_numeric(parse_uut(document)).status == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [("d", "D"), ("Done", "D"), ("e", "E"), ("Error", "E"), ("terminated", "T"), ("u", "U")],
)
def test_step_status_in_any_case(written: str, expected: str) -> None:
    document = minimal()
    document["root"]["steps"][0]["status"] = written
    steps = parse_uut(document).root.steps
    assert steps is not None
    assert steps[0].status == expected


@pytest.mark.parametrize(("written", "expected"), [("f", "F"), ("Passed", "P"), ("e", "E")])
def test_result_in_any_case(written: str, expected: str) -> None:
    document = minimal()
    document["result"] = written
    assert parse_uut(document).result == expected


@pytest.mark.parametrize(("written", "expected"), [("s", "S"), ("Cleanup", "C"), ("main", "M")])
def test_group_in_any_case_and_missing_group_is_main(written: str, expected: str) -> None:
    document = minimal()
    document["root"]["steps"][0]["group"] = written
    del document["root"]["group"]
    report = parse_uut(document)
    assert report.root.group == "M"
    assert report.root.steps is not None
    assert report.root.steps[0].group == expected


@pytest.mark.parametrize("written", ["t", " T "])
def test_report_type_letter_in_any_case(written: str) -> None:
    document = minimal()
    document["type"] = written
    assert parse_uut(document).type == "T"


def test_lower_case_repair_type_from_a_mapping() -> None:
    document = json.loads(REPAIR)
    document["type"] = "r"
    assert isinstance(parse_report(document), UURReport)


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2020-01-01T08:00:00.Z", datetime(2020, 1, 1, 8, tzinfo=UTC)),
        ("2020-08-05T07:03:58.7257865Z", datetime(2020, 8, 5, 7, 3, 58, 725786, tzinfo=UTC)),
        ("2020-01-01 08:00:00+02:00", datetime(2020, 1, 1, 6, tzinfo=UTC)),
        ("2020-01-01T08:00:00.123+01:00", datetime(2020, 1, 1, 7, 0, 0, 123000, tzinfo=UTC)),
        ("2020-01-01T08:00:00", datetime(2020, 1, 1, 8).astimezone()),
        ("2020-01-01 08:00:00", datetime(2020, 1, 1, 8).astimezone()),
    ],
)
def test_start_in_the_forms_servers_and_testers_write(written: str, expected: datetime) -> None:
    document = minimal()
    document["start"] = written
    start = parse_uut(document).start
    assert start is not None
    assert start.utcoffset() is not None
    assert start == expected


@pytest.fixture
def oslo_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The station's zone is Europe/Oslo (+01:00 in winter, +02:00 in summer)."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset (not on Windows)")
    monkeypatch.setenv("TZ", "Europe/Oslo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("oslo_time")
def test_naive_start_is_the_station_local_time() -> None:
    document = minimal()
    document["start"] = "2020-06-01T08:00:00"
    written = parse_uut(document).to_wsjf()
    assert written["start"] == "2020-06-01T08:00:00+02:00"
    assert written["startUTC"] == "2020-06-01T06:00:00Z"


@pytest.mark.usefixtures("oslo_time")
def test_start_known_only_in_utc_is_written_in_the_station_zone() -> None:
    document = minimal()
    del document["start"]
    document["startUTC"] = "2020-01-15T06:00:00Z"
    written = parse_uut(document).to_wsjf()
    assert written["start"] == "2020-01-15T07:00:00+01:00"
    assert written["startUTC"] == "2020-01-15T06:00:00Z"


def test_naive_start_utc_is_utc() -> None:
    document = minimal()
    del document["start"]
    document["startUTC"] = "2020-06-01T08:00:00"
    report = parse_uut(document)
    assert report.start_utc == datetime(2020, 6, 1, 8, tzinfo=UTC)


def test_blank_optional_date_is_none() -> None:
    document = json.loads(REPAIR)
    document["uur"]["confirmDate"] = ""
    report = parse_report(document)
    assert isinstance(report, UURReport)
    assert report.uur.confirm_date is None


def test_csharp_min_date_is_read_and_written_without_overflow() -> None:
    document = minimal()
    document["root"]["steps"][0]["start"] = "0001-01-01T00:00:00"
    report = parse_uut(document)
    assert b'"start":"0001-01-01T00:00:00' in report.to_json()


# ---------------------------------------------------------------- numbers, ids, names


def test_numbers_given_as_strings() -> None:
    document = minimal()
    document["processCode"] = "10"
    document["root"]["steps"][0]["id"] = "1"
    measurement(document).update(value=" 5.02 ", lowLimit="4.9", highLimit="5.1")
    report = parse_uut(document)
    assert report.process_code == 10
    assert report.root.steps is not None
    assert report.root.steps[0].id == 1
    meas = first_numeric(report)
    assert (meas.value, meas.low_limit, meas.high_limit) == (5.02, 4.9, 5.1)


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_limits_are_missing_limits(blank: str) -> None:
    document = minimal()
    measurement(document).update(lowLimit=blank, highLimit=blank)
    meas = first_numeric(parse_uut(document))
    assert (meas.low_limit, meas.high_limit) == (None, None)


def test_serial_number_written_as_a_number_is_text() -> None:
    document = minimal()
    document["sn"] = 12345
    assert parse_uut(document).sn == "12345"


@pytest.mark.parametrize(
    "written",
    [None, "", "00000000-0000-0000-0000-000000000000", "{00000000-0000-0000-0000-000000000000}"],
)
def test_missing_empty_or_all_zero_id_reads_as_none(written: str | None) -> None:
    document = minimal()
    if written is None:
        del document["id"]
    else:
        document["id"] = written
    report = parse_uut(document)
    assert report.id is None
    assert "id" not in report.to_wsjf()


def test_ensure_id_uses_the_given_id_only_when_the_report_has_none() -> None:
    document = minimal()
    document["id"] = "00000000-0000-0000-0000-000000000000"
    report = parse_uut(document)
    wanted = uuid.UUID("11111111-2222-3333-4444-555555555555")
    ensure_id(report, wanted)
    assert report.id == wanted
    ensure_id(report, uuid.UUID("99999999-2222-3333-4444-555555555555"))
    assert report.id == wanted  # an id, once given, is kept
    assert report.to_wsjf()["id"] == str(wanted)


def test_ensure_id_without_an_id_makes_a_fresh_uuid4() -> None:
    report = parse_uut(json.dumps({**minimal(), "id": ""}))
    ensure_id(report)
    assert report.id is not None
    assert report.id.version == 4


def test_id_in_braces_and_upper_case_is_read() -> None:
    document = minimal()
    document["id"] = "{0B6F2A52-3C1E-4F0E-9A57-2D1C4B7E9F10}"
    assert parse_uut(document).id == uuid.UUID("0b6f2a52-3c1e-4f0e-9a57-2d1c4b7e9f10")


def test_pywats_asset_names_are_read_and_official_names_written() -> None:
    document = minimal()
    document["assets"] = [
        {"sn": "DMM-7", "assetType": "DMM", "partNumber": "34461A", "usageCount": 2}
    ]
    report = parse_uut(document)
    assert report.assets[0].asset_sn == "DMM-7"
    assert report.assets[0].asset_type == "DMM"
    assert report.to_wsjf()["assets"] == [{"assetSN": "DMM-7", "usageCount": 2}]


def test_pywats_loop_names_are_read_and_official_names_written() -> None:
    document = minimal()
    document["root"]["steps"][0]["loop"] = {"i": 2}
    document["root"]["loop"] = {"n": 5, "endingIndex": 4, "passed": 5, "failed": 0}
    written = parse_uut(document).to_wsjf()["root"]
    assert written["steps"][0]["loop"] == {"idx": 2}
    assert written["loop"] == {"num": 5, "endingIndex": 4, "passed": 5, "failed": 0}


def test_unknown_step_type_is_a_generic_step_with_all_common_fields() -> None:
    document = minimal()
    step = {
        "id": 2,
        "group": "C",
        "stepType": "NI_Wait_Custom",
        "name": "Settle",
        "status": "D",
        "totTime": 1.5,
        "reportText": "waited",
        "errorCode": 0,
        "tsGuid": "#TS:1",
        "causedUUTFailure": False,
        "vendorField": {"anything": 1},
    }
    document["root"]["steps"].append(step)
    written = parse_uut(document).to_wsjf()["root"]["steps"][1]
    del step["vendorField"]  # unknown keys are not sent to the server
    assert written == step


def test_nulls_the_csharp_exporter_writes_are_read() -> None:
    # Newtonsoft writes unset lists and chars as null in exports.
    document = minimal()
    document.update(miscInfos=None, subUnits=None, assets=None, binaryData=None)
    document["additionalData"] = [{"name": "x", "props": None}]
    document["root"].update(group=None, causedUUTFailure=None)
    document["root"]["steps"][0]["chart"] = {"chartType": "Line", "series": None}
    report = parse_uut(document)
    assert (report.misc_infos, report.sub_units, report.assets, report.binary_data) == (
        [],
        [],
        [],
        [],
    )
    assert report.additional_data[0].props == []
    assert report.root.group == "M"
    assert report.root.caused_uut_failure is False
    written = report.to_wsjf()
    assert written["miscInfos"] == []
    assert written["root"]["group"] == "M"


def test_unknown_keys_are_dropped() -> None:
    document = minimal()
    document["someVendorKey"] = 1
    measurement(document)["tolerance"] = 0.1
    written = parse_uut(document).to_wsjf()
    assert "someVendorKey" not in written
    assert "tolerance" not in written["root"]["steps"][0]["numericMeas"][0]


@pytest.mark.parametrize("wrap", [lambda text: text.encode(), lambda text: text])
def test_byte_order_mark_is_ignored(wrap: Callable[[str], str | bytes]) -> None:
    assert parse_uut(wrap("\ufeff" + MINIMAL_UUT)).pn == "PN-100"


def test_process_name_alone_is_enough() -> None:
    document = minimal()
    del document["processCode"]
    document["processName"] = "Final Function Test"
    report = parse_uut(document)
    assert report.process_code is None
    assert report.to_wsjf()["processName"] == "Final Function Test"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("change", "message", "field"),
    [
        (lambda d: d.pop("pn"), "pn: field required", "pn"),
        (lambda d: d.pop("root"), "root: field required", "root"),
        (lambda d: d.pop("type"), "type: field required", "type"),
        (lambda d: d.update(type="X"), "type: must be T or R (got 'X')", "type"),
        (lambda d: d.pop("start"), "start: field required", "start"),
        (
            lambda d: (d.pop("processCode"), d.pop("processName", None)),
            "processCode: field required",
            "processCode",
        ),
        (lambda d: d.update(id="abc"), "id: not a UUID (got 'abc')", "id"),
        (
            lambda d: d.update(start="yesterday"),
            "start: not a date and time (got 'yesterday')",
            "start",
        ),
        (
            lambda d: d.update(processCode=40000),
            "processCode: must be less than or equal to 32767 (got 40000)",
            "processCode",
        ),
        (
            lambda d: measurement(d).update(value="abc"),
            "root.steps[0].numericMeas[0].value: not a number (got 'abc')",
            "root.steps[0].numericMeas[0].value",
        ),
        (
            lambda d: measurement(d).update(status="Q"),
            "root.steps[0].numericMeas[0].status: must be one of P, F, S (got 'Q')",
            "root.steps[0].numericMeas[0].status",
        ),
        (
            lambda d: d["root"].update(status="x"),
            "root.status: must be one of P, F, D, S, E, T, U (got 'x')",
            "root.status",
        ),
        (lambda d: d["root"].update(steps={}), "root.steps: not a list", "root.steps"),
        (lambda d: d.update(uut=[]), "uut: not an object", "uut"),
        (lambda d: d.update(pn=None), "pn: must not be null", "pn"),
        (
            lambda d: d["root"].update(causedUUTFailure="maybe"),
            "root.causedUUTFailure: not true or false (got 'maybe')",
            "root.causedUUTFailure",
        ),
    ],
)
def test_errors_name_the_field_in_one_line(
    change: Callable[[Document], object], message: str, field: str
) -> None:
    document = minimal()
    change(document)
    with pytest.raises(ReportError) as caught:
        parse_report(json.dumps(document))
    assert str(caught.value) == message
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


def test_errors_from_a_mapping_read_the_same() -> None:
    document = minimal()
    del document["pn"]
    with pytest.raises(ReportError, match=r"^pn: field required$"):
        parse_report(document)


def test_every_problem_is_listed() -> None:
    document = minimal()
    del document["pn"]
    del document["sn"]
    with pytest.raises(ReportError) as caught:
        parse_report(json.dumps(document))
    assert str(caught.value) == "pn: field required"
    assert caught.value.problems == ["pn: field required", "sn: field required"]


def test_malformed_json_names_line_and_column() -> None:
    text = '{"type": "T",\n "pn": "x",\n    ,}'
    with pytest.raises(ReportError) as caught:
        parse_report(text)
    assert str(caught.value).startswith("not valid JSON: line 3 column 5: ")
    assert caught.value.field is None


@pytest.mark.parametrize("text", ["[1, 2]", '"report"', "42"])
def test_json_that_is_not_an_object(text: str) -> None:
    with pytest.raises(ReportError, match=r"^not a WSJF report: expected a JSON object$"):
        parse_report(text)


def test_report_error_is_a_value_error() -> None:
    assert issubclass(ReportError, ValueError)


# ---------------------------------------------------------------- dates before 1970 (§6.5)

SUBMIT = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))


def test_dates_before_1970_become_the_submit_time() -> None:
    document = minimal()
    document["start"] = "1899-12-30T00:00:00"
    document["startUTC"] = "1899-12-29T23:00:00Z"
    document["root"]["steps"][0]["start"] = "0001-01-01T00:00:00"
    report = parse_uut(document)
    changed = replace_invalid_dates(report, SUBMIT)
    assert changed == ["start", "MainSequence Callback/Supply 5V: start"]
    assert report.start == SUBMIT
    assert report.start_utc == datetime(2025, 3, 1, 11, tzinfo=UTC)
    assert report.root.steps is not None
    assert report.root.steps[0].start is None  # invented step times would mislead
    written = report.to_wsjf()
    assert written["start"] == "2025-03-01T12:00:00+01:00"
    assert written["startUTC"] == "2025-03-01T11:00:00Z"


def test_valid_dates_are_left_alone() -> None:
    report = parse_uut(minimal())
    before = report.to_json()
    assert replace_invalid_dates(report, SUBMIT) == []
    assert report.to_json() == before


def test_a_start_just_after_the_epoch_is_valid_and_just_before_is_not() -> None:
    document = minimal()
    document["start"] = "1970-01-01T00:30:00+01:00"  # 1969-12-31T23:30Z
    report = parse_uut(document)
    assert replace_invalid_dates(report, SUBMIT) == ["start"]
    document["start"] = "1970-01-01T00:00:00Z"
    report = parse_uut(document)
    assert replace_invalid_dates(report, SUBMIT) == []


def test_repair_dates_before_1970_are_removed() -> None:
    document = json.loads(REPAIR)
    document["uur"]["confirmDate"] = "1960-01-01T00:00:00Z"
    report = parse_report(document)
    assert isinstance(report, UURReport)
    assert replace_invalid_dates(report, SUBMIT) == ["uur.confirmDate"]
    assert report.uur.confirm_date is None
    assert report.uur.finalize_date is not None


def test_submit_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        replace_invalid_dates(parse_uut(minimal()), datetime(2025, 1, 1))
