"""Import mode for files that leave statuses out: only the empty statuses are computed."""

from __future__ import annotations

from datetime import UTC, datetime

from app.core.report import (
    BooleanMeasurement,
    CompOp,
    NumericMeasurement,
    Step,
    StringMeasurement,
    UUTReport,
    number_steps,
)
from app.core.verdict import fill_missing_verdicts


def _report(*steps: Step, result: str | None = None) -> UUTReport:
    root = Step(name="MainSequence Callback", step_type="SequenceCall", steps=list(steps))
    number_steps(root)
    return UUTReport(
        pn="PN-1",
        sn="SN-1",
        rev="A",
        process_code=10,
        machine_name="station",
        start=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        result=result,
        root=root,
    )


def _numeric(value: float, status: str | None = None) -> NumericMeasurement:
    return NumericMeasurement(
        value=value, comp_op=CompOp.GELE, low_limit=1.0, high_limit=2.0, status=status
    )


def test_empty_measurement_statuses_come_from_their_limits() -> None:
    step = Step(
        name="Rail",
        numeric_meas=[_numeric(1.5), _numeric(3.0)],
        string_meas=[StringMeasurement(value="ok", limit="OK", comp_op=CompOp.IGNORECASE)],
    )
    report = _report(step)
    fill_missing_verdicts(report)
    assert step.numeric_meas is not None
    assert step.string_meas is not None
    assert [meas.status for meas in step.numeric_meas] == ["P", "F"]
    assert step.string_meas[0].status == "P"
    assert step.status == "F"
    assert report.root.status == "F"
    assert report.result == "F"


def test_given_statuses_win_over_the_limits() -> None:
    # The tester said this out-of-limit value passed, and the step too: Import keeps both.
    step = Step(name="Rail", status="P", numeric_meas=[_numeric(3.0, status="P")])
    report = _report(step, result="P")
    fill_missing_verdicts(report)
    assert step.numeric_meas is not None
    assert step.numeric_meas[0].status == "P"
    assert step.status == "P"
    assert report.root.status == "P"
    assert report.result == "P"


def test_empty_step_statuses_follow_children_and_a_bare_leaf_is_done() -> None:
    failed = Step(name="Check", boolean_meas=[BooleanMeasurement(status="F")])
    leaf = Step(name="Action")
    group = Step(name="Group", step_type="SequenceCall", steps=[leaf, failed])
    passing = Step(name="Passing group", step_type="SequenceCall", steps=[Step(name="A")])
    report = _report(group, passing)
    fill_missing_verdicts(report)
    assert leaf.status == "D"
    assert failed.status == "F"
    assert group.status == "F"
    assert passing.status == "P"
    assert report.result == "F"


def test_an_error_at_the_root_becomes_the_result_and_causes_stay_as_given() -> None:
    step = Step(name="Rail", numeric_meas=[_numeric(1.5)])
    report = _report(step)
    report.root.status = "E"
    fill_missing_verdicts(report)
    assert step.status == "P"
    assert report.result == "E"
    assert report.uut.step_id_caused_uut_failure is None
    assert step.caused_uut_failure is False
