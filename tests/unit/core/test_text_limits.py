"""The server's text rules: trimming, unstorable characters, length limits in both modes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

from app.core.report import ReportError, UURReport, UUTReport, parse_report
from app.core.text_limits import (
    LIMITS,
    ValidationMode,
    clean_text,
    cut_to,
    enforce_limits,
    utf16_length,
)
from tests.unit.core.wsjf_examples import MINIMAL_UUT, as_json, full_uur, full_uut


def minimal() -> UUTReport:
    report = parse_report(MINIMAL_UUT)
    assert isinstance(report, UUTReport)
    return report


def limited_fields(node: BaseModel) -> list[tuple[BaseModel, str, int]]:
    """Every (object, field, limit) of the §3.9 table present in `node`'s tree."""
    found: list[tuple[BaseModel, str, int]] = []
    for name, limit in LIMITS.get(type(node), {}).items():
        found.append((node, name, limit))
    for name in type(node).model_fields:
        value = getattr(node, name)
        children = value if isinstance(value, list) else [value]
        for child in children:
            if isinstance(child, BaseModel):
                found.extend(limited_fields(child))
    return found


# ---------------------------------------------------------------- the limits table


def test_the_limits_are_those_of_the_spec() -> None:
    def limit(model: type[BaseModel], field: str) -> int:
        return LIMITS[model][field]

    from app.core import report as r

    assert limit(r.NumericMeasurement, "unit") == 20
    assert limit(r.Chart, "x_unit") == limit(r.Chart, "y_unit") == 20
    assert limit(r.SequenceCall, "version") == limit(r.Step, "ts_guid") == 30
    assert limit(r.MiscInfo, "typedef") == limit(r.Chart, "chart_type") == 30
    assert limit(r.SubUnit, "part_type") == limit(r.Failure, "com_ref") == 50
    assert limit(r.Chart, "label") == limit(r.Chart, "x_label") == limit(r.Chart, "y_label") == 50
    for field in ("pn", "sn", "rev", "machine_name", "location", "purpose"):
        assert limit(UUTReport, field) == limit(UURReport, field) == 100
    assert limit(r.UUTInfo, "user") == limit(r.UURInfo, "user") == 100
    assert limit(r.UUTInfo, "batch_sn") == limit(r.UUTInfo, "fixture_id") == 100
    assert limit(r.Step, "name") == limit(r.NumericMeasurement, "name") == 100
    assert limit(r.StringMeasurement, "value") == limit(r.StringMeasurement, "limit") == 100
    assert limit(r.MiscInfo, "text") == 100
    assert limit(r.SequenceCall, "name") == limit(r.Step, "error_message") == 200
    assert limit(r.MessagePopup, "response") == 200
    assert limit(r.SequenceCall, "path") == limit(r.UUTInfo, "error_message") == 500
    assert limit(r.UUTInfo, "comment") == limit(r.UURInfo, "comment") == 5000
    assert limit(r.Step, "report_text") == 100_000
    assert limit(r.BinaryData, "content_type") == 100
    assert limit(r.BinaryData, "name") == 256
    assert limit(r.AdditionalData, "name") == 200
    for model, fields in LIMITS.items():
        assert set(fields) <= set(model.model_fields), model.__name__


@pytest.mark.parametrize("build", [full_uut, full_uur])
def test_truncate_cuts_every_limited_field_to_its_limit(build: Any) -> None:
    report = parse_report(as_json(build()))
    fields = limited_fields(report)
    assert len(fields) >= 20
    for owner, name, limit in fields:
        setattr(owner, name, "x" * (limit + 5))
    assert enforce_limits(report, "truncate") is report
    for owner, name, limit in fields:
        assert getattr(owner, name) == "x" * limit, f"{type(owner).__name__}.{name}"


@pytest.mark.parametrize("build", [full_uut, full_uur])
def test_values_at_their_limit_are_kept_in_reject_mode(build: Any) -> None:
    report = parse_report(as_json(build()))
    fields = limited_fields(report)
    for owner, name, limit in fields:
        setattr(owner, name, "y" * limit)
    before = report.to_json()
    enforce_limits(report, "reject")
    assert report.to_json() == before


# ---------------------------------------------------------------- reject mode


def test_reject_names_the_field_and_its_limit() -> None:
    report = minimal()
    report.sn = "S" * 130
    with pytest.raises(ReportError) as caught:
        enforce_limits(report, "reject")
    assert str(caught.value) == "sn: 130 characters, the limit is 100"
    assert caught.value.field == "sn"


