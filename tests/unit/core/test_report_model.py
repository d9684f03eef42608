"""WSJF report model: samples, round trips, the exact keys written, output-only fields."""

from __future__ import annotations

import gc
import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.core.report import (
    CompOp,
    ReportError,
    Step,
    UURReport,
    UUTReport,
    iter_steps,
    number_steps,
    parse_report,
)
from app.samples import SAMPLES_DIR, sample_path
from tests.unit.core.wsjf_examples import (
    MINIMAL_UUT,
    REPAIR,
    RICHER_UUT,
    as_json,
    full_uur,
    full_uut,
)

WSJF_SAMPLES = sorted(
    path.name
    for path in SAMPLES_DIR.glob("*.json")
    if '"type"' in path.read_text(encoding="utf-8")[:200]
)

# ---------------------------------------------------------------- allowed keys (wats-api.md §3)
# Per object type, the keys §3 lists. "+ WSJF.cs": numeric-format and step keys of Virinco's
# WSJF model (the source §3 names as its authority) that real exports carry.
TOP_COMMON = {
    "type", "id", "pn", "sn", "rev", "processCode", "processName", "result", "machineName",
    "location", "purpose", "start", "startUTC", "miscInfos", "subUnits", "assets", "binaryData",
    "additionalData",
}  # fmt: skip
TOP_UUT = TOP_COMMON | {"root", "uut"}
TOP_UUR = TOP_COMMON | {"uur"}
UUT_KEYS = {
    "user", "comment", "execTime", "testSocketIndex", "fixtureId", "batchSN", "batchFailCount",
    "batchLoopIndex", "errorCode", "errorMessage", "stepIdCausedUUTFailure",
    # *Format variants (§3.2)
    "execTimeFormat", "testSocketIndexFormat", "batchFailCountFormat", "batchLoopIndexFormat",
    "errorCodeFormat",
}  # fmt: skip
UUR_KEYS = {
    "user", "comment", "processCode", "processName", "refUUT", "confirmDate", "finalizeDate",
    "execTime", "parent", "children",
}  # fmt: skip
STEP_KEYS = {
    "id", "group", "stepType", "name", "status", "start", "totTime", "errorCode", "errorMessage",
    "reportText", "tsGuid", "causedUUTFailure", "causedSeqFailure", "loop", "steps", "seqCall",
    "numericMeas", "booleanMeas", "stringMeas", "chart", "attachment", "callExe", "messagePopup",
    "additionalResults",
    # + WSJF.cs
    "totTimeFormat", "errorCodeFormat", "interactiveExeNum", "interactiveExeNumFormat",
}  # fmt: skip
PROPERTY_KEYS = {"name", "type", "flags", "value", "numFormat", "comment", "props", "array"}
ALLOWED: dict[str, set[str]] = {
    "uut": UUT_KEYS,
    "uur": UUR_KEYS,
    "step": STEP_KEYS,
    "loop": {"idx", "num", "endingIndex", "passed", "failed"},
    "seqCall": {"path", "name", "version"},
    "numericMeas": {
        "name",
        "status",
        "value",
        "unit",
        "compOp",
        "lowLimit",
        "highLimit",
        "valueFormat",
        "lowLimitFormat",
        "highLimitFormat",
    },
    "booleanMeas": {"name", "status"},
    "stringMeas": {"name", "status", "value", "compOp", "limit"},
    "chart": {"chartType", "label", "xLabel", "xUnit", "yLabel", "yUnit", "series"},
    "series": {"dataType", "name", "xdata", "ydata"},
    "attachment": {"name", "contentType", "data"},
    "callExe": {"exitCode", "exitCodeFormat"},
    "messagePopup": {"response", "button", "buttonFormat"},
    "miscInfos": {"description", "text", "numeric", "numericFormat", "typedef", "id"},
    "subUnits": {
        "partType",
        "pn",
        "rev",
        "sn",
        "position",
        "idx",
        "parentIdx",
        "replacedIdx",
        "failures",
    },
    "failures": {
        "category",
        "code",
        "comment",
        "comRef",
        "funcBlock",
        "refStepId",
        "refStepName",
        "artNumber",
        "artRev",
        "artVendor",
        "artDescription",
        "attachments",
    },
    "assets": {"assetSN", "usageCount", "usageCountFormat"},
    "binaryData": {"contentType", "data", "name", "id"},
    "additionalData": {"name", "props"},
    "props": PROPERTY_KEYS,
    "array": {"dimension", "type", "indexes"},
    "indexes": {"text", "indexes", "value"},
}
OUTPUT_ONLY = {"origin", "productName", "processCodeFormat", "assetStats", "refUURs"}


