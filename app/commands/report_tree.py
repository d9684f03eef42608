"""A report as readable text: its header, then its step tree in aligned columns.

Used by `wats-station convert --show`. Nesting is indentation; a step or measurement that
failed (F, E, T) is marked with `x` in the first column, and the step that caused the
report's failure says so. Only ASCII besides the report's own text, so any console shows it.

    step                        value   unit  low   high  comp  status
    MainSequence Callback                                       F
      Supply 5V                 5.02    V     4.9   5.1   GELE  P
    x Idle current              0.412   A     0.35        LE    F  <- caused the failure
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.core.report import Step, UURReport, UUTReport

_COLUMNS = ("step", "value", "unit", "low", "high", "comp", "status")
_FAILED = frozenset({"F", "E", "T"})
_MAX_NAME = 60
_MAX_TEXT = 24


@dataclass
class _Line:
    depth: int
    name: str
    value: str = ""
    unit: str = ""
    low: str = ""
    high: str = ""
    comp: str = ""
    status: str = ""
    note: str = ""
    measurement_failed: bool = False  # a step sharing its line with a failed measurement

    @property
    def failed(self) -> bool:
        return self.status in _FAILED or self.measurement_failed


def report_summary(report: UUTReport | UURReport, index: int, count: int) -> str:
    """One line naming the report: kind, SN, PN, revision, process, station and result."""
    kind = "test report" if isinstance(report, UUTReport) else "repair report"
    process = report.process_code if report.process_code is not None else report.process_name
    parts = [
        f"{kind} {index} of {count}:",
        f"SN {report.sn or '-'}",
        f"PN {report.pn or '-'}",
        f"rev {report.rev or '-'}",
        f"process {process}",
        f"station {report.machine_name or '-'}",
        f"result {report.result or '-'}",
    ]
    return "  ".join(parts)


def render_report(report: UUTReport | UURReport) -> str:
    """The header details and, for a test report, the step tree; lines joined by newlines."""
    start = report.start or report.start_utc
    details = [
        f"  id       {report.id}",
        f"  start    {start.isoformat(sep=' ') if start else '-'}",
    ]
    user = report.uut.user if isinstance(report, UUTReport) else report.uur.user
    if user:
        details.append(f"  operator {user}")
    if not isinstance(report, UUTReport):
        return "\n".join(details)
    lines: list[_Line] = []
    _collect(report.root, lines)
    return "\n".join([*details, "", *_table(lines)])


def _collect(root: Step, lines: list[_Line]) -> None:
    # A stack, not recursion: a WSJF file may nest steps deeper than Python's recursion limit.
    stack: list[tuple[Step, int]] = [(root, 0)]
    while stack:
        step, depth = stack.pop()
        measurements = _measurement_lines(step, depth + 1)
        own = _Line(depth, step.name or "(unnamed)", status=step.status or "")
        if step.caused_uut_failure:
            own.note = "<- caused the failure"
        if len(measurements) == 1 and not step.steps and not measurements[0].name:
            # A single unnamed measurement shares the step's line.
            only = measurements[0]
            own.value, own.unit, own.low, own.high, own.comp = (
                only.value, only.unit, only.low, only.high, only.comp,
            )  # fmt: skip
            own.measurement_failed = only.failed
            lines.append(own)
            continue
        lines.append(own)
        lines.extend(measurements)
        stack.extend((child, depth + 1) for child in reversed(step.steps or ()))


def _measurement_lines(step: Step, depth: int) -> list[_Line]:
    lines: list[_Line] = []
    for numeric in step.numeric_meas or ():
        lines.append(
            _Line(
                depth,
                numeric.name or "",
                value=_number(numeric.value),
                unit=numeric.unit or "",
                low=_number(numeric.low_limit),
                high=_number(numeric.high_limit),
                comp=str(numeric.comp_op.value if numeric.comp_op else ""),
                status=numeric.status or "",
            )
        )
    for boolean in step.boolean_meas or ():
        lines.append(_Line(depth, boolean.name or "", status=boolean.status or ""))
    for text in step.string_meas or ():
        lines.append(
            _Line(
                depth,
                text.name or "",
                value=_quoted(text.value),
                low=_quoted(text.limit),
                comp=str(text.comp_op.value if text.comp_op else ""),
                status=text.status or "",
            )
        )
    return lines


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "NaN"
    return format(value, ".6g")


def _quoted(value: str | None) -> str:
    if value is None:
        return ""
    # Long texts would widen the whole table; the start says enough to recognise them.
    return repr(value) if len(value) <= _MAX_TEXT else repr(value[: _MAX_TEXT - 3] + "...")


def _table(lines: list[_Line]) -> list[str]:
    rows = [list(_COLUMNS)]
    marks = [" "]
    notes = [""]
    for line in lines:
        name = ("  " * line.depth) + line.name
        if len(name) > _MAX_NAME:
            name = name[: _MAX_NAME - 3] + "..."
        rows.append([name, line.value, line.unit, line.low, line.high, line.comp, line.status])
        marks.append("x" if line.failed else " ")
        notes.append(line.note)
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    text: list[str] = []
    for mark, row, note in zip(marks, rows, notes, strict=True):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        joined = f"{mark} " + "  ".join(cells)
        text.append((joined.rstrip() + ("  " + note if note else "")).rstrip())
    return text
