"""A report's step tree with verdicts: shared by the queue's report detail and the
converter's "test on a file".

Takes a WSJF report dict (what the worker sends). Shows each step with its verdict, value,
limits and unit; marks the step that caused the failure (expanded, selected, bold).
Colour only for abnormal verdicts (failed, error, terminated).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.gui.formats import format_number, format_time
from app.gui.theme import Severity, severity_color

VERDICTS = {
    "P": "Passed",
    "F": "Failed",
    "E": "Error",
    "T": "Terminated",
    "S": "Skipped",
    "D": "Done",
}
ABNORMAL = frozenset({"F", "E", "T"})
REPORT_KINDS = {"T": "Test report", "R": "Repair report"}
COLUMNS = ("Step", "Verdict", "Value", "Limits", "Unit", "Time")

# compOp → how the limits read; single-limit operators keep their limit in lowLimit.
_ONE_LIMIT = {"EQ": "=", "NE": "≠", "GT": ">", "LT": "<", "GE": "≥", "LE": "≤"}
_TWO_LIMITS = {
    "GTLT": ("{lo} < x < {hi}"),
    "GELE": ("{lo} ≤ x ≤ {hi}"),
    "GELT": ("{lo} ≤ x < {hi}"),
    "GTLE": ("{lo} < x ≤ {hi}"),
    "LTGT": ("x < {lo} or x > {hi}"),
    "LEGE": ("x ≤ {lo} or x ≥ {hi}"),
    "LEGT": ("x ≤ {lo} or x > {hi}"),
    "LTGE": ("x < {lo} or x ≥ {hi}"),
}


def verdict_text(status: Any) -> str:
    return VERDICTS.get(str(status or "").upper()[:1], str(status or ""))


def limits_text(measurement: dict[str, Any]) -> str:
    op = str(measurement.get("compOp") or "LOG").upper()
    if op in ("LOG", ""):
        return ""
    low = measurement.get("lowLimit")
    high = measurement.get("highLimit")
    if "limit" in measurement:  # string measurement
        limit = measurement.get("limit")
        return f"{_ONE_LIMIT.get(op, op)} {limit}" if limit is not None else op
    if op in _ONE_LIMIT:
        value = low if low is not None else high
        return f"{_ONE_LIMIT[op]} {format_number(value)}" if value is not None else op
    template = _TWO_LIMITS.get(op)
    if template is None:
        return op
    return template.format(lo=format_number(low), hi=format_number(high))


def _value_text(measurement: dict[str, Any]) -> str:
    value = measurement.get("value")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value)
    return "" if value is None else str(value)


def report_summary(report: dict[str, Any]) -> str:
    """One line: kind, PN/rev, SN, process, result, start."""
    kind = REPORT_KINDS.get(str(report.get("type", "")), "Report")
    process = " ".join(
        str(p) for p in (report.get("processCode"), report.get("processName")) if p is not None
    )
    parts = [
        kind,
        f"PN {report.get('pn', '')} rev {report.get('rev', '')}",
        f"SN {report.get('sn', '')}",
        f"process {process}" if process else "",
        f"result {verdict_text(report.get('result'))}" if report.get("result") else "",
        format_time(report.get("start") or report.get("startUTC")),
    ]
    return " · ".join(p for p in parts if p)


class ReportTree(QTreeWidget):
    """Steps of one report; `failing_item` is the step that caused the failure, if any."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setAccessibleName("Report steps")
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.failing_item: QTreeWidgetItem | None = None
        self.step_count = 0

    def show_report(self, report: dict[str, Any] | None) -> None:
        self.clear()
        self.failing_item = None
        self.step_count = 0
        if not report:
            return
        self.setUpdatesEnabled(False)
        try:
            root = report.get("root")
            if isinstance(root, dict):
                top = self._add_step(None, root)
                top.setExpanded(True)
            elif report.get("type") == "R":
                self._add_repair(report)
        finally:
            self.setUpdatesEnabled(True)
        if self.failing_item is not None:
            item: QTreeWidgetItem | None = self.failing_item
            while item is not None:
                item.setExpanded(True)
                item = item.parent()
            self.setCurrentItem(self.failing_item)
            self.scrollToItem(self.failing_item)

    def _item(self, parent: QTreeWidgetItem | None, texts: list[str]) -> QTreeWidgetItem:
        item = QTreeWidgetItem(texts)
        if parent is None:
            self.addTopLevelItem(item)
        else:
            parent.addChild(item)
        return item

    def _add_step(self, parent: QTreeWidgetItem | None, step: dict[str, Any]) -> QTreeWidgetItem:
        self.step_count += 1
        status = str(step.get("status") or "")
        measurements: list[dict[str, Any]] = [
            m
            for key in ("numericMeas", "stringMeas", "booleanMeas")
            for m in (step.get(key) or [])
            if isinstance(m, dict)
        ]
        value = limits = unit = ""
        if len(measurements) == 1:
            only = measurements[0]
            value, limits, unit = _value_text(only), limits_text(only), str(only.get("unit") or "")
        time = step.get("totTime")
        item = self._item(
            parent,
            [
                str(step.get("name") or step.get("stepType") or "(step)"),
                verdict_text(status),
                value,
                limits,
                unit,
                f"{format_number(time, 4)} s" if isinstance(time, int | float) else "",
            ],
        )
        item.setToolTip(0, str(step.get("stepType") or ""))
        self._colour(item, status)
        message = step.get("errorMessage") or step.get("reportText")
        if message:
            item.setToolTip(1, str(message))
        if len(measurements) > 1:
            for measurement in measurements:
                child = self._item(
                    item,
                    [
                        str(measurement.get("name") or "(measurement)"),
                        verdict_text(measurement.get("status")),
                        _value_text(measurement),
                        limits_text(measurement),
                        str(measurement.get("unit") or ""),
                        "",
                    ],
                )
                self._colour(child, str(measurement.get("status") or ""))
        for child_step in step.get("steps") or []:
            if isinstance(child_step, dict):
                self._add_step(item, child_step)
        caused = bool(step.get("causedUUTFailure"))
        is_leaf_failure = status.upper()[:1] in ABNORMAL and not step.get("steps")
        if (caused or is_leaf_failure) and self.failing_item is None:
            self.failing_item = item
            font = QFont(item.font(0))
            font.setBold(True)
            for column in range(len(COLUMNS)):
                item.setFont(column, font)
        return item

    def _add_repair(self, report: dict[str, Any]) -> None:
        uur = report.get("uur") or {}
        top = self._item(
            None,
            [f"Repair: {uur.get('comment') or report.get('processName') or ''}"]
            + [""] * (len(COLUMNS) - 1),
        )
        for unit in report.get("subUnits") or []:
            if not isinstance(unit, dict):
                continue
            name = f"{unit.get('partType') or 'Unit'} {unit.get('pn', '')} SN {unit.get('sn', '')}"
            unit_item = self._item(top, [name] + [""] * (len(COLUMNS) - 1))
            for failure in unit.get("failures") or []:
                text = " / ".join(
                    str(failure.get(k)) for k in ("category", "code", "comment") if failure.get(k)
                )
                child = self._item(unit_item, [text or "(failure)", "Failed", "", "", "", ""])
                self._colour(child, "F")
        top.setExpanded(True)
        self.expandAll()

    @staticmethod
    def _colour(item: QTreeWidgetItem, status: str) -> None:
        if status.upper()[:1] in ABNORMAL:
            item.setForeground(1, severity_color(Severity.ERROR))
            item.setData(1, Qt.ItemDataRole.AccessibleTextRole, verdict_text(status))