def keys_by_object(document: dict[str, Any]) -> dict[str, set[str]]:
    """Every key written, grouped by the object type it appears in (union over instances)."""
    found: dict[str, set[str]] = {}

    def visit(kind: str, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(kind, item)
            return
        if not isinstance(node, dict):
            return
        found.setdefault(kind, set()).update(node)
        for key, value in node.items():
            child = {
                "root": "step",
                "steps": "step",
                "additionalResults": "additionalData",
                "attachments": "binaryData",
            }
            if kind == "indexes" and key == "value":
                visit("props", value)  # an array element is a property
                continue
            visit(child.get(key, key), value)

    found["top"] = set(document)
    for key, value in document.items():
        visit({"root": "step"}.get(key, key), value)
    return found


# ---------------------------------------------------------------- samples and round trips


def test_the_samples_include_both_report_types() -> None:
    assert WSJF_SAMPLES == ["wsjf-uur.json", "wsjf-uut-minimal.json"]


@pytest.mark.parametrize("name", WSJF_SAMPLES)
def test_every_wsjf_sample_parses_and_round_trips(name: str) -> None:
    data = sample_path(name).read_bytes()
    report = parse_report(data)
    again = parse_report(report.to_json())
    assert again == report
    assert again.to_json() == report.to_json()


def test_minimal_sample_reads_its_fields() -> None:
    report = parse_report(sample_path("wsjf-uut-minimal.json").read_bytes())
    assert isinstance(report, UUTReport)
    assert report.id == uuid.UUID("c3eef2e0-034f-4ae1-9f8a-498a6e213775")
    assert (report.pn, report.sn, report.rev, report.process_code) == (
        "FATPartNo",
        "FATTest-299",
        "Rev1",
        10,
    )
    assert report.start == datetime(2020, 1, 1, 9, tzinfo=timezone(timedelta(hours=1)))
    # "2020-01-01T08:00:00.Z": a decimal point with no digits, as Virinco's sample writes it.
    assert report.start_utc == datetime(2020, 1, 1, 8, tzinfo=UTC)
    steps = {step.id: step for step, _ in iter_steps(report.root)}
    assert len(steps) == 11
    assert steps[2].numeric_meas is not None
    assert steps[2].numeric_meas[0].comp_op is CompOp.LE
    assert steps[2].numeric_meas[0].low_limit == 500.0
    assert steps[2].numeric_meas[0].high_limit is None
    assert steps[9].string_meas is not None
    assert steps[9].string_meas[0].comp_op is CompOp.LOG  # written "Log"
    assert report.uut.user == "OperationsTest"


def test_uur_sample_round_trips_with_its_tree_and_attachments() -> None:
    report = parse_report(sample_path("wsjf-uur.json").read_bytes())
    assert isinstance(report, UURReport)
    assert report.process_code == 500
    assert report.uur.process_code == 10
    assert report.uur.ref_uut == uuid.UUID("b6c95876-cb19-4c43-a010-7e51a86b0886")
    # A naive confirm date is UTC; 7 fraction digits are cut to Python's 6.
    assert report.uur.confirm_date == datetime(2018, 4, 1, 13, 40, 40, tzinfo=UTC)
    assert report.uur.finalize_date == datetime(2020, 8, 5, 7, 3, 58, 725786, tzinfo=UTC)
    assert [unit.idx for unit in report.sub_units] == [0, 1, 3]
    failures = report.sub_units[0].failures
    assert failures is not None
    assert len(failures) == 3
    assert failures[0].attachments is not None
    assert failures[0].attachments[0].content_type == "image/png"
    written = report.to_wsjf()
    assert written["uur"]["confirmDate"] == "2018-04-01T13:40:40Z"
    assert written["subUnits"][1]["parentIdx"] == 0
    assert parse_report(report.to_json()) == report


@pytest.mark.parametrize("document", [MINIMAL_UUT, RICHER_UUT, REPAIR])
def test_spec_examples_round_trip(document: str) -> None:
    report = parse_report(document)
    again = parse_report(report.to_json())
    assert again.to_wsjf() == report.to_wsjf()


def test_richer_example_reads_every_payload() -> None:
    report = parse_report(RICHER_UUT)
    assert isinstance(report, UUTReport)
    steps = {step.id: step for step, _ in iter_steps(report.root)}
    assert steps[5].boolean_meas is not None
    assert steps[5].boolean_meas[0].status == "P"
    assert steps[6].string_meas is not None
    assert steps[6].string_meas[0].comp_op is CompOp.IGNORECASE
    assert steps[7].chart is not None
    assert steps[7].chart.series[0].xdata == "0;1;2"
    assert steps[8].attachment is not None
    assert steps[8].attachment.data == "aGVsbG8="
    assert report.uut.batch_sn == "LOT-118"
    assert report.uut.step_id_caused_uut_failure == 4
    assert report.assets[0].asset_sn == "DMM-0031"


# ---------------------------------------------------------------- keys written


@pytest.mark.parametrize(("build", "top"), [(full_uut, TOP_UUT), (full_uur, TOP_UUR)])
def test_a_full_report_writes_exactly_the_allowed_keys(build: Any, top: set[str]) -> None:
    written = parse_report(as_json(build())).to_wsjf()
    found = keys_by_object(written)
    assert found.pop("top") == top
    for kind, keys in found.items():
        assert kind in ALLOWED, f"unexpected object {kind!r}"
        assert keys <= ALLOWED[kind], f"{kind}: {sorted(keys - ALLOWED[kind])}"


def test_every_allowed_key_is_written_when_filled() -> None:
    # The full reports fill every field: none may be silently dropped by the model.
    found = keys_by_object(parse_report(as_json(full_uut())).to_wsjf())
    found_uur = keys_by_object(parse_report(as_json(full_uur())).to_wsjf())
    for kind, allowed in ALLOWED.items():
        seen = found.get(kind, set()) | found_uur.get(kind, set())
        assert seen == allowed, f"{kind}: missing {sorted(allowed - seen)}"


def test_output_only_fields_are_read_but_never_written() -> None:
    report = parse_report(as_json(full_uut()))
    assert report.origin == "00:11:22:33:44:55"
    assert report.product_name == "Controller"
    assert isinstance(report, UUTReport)
    assert report.uut.ref_uurs is not None
    text = report.to_json().decode()
    for key in OUTPUT_ONLY:
        assert f'"{key}"' not in text


def test_none_fields_are_omitted_and_statuses_and_operators_are_names() -> None:
    document = json.loads(MINIMAL_UUT)
    measurement = document["root"]["steps"][0]["numericMeas"][0]
    measurement.update(compOp=7, status="p")
    written = parse_report(document).to_wsjf()
    out = written["root"]["steps"][0]["numericMeas"][0]
    assert out == {
        "status": "P",
        "compOp": "GELE",
        "value": 5.02,
        "lowLimit": 4.9,
        "highLimit": 5.1,
        "unit": "V",
    }
    assert "processName" not in written


def test_to_json_is_utf8_and_to_wsjf_matches_it() -> None:
    document = json.loads(MINIMAL_UUT)
    document["uut"]["user"] = "Åse Øyen ✓"
    report = parse_report(document)
    data = report.to_json()
    assert "Åse Øyen ✓".encode() in data
    assert json.loads(data) == report.to_wsjf()


def test_nan_value_is_written_as_a_string_the_server_reads() -> None:
    # The server's measured value is a non-nullable double: null would be refused.
    document = MINIMAL_UUT.replace('"value":5.02', '"value":NaN')
    report = parse_report(document)
    out = report.to_wsjf()["root"]["steps"][0]["numericMeas"][0]
    assert out["value"] == "NaN"
    again = parse_report(report.to_json())
    assert isinstance(again, UUTReport)
    value = again.root.steps[0].numeric_meas[0].value  # type: ignore[index]
    assert value is not None
    assert math.isnan(value)


# ---------------------------------------------------------------- start / startUTC


def test_start_utc_is_derived_from_start_on_output() -> None:
    report = parse_report(MINIMAL_UUT)
    assert report.start_utc is None
    written = report.to_wsjf()
    assert written["start"] == "2025-03-01T10:15:00+01:00"
    assert written["startUTC"] == "2025-03-01T09:15:00Z"
    assert report.start_utc is None  # output does not change the model


def test_start_is_derived_from_start_utc_in_the_station_zone() -> None:
    document = json.loads(MINIMAL_UUT)
    del document["start"]
    document["startUTC"] = "2025-03-01T09:15:00Z"
    report = parse_report(document)
    written = report.to_wsjf()
    start = datetime.fromisoformat(written["start"])
    assert start == datetime(2025, 3, 1, 9, 15, tzinfo=UTC)
    assert start.utcoffset() == datetime(2025, 3, 1, 9, 15, tzinfo=UTC).astimezone().utcoffset()
    assert written["startUTC"] == "2025-03-01T09:15:00Z"


def test_start_utc_with_an_offset_is_written_in_utc() -> None:
    document = json.loads(MINIMAL_UUT)
    document["startUTC"] = "2025-03-01T10:15:00+01:00"
    assert parse_report(document).to_wsjf()["startUTC"] == "2025-03-01T09:15:00Z"


# ---------------------------------------------------------------- tree helpers


def test_iter_steps_is_depth_first_with_name_paths() -> None:
    report = parse_report(RICHER_UUT)
    assert isinstance(report, UUTReport)
    visited = [(step.id, "/".join(path)) for step, path in iter_steps(report.root)]
    assert visited == [
        (0, "MainSequence Callback"),
        (1, "MainSequence Callback/Power on"),
        (2, "MainSequence Callback/Power rails"),
        (3, "MainSequence Callback/Power rails/Rails"),
        (4, "MainSequence Callback/Power rails/Idle current"),
        (5, "MainSequence Callback/LED check"),
        (6, "MainSequence Callback/FW version"),
        (7, "MainSequence Callback/Ramp"),
        (8, "MainSequence Callback/Save log"),
    ]


def test_number_steps_numbers_in_tree_order() -> None:
    root = Step(
        name="Main",
        steps=[Step(name="a", steps=[Step(name="a1"), Step(name="a2")]), Step(name="b")],
    )
    number_steps(root)
    assert [(step.name, step.id) for step, _ in iter_steps(root)] == [
        ("Main", 0),
        ("a", 1),
        ("a1", 2),
        ("a2", 3),
        ("b", 4),
    ]


def test_reports_can_be_built_in_python_with_snake_case_names() -> None:
    report = UUTReport(
        pn="PN-1",
        sn="SN-1",
        rev="A",
        process_code=10,
        machine_name="ST-1",
        start=datetime(2025, 3, 1, 10, tzinfo=UTC),
        root=Step(step_type="SequenceCall", name="MainSequence Callback"),
    )
    written = report.to_wsjf()
    assert written["type"] == "T"
    assert written["machineName"] == "ST-1"
    assert written["root"] == {
        "group": "M",
        "stepType": "SequenceCall",
        "name": "MainSequence Callback",
        "causedUUTFailure": False,
    }
    assert "id" not in written  # no id until ensure_id gives one


# ---------------------------------------------------------------- large documents


def large_document(valid: bool = True) -> bytes:
    document = json.loads(MINIMAL_UUT)
    document["root"]["reportText"] = "x" * 300_000  # over the size that pauses the collector
    if not valid:
        document["pn"] = None
    return json.dumps(document).encode()


def test_parsing_a_large_report_leaves_the_garbage_collector_as_it_was() -> None:
    assert gc.isenabled()
    assert parse_report(large_document()).pn == "PN-100"
    assert gc.isenabled()
    with pytest.raises(ReportError, match=r"^pn: must not be null$"):
        parse_report(large_document(valid=False))
    assert gc.isenabled()


def test_a_disabled_garbage_collector_stays_disabled() -> None:
    gc.disable()
    try:
        parse_report(large_document())
        assert not gc.isenabled()
    finally:
        gc.enable()
