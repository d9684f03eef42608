"""Verdicts of a test report in "Active" mode (wats-api.md §3.5, DESIGN.md §6).

In Active mode the client, not the tester, decides pass and fail: each measurement from its
operator and limits, each step from its measurements and children, the report from its
steps, and it marks the step that caused the failure. In Import mode the file's statuses are
kept as given (`apply_mode(report, "import")` does nothing); converters whose files may leave
some statuses out fill in only those with `fill_missing_verdicts`.

Rules (docs/report-model.md has the operator table and an example):

- Numeric: LOG always passes. Any other operator fails on a missing or NaN value, or a
  missing or NaN limit it needs. Single-limit operators (EQ NE GT GE LT LE) read `lowLimit`.
  CASESENSIT/IGNORECASE on a number fail (they compare text).
- String: CASESENSIT (or EQ) equal exactly, IGNORECASE equal ignoring case, NE not equal,
  LOG passes; any other operator fails. A missing value or limit fails unless LOG.
- Boolean measurements keep their status. Skipped (S) measurements are not evaluated.
- A step with measurements is F if any measurement or child fails, S if every measurement
  was skipped, else P. A step without measurements keeps its status unless a child fails
  (then F); with no status given it becomes P (has children) or D (a leaf).
- Skipped (S) steps are not evaluated at all, nor anything under them. E (error) and T
  (terminated) steps keep their status. Neither S nor D makes a parent fail.
- The report result is decided by the *first* step, depth-first in report order, whose own
  outcome is F, E or T: that letter becomes the result, P when there is none. "Own" means
  not merely inherited from a child: a failing measurement, or a status given as F/E/T.
  So an error after a failure leaves the report F, and a failure after an error leaves it E.
- When the result is F, that first failing step gets `causedUUTFailure=true` and its id goes
  into `uut.stepIdCausedUUTFailure`; every other step's flag is cleared.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import count
from typing import Literal

from app.core.report import (
    NumericMeasurement,
    Step,
    StringMeasurement,
    UURReport,
    UUTReport,
    iter_steps,
)
from app.core.report_types import CompOp, ReportResult, StepStatus

ConverterMode = Literal["active", "import"]

_Compare = Callable[[float, float], bool]
_ONE_LIMIT: dict[CompOp, _Compare] = {
    CompOp.EQ: lambda x, low: x == low,
    CompOp.NE: lambda x, low: x != low,
    CompOp.GT: lambda x, low: x > low,
    CompOp.GE: lambda x, low: x >= low,
    CompOp.LT: lambda x, low: x < low,
    CompOp.LE: lambda x, low: x <= low,
}
_Window = Callable[[float, float, float], bool]
_TWO_LIMITS: dict[CompOp, _Window] = {
    CompOp.GTLT: lambda x, low, high: low < x < high,
    CompOp.GELE: lambda x, low, high: low <= x <= high,
    CompOp.GELT: lambda x, low, high: low <= x < high,
    CompOp.GTLE: lambda x, low, high: low < x <= high,
    # Outside-the-window operators pass when the value is beyond either limit.
    CompOp.LTGT: lambda x, low, high: x < low or x > high,
    CompOp.LEGE: lambda x, low, high: x <= low or x >= high,
    CompOp.LEGT: lambda x, low, high: x <= low or x > high,
    CompOp.LTGE: lambda x, low, high: x < low or x >= high,
}


def numeric_passes(
    comp_op: CompOp, value: float | None, low_limit: float | None, high_limit: float | None
) -> bool:
    """Whether a numeric measurement passes `comp_op` with the limits of §3.5."""
    if comp_op is CompOp.LOG:
        return True
    if value is None or math.isnan(value):
        return False
    one = _ONE_LIMIT.get(comp_op)
    if one is not None:
        return low_limit is not None and not math.isnan(low_limit) and one(value, low_limit)
    two = _TWO_LIMITS.get(comp_op)
    if two is None or low_limit is None or high_limit is None:
        return False  # a string operator on a number, or a limit missing
    if math.isnan(low_limit) or math.isnan(high_limit):
        return False
    return two(value, low_limit, high_limit)


def string_passes(comp_op: CompOp, value: str | None, limit: str | None) -> bool:
    """Whether a string measurement passes: exact, case-insensitive or log only."""
    if comp_op is CompOp.LOG:
        return True
    if value is None or limit is None:
        return False
    if comp_op in (CompOp.CASESENSIT, CompOp.EQ):
        return value == limit
    if comp_op is CompOp.IGNORECASE:
        return value.casefold() == limit.casefold()
    if comp_op is CompOp.NE:
        return value != limit
    return False


def _numeric_status(meas: NumericMeasurement) -> Literal["P", "F"]:
    passed = numeric_passes(meas.comp_op, meas.value, meas.low_limit, meas.high_limit)
    return "P" if passed else "F"


def _string_status(meas: StringMeasurement) -> Literal["P", "F"]:
    return "P" if string_passes(meas.comp_op, meas.value, meas.limit) else "F"


def _measurement_statuses(step: Step) -> list[str]:
    # Sets each evaluated measurement's status; returns every measurement's status.
    statuses: list[str] = []
    for numeric in step.numeric_meas or ():
        if numeric.status != "S":
            numeric.status = _numeric_status(numeric)
        statuses.append(numeric.status)
    for text in step.string_meas or ():
        if text.status != "S":
            text.status = _string_status(text)
        statuses.append(text.status)
    statuses.extend(boolean.status or "" for boolean in step.boolean_meas or ())
    return statuses


_RESULT_OF: dict[str, ReportResult] = {"F": "F", "E": "E", "T": "T"}


class _FirstOutcome:
    """The first step in report order whose own outcome is F, E or T."""

    def __init__(self) -> None:
        self.order = -1
        self.step: Step | None = None

    def offer(self, order: int, step: Step) -> None:
        if self.step is None or order < self.order:
            self.order, self.step = order, step


def _evaluate(step: Step, order: count[int], first: _FirstOutcome) -> StepStatus | None:
    position = next(order)
    if step.status == "S":
        return "S"
    child_failed = False
    for child in step.steps or ():
        if _evaluate(child, order, first) == "F":
            child_failed = True
    given = step.status
    if given in ("E", "T"):
        if step.has_measurements:
            _measurement_statuses(step)
        first.offer(position, step)
        return given
    if step.has_measurements:
        statuses = _measurement_statuses(step)
        own_failure = "F" in statuses
        if own_failure or child_failed:
            step.status = "F"
        elif statuses and all(status == "S" for status in statuses):
            step.status = "S"
        else:
            step.status = "P"
    else:
        own_failure = given == "F" and not child_failed
        if child_failed:
            step.status = "F"
        elif given is None:
            step.status = "P" if step.steps else "D"
    if own_failure:
        first.offer(position, step)
    return step.status


def apply_verdicts(report: UUTReport) -> None:
    """Compute every verdict of `report` in place (Active mode; rules in the module doc)."""
    first = _FirstOutcome()
    _evaluate(report.root, count(), first)
    for step, _path in iter_steps(report.root):
        step.caused_uut_failure = False
    origin = first.step
    result = _RESULT_OF.get(origin.status or "", "P") if origin is not None else "P"
    report.result = result
    if result == "F" and origin is not None:
        origin.caused_uut_failure = True
        report.uut.step_id_caused_uut_failure = origin.id
    else:
        report.uut.step_id_caused_uut_failure = None


def fill_missing_verdicts(report: UUTReport) -> None:
    """Import mode for files that leave statuses out: compute only the empty ones.

    Every given status is kept. An empty measurement status comes from its operator and
    limits. Children settle before their parents, so an empty step status follows its
    measurements and children: F when one failed, P when it has any, D for a bare leaf. An
    empty result follows the root: its F, E or T, else P. Failure causes stay as given.
    """
    order = [step for step, _path in iter_steps(report.root)]
    for step in reversed(order):
        for numeric in step.numeric_meas or ():
            if numeric.status is None:
                numeric.status = _numeric_status(numeric)
        for text in step.string_meas or ():
            if text.status is None:
                text.status = _string_status(text)
        if step.status is not None:
            continue
        statuses: list[str | None] = [meas.status for meas in step.numeric_meas or ()]
        statuses += [meas.status for meas in step.string_meas or ()]
        statuses += [meas.status for meas in step.boolean_meas or ()]
        statuses += [child.status for child in step.steps or ()]
        if "F" in statuses:
            step.status = "F"
        elif statuses:
            step.status = "P"
        else:
            step.status = "D"
    if report.result is None:
        root_status = report.root.status or ""
        report.result = _RESULT_OF.get(root_status, "P")


def apply_mode(report: UUTReport | UURReport, mode: ConverterMode) -> None:
    """Active: compute the verdicts of a test report. Import: keep the statuses as given.

    Repair reports carry no measurements, so both modes leave them as they are.
    """
    if mode == "active":
        if isinstance(report, UUTReport):
            apply_verdicts(report)
    elif mode != "import":
        raise ValueError(f"unknown converter mode {mode!r}")


__all__ = [
    "ConverterMode",
    "apply_mode",
    "apply_verdicts",
    "fill_missing_verdicts",
    "numeric_passes",
    "string_passes",
]
