"""Active-mode verdicts: every operator at and around its limits, steps, propagation."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from app.core.report import (
    BooleanMeasurement,
    CompOp,
    NumericMeasurement,
    Step,
    StringMeasurement,
    UURReport,
    UUTReport,
    iter_steps,
    parse_report,
)
from app.core.verdict import apply_mode, apply_verdicts, numeric_passes, string_passes
from app.samples import sample_path
from tests.unit.core.wsjf_examples import REPAIR, RICHER_UUT

LOW, HIGH = 1.0, 2.0
EPS = 1e-9
AT_LOW, AT_HIGH = LOW, HIGH
IN_LOW, IN_HIGH = LOW + EPS, HIGH - EPS  # just inside the window
OUT_LOW, OUT_HIGH = LOW - EPS, HIGH + EPS  # just outside the window

# (operator, value, expected pass) — single-limit operators use lowLimit only (§3.5).
ONE_LIMIT_TABLE = [
    (CompOp.EQ, AT_LOW, True), (CompOp.EQ, OUT_LOW, False), (CompOp.EQ, IN_LOW, False),
    (CompOp.NE, AT_LOW, False), (CompOp.NE, OUT_LOW, True), (CompOp.NE, IN_LOW, True),
    (CompOp.GT, AT_LOW, False), (CompOp.GT, IN_LOW, True), (CompOp.GT, OUT_LOW, False),
    (CompOp.GE, AT_LOW, True), (CompOp.GE, IN_LOW, True), (CompOp.GE, OUT_LOW, False),
    (CompOp.LT, AT_LOW, False), (CompOp.LT, OUT_LOW, True), (CompOp.LT, IN_LOW, False),
    (CompOp.LE, AT_LOW, True), (CompOp.LE, OUT_LOW, True), (CompOp.LE, IN_LOW, False),
]  # fmt: skip

WINDOW_TABLE = [
    # inside-the-window operators
    (CompOp.GTLT, AT_LOW, False), (CompOp.GTLT, AT_HIGH, False),
    (CompOp.GTLT, IN_LOW, True), (CompOp.GTLT, IN_HIGH, True),
    (CompOp.GTLT, OUT_LOW, False), (CompOp.GTLT, OUT_HIGH, False),
    (CompOp.GELE, AT_LOW, True), (CompOp.GELE, AT_HIGH, True),
    (CompOp.GELE, IN_LOW, True), (CompOp.GELE, IN_HIGH, True),
    (CompOp.GELE, OUT_LOW, False), (CompOp.GELE, OUT_HIGH, False),
    (CompOp.GELT, AT_LOW, True), (CompOp.GELT, AT_HIGH, False),
    (CompOp.GELT, IN_LOW, True), (CompOp.GELT, IN_HIGH, True),
    (CompOp.GELT, OUT_LOW, False), (CompOp.GELT, OUT_HIGH, False),
    (CompOp.GTLE, AT_LOW, False), (CompOp.GTLE, AT_HIGH, True),
    (CompOp.GTLE, IN_LOW, True), (CompOp.GTLE, IN_HIGH, True),
    (CompOp.GTLE, OUT_LOW, False), (CompOp.GTLE, OUT_HIGH, False),
    # outside-the-window operators
    (CompOp.LTGT, AT_LOW, False), (CompOp.LTGT, AT_HIGH, False),
    (CompOp.LTGT, IN_LOW, False), (CompOp.LTGT, IN_HIGH, False),
    (CompOp.LTGT, OUT_LOW, True), (CompOp.LTGT, OUT_HIGH, True),
    (CompOp.LEGE, AT_LOW, True), (CompOp.LEGE, AT_HIGH, True),
    (CompOp.LEGE, IN_LOW, False), (CompOp.LEGE, IN_HIGH, False),
    (CompOp.LEGE, OUT_LOW, True), (CompOp.LEGE, OUT_HIGH, True),
    (CompOp.LEGT, AT_LOW, True), (CompOp.LEGT, AT_HIGH, False),
    (CompOp.LEGT, IN_LOW, False), (CompOp.LEGT, IN_HIGH, False),
    (CompOp.LEGT, OUT_LOW, True), (CompOp.LEGT, OUT_HIGH, True),
    (CompOp.LTGE, AT_LOW, False), (CompOp.LTGE, AT_HIGH, True),
    (CompOp.LTGE, IN_LOW, False), (CompOp.LTGE, IN_HIGH, False),
    (CompOp.LTGE, OUT_LOW, True), (CompOp.LTGE, OUT_HIGH, True),
]  # fmt: skip

WINDOW_OPS = sorted({op for op, _, _ in WINDOW_TABLE})
ONE_LIMIT_OPS = sorted({op for op, _, _ in ONE_LIMIT_TABLE})
COMPARING_OPS = ONE_LIMIT_OPS + WINDOW_OPS


def one_step_report(*measurements: NumericMeasurement) -> UUTReport:
    step = Step(id=1, step_type="ET_MNLT", name="Meas", numeric_meas=list(measurements))
    return UUTReport(
        pn="PN",
        sn="SN",
        rev="A",
        process_code=10,
        machine_name="ST",
        start=datetime(2025, 3, 1, tzinfo=UTC),
        root=Step(id=0, step_type="SequenceCall", name="Main", steps=[step]),
    )


# ---------------------------------------------------------------- numeric operators


@pytest.mark.parametrize(("op", "value", "passes"), ONE_LIMIT_TABLE)
def test_single_limit_operators(op: CompOp, value: float, passes: bool) -> None:
    assert numeric_passes(op, value, LOW, None) is passes


@pytest.mark.parametrize(("op", "value", "passes"), WINDOW_TABLE)
def test_window_operators(op: CompOp, value: float, passes: bool) -> None:
    assert numeric_passes(op, value, LOW, HIGH) is passes


@pytest.mark.parametrize(("op", "value", "passes"), ONE_LIMIT_TABLE + WINDOW_TABLE)
def test_operator_tables_through_a_report(op: CompOp, value: float, passes: bool) -> None:
    high = HIGH if op in WINDOW_OPS else None
    report = one_step_report(
        NumericMeasurement(comp_op=op, value=value, low_limit=LOW, high_limit=high, status="S")
    )
    report.root.steps[0].numeric_meas[0].status = None  # type: ignore[index]
    apply_verdicts(report)
    expected = "P" if passes else "F"
    assert report.root.steps[0].numeric_meas[0].status == expected  # type: ignore[index]
    assert report.result == expected


@pytest.mark.parametrize("value", [None, math.nan, 0.0, math.inf, -math.inf])
def test_log_always_passes(value: float | None) -> None:
    assert numeric_passes(CompOp.LOG, value, None, None) is True


@pytest.mark.parametrize("op", COMPARING_OPS)
@pytest.mark.parametrize("value", [None, math.nan])
def test_missing_or_nan_value_fails_every_comparing_operator(
    op: CompOp, value: float | None
) -> None:
    assert numeric_passes(op, value, LOW, HIGH) is False


@pytest.mark.parametrize("op", COMPARING_OPS)
def test_missing_low_limit_fails(op: CompOp) -> None:
    assert numeric_passes(op, 1.5, None, HIGH) is False


@pytest.mark.parametrize("op", COMPARING_OPS)
def test_nan_low_limit_fails(op: CompOp) -> None:
    assert numeric_passes(op, 1.5, math.nan, HIGH) is False


@pytest.mark.parametrize("op", WINDOW_OPS)
@pytest.mark.parametrize("high", [None, math.nan])
def test_window_operator_without_high_limit_fails(op: CompOp, high: float | None) -> None:
    assert numeric_passes(op, 0.0, LOW, high) is False
    assert numeric_passes(op, 1.5, LOW, high) is False


@pytest.mark.parametrize("op", [CompOp.LT, CompOp.LE])
def test_lt_and_le_read_their_limit_from_low_limit_only(op: CompOp) -> None:
    assert numeric_passes(op, 0.5, 1.0, None) is True
    # A limit written in highLimit is not the LT/LE limit (§3.5): missing limit → fail.
    assert numeric_passes(op, 0.5, None, 1.0) is False


@pytest.mark.parametrize("op", [CompOp.CASESENSIT, CompOp.IGNORECASE])
def test_string_operators_on_a_number_fail(op: CompOp) -> None:
    assert numeric_passes(op, 1.0, 1.0, None) is False


def test_infinite_values_compare_as_numbers() -> None:
    assert numeric_passes(CompOp.LE, math.inf, 1.0, None) is False
    assert numeric_passes(CompOp.GELE, 5.0, -math.inf, math.inf) is True


# ---------------------------------------------------------------- string operators


@pytest.mark.parametrize(
    ("op", "value", "limit", "passes"),
    [
        (CompOp.CASESENSIT, "3.4.1", "3.4.1", True),
        (CompOp.CASESENSIT, "abc", "ABC", False),
        (CompOp.CASESENSIT, "abc", "abd", False),
        (CompOp.IGNORECASE, "abc", "ABC", True),
        (CompOp.IGNORECASE, "Straße", "STRASSE", True),
        (CompOp.IGNORECASE, "abc", "abd", False),
        (CompOp.EQ, "abc", "abc", True),
        (CompOp.EQ, "abc", "ABC", False),
        (CompOp.NE, "abc", "abd", True),
        (CompOp.NE, "abc", "abc", False),
        (CompOp.LOG, "anything", None, True),
        (CompOp.LOG, None, None, True),
        (CompOp.CASESENSIT, "abc", None, False),
        (CompOp.IGNORECASE, None, "abc", False),
        (CompOp.GELE, "abc", "abc", False),
        (CompOp.CASESENSIT, "", "", True),
    ],
)
def test_string_operators(op: CompOp, value: str | None, limit: str | None, passes: bool) -> None:
    assert string_passes(op, value, limit) is passes


# ---------------------------------------------------------------- steps and the report


def test_failing_nested_step_marks_its_parents_and_the_report() -> None:
    report = parse_report(RICHER_UUT)
    assert isinstance(report, UUTReport)
    for step, _ in iter_steps(report.root):  # forget every verdict the file had
        step.caused_uut_failure = False
        if step.status in ("P", "F"):
            step.status = "P"
    report.result = "P"
    report.uut.step_id_caused_uut_failure = None
    apply_verdicts(report)
    statuses = {step.name: step.status for step, _ in iter_steps(report.root)}
    assert statuses == {
        "MainSequence Callback": "F",
        "Power on": "D",
        "Power rails": "F",
        "Rails": "P",
        "Idle current": "F",
        "LED check": "P",
        "FW version": "P",
        "Ramp": "P",
        "Save log": "D",
    }
    flagged = [step.id for step, _ in iter_steps(report.root) if step.caused_uut_failure]
    assert flagged == [4]
    assert report.uut.step_id_caused_uut_failure == 4
    assert report.result == "F"


def test_only_the_first_failing_leaf_is_flagged_and_stale_flags_are_cleared() -> None:
    first = Step(
        id=2, name="first", numeric_meas=[NumericMeasurement(value=5, comp_op="LE", low_limit=1)]
    )
    second = Step(id=3, name="second", boolean_meas=[BooleanMeasurement(status="F")])
    stale = Step(id=4, name="stale", status="P", caused_uut_failure=True)
    seq = Step(id=1, name="seq", step_type="SequenceCall", steps=[first, second])
    report = one_step_report()
    report.root.steps = [seq, stale]
    report.uut.step_id_caused_uut_failure = 4
    apply_verdicts(report)
    assert [s.id for s, _ in iter_steps(report.root) if s.caused_uut_failure] == [2]
    assert report.uut.step_id_caused_uut_failure == 2
    assert (first.status, second.status, seq.status, stale.status) == ("F", "F", "F", "P")


def test_passing_report_clears_a_stale_failure() -> None:
    report = one_step_report(
        NumericMeasurement(value=1.5, comp_op="GELE", low_limit=1, high_limit=2)
    )
    report.root.steps[0].caused_uut_failure = True  # type: ignore[index]
    report.uut.step_id_caused_uut_failure = 1
    report.result = "F"
    apply_verdicts(report)
    assert report.result == "P"
    assert report.uut.step_id_caused_uut_failure is None
    assert not any(step.caused_uut_failure for step, _ in iter_steps(report.root))


def test_step_with_measurements_passes_when_none_fail() -> None:
    report = one_step_report(
        NumericMeasurement(value=1.5, comp_op="GELE", low_limit=1, high_limit=2, status="F"),
        NumericMeasurement(value=9.0, comp_op="LOG"),
    )
    apply_verdicts(report)
    step = report.root.steps[0]  # type: ignore[index]
    assert [m.status for m in step.numeric_meas or ()] == ["P", "P"]
    assert step.status == "P"
    assert report.root.status == "P"  # no status given, has children
    assert report.result == "P"


def test_boolean_measurements_keep_their_status() -> None:
    step = Step(id=1, name="LEDs", status="D", boolean_meas=[BooleanMeasurement(status="P")])
    report = one_step_report()
    report.root.steps = [step]
    apply_verdicts(report)
    assert step.boolean_meas is not None
    assert step.boolean_meas[0].status == "P"
    assert step.status == "P"  # the FAT export's "D with a passing boolean" case

    step.boolean_meas[0].status = "F"
    apply_verdicts(report)
    assert step.status == "F"
    assert report.result == "F"


def test_skipped_measurements_are_not_evaluated() -> None:
    report = one_step_report(
        NumericMeasurement(value=None, comp_op="GELE", low_limit=1, high_limit=2, status="S")
    )
    apply_verdicts(report)
    step = report.root.steps[0]  # type: ignore[index]
    assert step.numeric_meas[0].status == "S"  # type: ignore[index]
    assert step.status == "S"  # every measurement skipped
    assert report.result == "P"


def test_string_measurement_verdict_in_a_step() -> None:
    step = Step(
        id=1,
        name="FW",
        string_meas=[StringMeasurement(value="3.4.1", comp_op="IgnoreCase", limit="3.4.2")],
    )
    report = one_step_report()
    report.root.steps = [step]
    apply_verdicts(report)
    assert step.string_meas is not None
    assert step.string_meas[0].status == "F"
    assert step.status == "F"
    assert report.result == "F"


def test_steps_without_measurements_keep_their_status_unless_a_child_fails() -> None:
    done = Step(id=1, name="done", status="D")
    unknown = Step(id=2, name="no status")
    passing_seq = Step(id=3, name="seq", status="D", steps=[Step(id=4, name="leaf", status="P")])
    report = one_step_report()
    report.root.steps = [done, unknown, passing_seq]
    apply_verdicts(report)
    assert (done.status, unknown.status, passing_seq.status) == ("D", "D", "D")
    assert report.root.status == "P"
    assert report.result == "P"


def test_a_step_given_as_failed_without_measurements_fails_the_report() -> None:
    action = Step(id=1, name="flash firmware", step_type="ET_A", status="F")
    report = one_step_report()
    report.root.steps = [action]
    apply_verdicts(report)
    assert report.result == "F"
    assert action.caused_uut_failure is True
    assert report.uut.step_id_caused_uut_failure == 1


def test_skipped_steps_are_not_evaluated_and_do_not_fail_parents() -> None:
    failing = Step(
        id=2, name="x", numeric_meas=[NumericMeasurement(value=9, comp_op="LE", low_limit=1)]
    )
    skipped = Step(id=1, name="skipped seq", status="S", steps=[failing])
    report = one_step_report()
    report.root.steps = [skipped]
    apply_verdicts(report)
    assert skipped.status == "S"
    assert failing.status is None
    assert failing.numeric_meas is not None
    assert failing.numeric_meas[0].status is None
    assert report.result == "P"


def test_error_step_makes_the_report_error() -> None:
    error = Step(id=1, name="instrument", status="E")
    report = one_step_report()
    report.root.steps = [error, Step(id=2, name="ok", status="P")]
    apply_verdicts(report)
    assert report.result == "E"
    assert error.status == "E"
    assert report.uut.step_id_caused_uut_failure is None
    assert not error.caused_uut_failure


def test_terminated_step_makes_the_report_terminated() -> None:
    report = one_step_report()
    report.root.steps = [Step(id=1, name="operator abort", status="T")]
    apply_verdicts(report)
    assert report.result == "T"


def test_a_failure_before_an_error_wins() -> None:
    failing = Step(
        id=1, name="f", numeric_meas=[NumericMeasurement(value=9, comp_op="LE", low_limit=1)]
    )
    error = Step(id=2, name="e", status="E")
    report = one_step_report()
    report.root.steps = [failing, error]
    apply_verdicts(report)
    assert report.result == "F"
    assert failing.caused_uut_failure is True
    assert report.uut.step_id_caused_uut_failure == 1


def test_an_error_before_a_failure_wins() -> None:
    error = Step(id=1, name="e", status="E")
    failing = Step(
        id=2, name="f", numeric_meas=[NumericMeasurement(value=9, comp_op="LE", low_limit=1)]
    )
    report = one_step_report()
    report.root.steps = [error, failing]
    apply_verdicts(report)
    assert report.result == "E"
    assert failing.status == "F"  # still evaluated
    assert not failing.caused_uut_failure


def test_error_step_keeps_its_status_but_its_measurements_are_evaluated() -> None:
    step = Step(
        id=1,
        name="e",
        status="E",
        numeric_meas=[NumericMeasurement(value=0.5, comp_op="GE", low_limit=1)],
    )
    report = one_step_report()
    report.root.steps = [step]
    apply_verdicts(report)
    assert step.status == "E"
    assert step.numeric_meas is not None
    assert step.numeric_meas[0].status == "F"
    assert report.result == "E"


def test_sample_in_active_mode_propagates_the_failed_pass_fail_step() -> None:
    report = parse_report(sample_path("wsjf-uut-minimal.json").read_bytes())
    assert isinstance(report, UUTReport)
    apply_mode(report, "active")
    by_id = {step.id: step for step, _ in iter_steps(report.root)}
    # The file says "Pass/Fail tests" passed although its child "Multiple tests" failed.
    assert by_id[5].status == "F"
    assert by_id[7].caused_uut_failure is True
    assert report.uut.step_id_caused_uut_failure == 7
    assert report.root.status == "F"
    assert report.result == "F"


def test_import_mode_keeps_every_status() -> None:
    report = parse_report(sample_path("wsjf-uut-minimal.json").read_bytes())
    before = report.to_json()
    apply_mode(report, "import")
    assert report.to_json() == before


def test_repair_reports_are_left_alone_in_both_modes() -> None:
    report = parse_report(REPAIR)
    assert isinstance(report, UURReport)
    before = report.to_json()
    apply_mode(report, "active")
    apply_mode(report, "import")
    assert report.to_json() == before


def test_unknown_mode_is_refused() -> None:
    report = parse_report(REPAIR)
    with pytest.raises(ValueError, match="unknown converter mode"):
        apply_mode(report, "auto")  # type: ignore[arg-type]


def test_verdicts_are_written_as_letters() -> None:
    document = json.loads(RICHER_UUT)
    document["root"]["steps"][1]["steps"][1]["numericMeas"][0]["status"] = "P"
    report = parse_report(document)
    assert isinstance(report, UUTReport)
    apply_verdicts(report)
    written = report.to_wsjf()
    idle = written["root"]["steps"][1]["steps"][1]
    assert idle["numericMeas"][0]["status"] == "F"
    assert idle["causedUUTFailure"] is True
    assert written["result"] == "F"
    assert written["uut"]["stepIdCausedUUTFailure"] == 4