def test_reject_names_a_nested_field_by_its_wsjf_path() -> None:
    report = minimal()
    assert report.root.steps is not None
    step = report.root.steps[0]
    assert step.numeric_meas is not None
    step.numeric_meas[0].unit = "V" * 21
    with pytest.raises(ReportError) as caught:
        enforce_limits(report, "reject")
    assert str(caught.value) == "root.steps[0].numericMeas[0].unit: 21 characters, the limit is 20"


def test_reject_lists_every_violation_and_changes_nothing() -> None:
    report = minimal()
    report.pn = "  P  "
    report.sn = "S" * 101
    report.uut.user = "U" * 150
    before = report.model_copy(deep=True)
    with pytest.raises(ReportError) as caught:
        enforce_limits(report, "reject")
    assert caught.value.problems == [
        "sn: 101 characters, the limit is 100",
        "uut.user: 150 characters, the limit is 100",
    ]
    assert report == before  # not even the trimming of pn happened


def test_reject_counts_after_trimming() -> None:
    report = minimal()
    report.sn = "   " + "S" * 100 + "   "
    enforce_limits(report, "reject")
    assert report.sn == "S" * 100


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown validation mode"):
        enforce_limits(minimal(), "ignore")  # type: ignore[arg-type]


# ---------------------------------------------------------------- truncate mode, trimming


def test_truncate_cuts_and_trims() -> None:
    report = minimal()
    report.sn = "S" * 130
    report.pn = "  PN-100\t"
    enforce_limits(report, "truncate")
    assert report.sn == "S" * 100
    assert report.pn == "PN-100"


def test_unlimited_fields_are_cleaned_but_not_trimmed() -> None:
    report = minimal()
    report.process_name = "  Final\x00 test  "
    enforce_limits(report, "truncate")
    assert report.process_name == "  Final test  "


# ---------------------------------------------------------------- unstorable characters


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A\x00B\x08C\x0bD\x0cE\x0eF\x1fG", "ABCDEFG"),
        ("tab\tnewline\ncr\r", "tab\tnewline\ncr\r"),
        ("lone \ud800 surrogate \udfff", "lone  surrogate "),
        ("non-characters \ufffe\uffff", "non-characters "),
        ("emoji 😀 and Å stay", "emoji 😀 and Å stay"),
        ("", ""),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


@pytest.mark.parametrize("mode", ["reject", "truncate"])
def test_unstorable_characters_are_stripped_in_both_modes_everywhere(mode: ValidationMode) -> None:
    report = minimal()
    report.sn = "SN\x00-1"
    assert report.root.steps is not None
    report.root.steps[0].report_text = "line\x01one\nline two"
    report.root.steps[0].step_type = "ET\x02_NLT"
    enforce_limits(report, mode)
    assert report.sn == "SN-1"
    assert report.root.steps[0].report_text == "lineone\nline two"
    assert report.root.steps[0].step_type == "ET_NLT"


def test_stripped_characters_reach_the_written_json() -> None:
    document = json.loads(MINIMAL_UUT)
    document["uut"]["user"] = "op\u00011"
    report = parse_report(document)
    enforce_limits(report, "truncate")
    assert json.loads(report.to_json())["uut"]["user"] == "op1"


# ---------------------------------------------------------------- UTF-16 lengths


def test_lengths_count_utf16_code_units_as_the_server_does() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("Åse") == 3
    assert utf16_length("😀") == 2
    assert utf16_length("a😀b") == 4


def test_cut_never_splits_a_character() -> None:
    assert cut_to("a😀b", 2) == "a"
    assert cut_to("a😀b", 3) == "a😀"
    assert cut_to("abc", 5) == "abc"


def test_an_emoji_can_push_a_value_over_its_limit() -> None:
    report = minimal()
    report.sn = "S" * 99 + "😀"  # 99 + 2 = 101 code units
    with pytest.raises(ReportError, match=r"^sn: 101 characters, the limit is 100$"):
        enforce_limits(report, "reject")
    enforce_limits(report, "truncate")
    assert report.sn == "S" * 99


def test_the_full_reports_reach_every_limited_field() -> None:
    # So the truncate test above covers the whole table, not just part of it.
    seen = {
        (type(owner), name)
        for build in (full_uut, full_uur)
        for owner, name, _ in limited_fields(parse_report(as_json(build())))
    }
    table = {(model, name) for model, fields in LIMITS.items() for name in fields}
    assert table - seen == set()
