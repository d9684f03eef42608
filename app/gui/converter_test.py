"""Test a converter on a file: pick a file, see the resulting reports as step trees with the
computed verdicts, or the readable conversion error. Nothing is queued or uploaded."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op
from app.gui.context import GuiContext
from app.gui.report_tree import REPORT_KINDS, ReportTree, report_summary, verdict_text
from app.gui.theme import Severity, severity_color
from app.gui.widgets import MessageBar, label, row_list

TEST_TIMEOUT_S = 120.0
SUMMARY_COLUMNS = ("Report", "Part number", "Serial number", "Result", "Steps", "Failing step")


class ConverterTestDialog(QDialog):
    def __init__(
        self,
        context: GuiContext,
        converter: str,
        parameters: dict[str, Any] | None = None,
        mode: str = "active",
        parent: QWidget | None = None,
        *,
        start_folder: str = "",
    ) -> None:
        super().__init__(parent)
        self.link = context.link
        self.converter = converter
        self.parameters = parameters or {}
        self.mode = mode
        self.start_folder = start_folder
        self.outcome: dict[str, Any] | None = None
        self.setWindowTitle(f"Test converter {converter} on a file")
        self.resize(1000, 640)
        layout = QVBoxLayout(self)
        layout.addWidget(
            label(
                "Converts the file exactly as the station would, with the settings being "
                "edited. Nothing is queued or uploaded, and the file is not moved.",
                wrap=True,
            )
        )
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText("The file to convert")
        self.path.setAccessibleName("File")
        self.browse = icons.themed(QPushButton("Browse…"), "folder")
        self.run_button = icons.themed(QPushButton("Convert"), "test")
        self.run_button.setDefault(True)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        row.addWidget(self.run_button)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumHeight(6)
        self.progress.setTextVisible(False)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        self.summary_line = label(role="heading", wrap=True)
        layout.addWidget(self.summary_line)

        split = QSplitter(Qt.Orientation.Vertical)
        self.reports = row_list(SUMMARY_COLUMNS, "Reports from this file")
        self.reports.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.reports.setMaximumHeight(140)
        self.tree = ReportTree()
        split.addWidget(self.reports)
        split.addWidget(self.tree)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(close)
        layout.addLayout(bottom)
        self.browse.clicked.connect(self.pick_file)
        self.run_button.clicked.connect(self.run_test)
        self.path.returnPressed.connect(self.run_test)
        self.reports.currentItemChanged.connect(self._report_chosen)

    def pick_file(self) -> None:
        dialog = QFileDialog(self, "Choose a file to convert", self.start_folder)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self._picked)
        dialog.open()

    def _picked(self, path: str) -> None:
        self.path.setText(path)
        self.run_test()

    def run_test(self) -> None:
        path = self.path.text().strip()
        if not path:
            self.message_bar.show_message("Choose a file first (Browse…).", Severity.WARNING)
            return
        self.message_bar.hide()
        self.progress.show()
        self.summary_line.setText("Converting…")
        self.reports.clear()
        self.tree.clear()
        params = {
            "converter": self.converter,
            "path": path,
            "parameters": self.parameters,
            "mode": self.mode,
        }
        Op(self, lambda: self.link.request("converters.test", params, TEST_TIMEOUT_S)).success(
            self.show_result
        ).failure(self._failed).finally_(self.progress.hide).busy(self.run_button).run()

    def _failed(self, message: str) -> None:
        self.summary_line.setText("")
        self.message_bar.show_message(message, Severity.ERROR)

    def show_result(self, result: dict[str, Any]) -> None:
        self.outcome = result
        if not result.get("ok"):
            line = result.get("line")
            where = f" (line {line})" if line else ""
            self.summary_line.setText("")
            self.message_bar.show_message(
                f"This file cannot be converted{where}: {result.get('error', 'unknown reason')}",
                Severity.ERROR,
            )
            return
        reports = [r for r in result.get("reports") or [] if isinstance(r, dict)]
        summaries = result.get("summary") or [{} for _ in reports]
        count = len(reports)
        self.summary_line.setText(
            f"{count} report{'s' if count != 1 else ''} from this file"
            if count
            else "The file was read, but it holds no report."
        )
        for report, info in zip(reports, summaries, strict=False):
            result_code = info.get("result") or report.get("result")
            item = QTreeWidgetItem(
                [
                    REPORT_KINDS.get(str(info.get("type") or report.get("type")), "Report"),
                    str(info.get("pn") or report.get("pn") or ""),
                    str(info.get("sn") or report.get("sn") or ""),
                    verdict_text(result_code),
                    str(info.get("steps", "")),
                    str(info.get("failing_step") or ""),
                ]
            )
            if str(result_code or "").upper()[:1] in ("F", "E", "T"):
                item.setForeground(3, severity_color(Severity.ERROR))
            item.setData(0, Qt.ItemDataRole.UserRole, report)
            item.setToolTip(0, report_summary(report))
            self.reports.addTopLevelItem(item)
        first = self.reports.topLevelItem(0)
        if first is not None:
            self.reports.setCurrentItem(first)

    def _report_chosen(self, current: QTreeWidgetItem | None, _previous: object) -> None:
        report = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        self.tree.show_report(report if isinstance(report, dict) else None)
