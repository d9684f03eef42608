"""A queued report in detail (header, upload state, step tree with verdicts) and the dialog
that fixes a rejected report's header and resubmits it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op, in_thread
from app.gui.context import GuiContext
from app.gui.formats import format_time
from app.gui.queue_model import STATE_WORDS
from app.gui.report_tree import ReportTree, report_summary
from app.gui.theme import Severity, set_severity
from app.gui.widgets import FieldError, MessageBar, field_with_error, label

FACTS = (
    ("state", "State"),
    ("attempts", "Upload attempts"),
    ("created_at", "Queued"),
    ("uploaded_at", "Uploaded"),
    ("station", "Station"),
    ("operator", "Operator"),
    ("converter", "Converter"),
    ("source_path", "Source file"),
    ("failing_step_name", "Failing step"),
)


class ReportDetailDialog(QDialog):
    changed = Signal()  # retried, resubmitted or deleted

    def __init__(self, context: GuiContext, report_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.link = context.link
        self.report_id = report_id
        self.row: dict[str, Any] = {}
        self.setWindowTitle("Report")
        self.resize(960, 620)
        layout = QVBoxLayout(self)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        self.summary = label("Loading…", "heading", wrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        self.facts: dict[str, QLabel] = {}
        for index, (key, caption) in enumerate(FACTS):
            row, column = divmod(index, 3)
            box = QVBoxLayout()
            box.setSpacing(0)
            box.addWidget(label(caption, "caption"))
            value = label()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.facts[key] = value
            box.addWidget(value)
            grid.addLayout(box, row, column)
        layout.addLayout(grid)
        self.last_error = label(wrap=True)
        self.last_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_severity(self.last_error, Severity.ERROR)
        layout.addWidget(self.last_error)
        self.tree = ReportTree()
        layout.addWidget(self.tree, 1)
        buttons = QHBoxLayout()
        self.retry_button = icons.themed(QPushButton("Retry now"), "restart")
        self.resubmit_button = icons.themed(QPushButton("Fix and resubmit…"), "edit")
        self.delete_button = icons.themed(QPushButton("Delete"), "remove")
        self.save_button = QPushButton("Save as JSON…")
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        for button in (self.retry_button, self.resubmit_button, self.save_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.retry_button.clicked.connect(self.retry)
        self.resubmit_button.clicked.connect(self.resubmit)
        self.delete_button.clicked.connect(self.delete)
        self.save_button.clicked.connect(self.save)
        for button in (
            self.retry_button,
            self.resubmit_button,
            self.delete_button,
            self.save_button,
        ):
            button.setEnabled(False)
        self.loaded = False
        self.load()

    def load(self) -> None:
        Op(self, lambda: self.link.request("queue.get", {"id": self.report_id})).success(
            self._show
        ).failure(lambda message: self.message_bar.show_message(message, Severity.ERROR)).run()

    def _show(self, row: dict[str, Any]) -> None:
        self.row = row
        report = row.get("report")
        self.setWindowTitle(f"Report {row.get('sn', '')} – {row.get('pn', '')}")
        if isinstance(report, dict):
            self.summary.setText(report_summary(report))
        else:
            self.summary.setText(
                f"PN {row.get('pn', '')} · SN {row.get('sn', '')} – the report's content was "
                "removed from this station after upload (it is kept on the server)."
            )
        for key, value_label in self.facts.items():
            value = row.get(key)
            if key == "state":
                text = STATE_WORDS.get(str(value), str(value or ""))
            elif key in ("created_at", "uploaded_at"):
                text = format_time(value)
            else:
                text = "" if value is None else str(value)
            value_label.setText(text or "–")
        set_severity(
            self.facts["state"],
            Severity.ERROR if row.get("state") == "rejected" else Severity.NORMAL,
        )
        error = row.get("last_error")
        self.last_error.setText(f"Last error: {error}" if error else "")
        self.last_error.setVisible(bool(error))
        self.tree.show_report(report if isinstance(report, dict) else None)
        state = row.get("state")
        self.retry_button.setEnabled(state in ("queued", "rejected"))
        self.resubmit_button.setEnabled(state == "rejected")
        self.delete_button.setEnabled(True)
        self.save_button.setEnabled(isinstance(report, dict))
        self.loaded = True

    def retry(self) -> None:
        Op(self, lambda: self.link.request("queue.retry", {"ids": [self.report_id]})).success(
            self._changed_reload
        ).failure(lambda m: self.message_bar.show_message(m, Severity.ERROR)).busy(
            self.retry_button
        ).run()

    def _changed_reload(self, _result: object) -> None:
        self.changed.emit()
        self.load()

    def _deleted(self, _result: object) -> None:
        self.changed.emit()
        self.close()

    def resubmit(self) -> None:
        dialog = ResubmitDialog(self.context, self.row, self)
        dialog.resubmitted.connect(lambda: self._changed_reload(None))
        dialog.open()

    def delete(self) -> None:
        Op(self, lambda: self.link.request("queue.delete", {"ids": [self.report_id]})).success(
            self._deleted
        ).failure(lambda m: self.message_bar.show_message(m, Severity.ERROR)).busy(
            self.delete_button
        ).run()

    def save(self) -> None:
        report = self.row.get("report")
        if not isinstance(report, dict):
            return
        name = f"{self.row.get('sn') or 'report'}-{self.report_id[:8]}.json"
        dialog = QFileDialog(self, "Save report as", str(Path.home() / name), "WSJF (*.json)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.fileSelected.connect(lambda path: self._write(path, report))
        dialog.open()

    def _write(self, path: str, report: dict[str, Any]) -> None:
        data = json.dumps(report, indent=2, ensure_ascii=False)
        Op(self, lambda: in_thread(Path(path).write_text, data, "utf-8")).success(
            lambda _n: self.message_bar.show_message(f"Saved {path}")
        ).failure(lambda m: self.message_bar.show_message(m, Severity.ERROR)).run()


# Header fields a rejected report can be corrected in (queue.resubmit "changes").
RESUBMIT_FIELDS = (
    ("pn", "Part number", "pn"),
    ("rev", "Revision", "rev"),
    ("sn", "Serial number", "sn"),
    ("processCode", "Process code", "process_code"),
    ("machineName", "Station name", "station"),
)


class ResubmitDialog(QDialog):
    resubmitted = Signal()

    def __init__(
        self, context: GuiContext, row: dict[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.link = context.link
        self.row = row
        self.setWindowTitle("Fix and resubmit")
        layout = QVBoxLayout(self)
        intro = label("The server rejected this report:", wrap=True)
        layout.addWidget(intro)
        reason = label(str(row.get("last_error") or "(no reason given)"), wrap=True)
        set_severity(reason, Severity.ERROR)
        layout.addWidget(reason)
        layout.addWidget(
            label("Correct the header below and resubmit. Only changed fields are sent.", wrap=True)
        )
        form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, FieldError] = {}
        for key, caption, row_key in RESUBMIT_FIELDS:
            edit = QLineEdit("" if row.get(row_key) is None else str(row.get(row_key)))
            error = FieldError()
            self.edits[key] = edit
            self.errors[key] = error
            form.addRow(caption, field_with_error(edit, error))
        layout.addLayout(form)
        self.general_error = FieldError()
        layout.addWidget(self.general_error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton("Resubmit", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(520, self.sizeHint().height())

    def changes(self) -> dict[str, Any] | None:
        """The changed fields, or None when one is invalid (shown next to it)."""
        changes: dict[str, Any] = {}
        valid = True
        for key, _caption, row_key in RESUBMIT_FIELDS:
            text = self.edits[key].text().strip()
            before = "" if self.row.get(row_key) is None else str(self.row.get(row_key))
            self.errors[key].set_error("")
            if key in ("pn", "sn", "rev") and not text:
                self.errors[key].set_error("Required: the server needs it.")
                valid = False
                continue
            if text == before:
                continue
            if key == "processCode":
                if not text.isdigit() or not 0 <= int(text) <= 32767:
                    self.errors[key].set_error("Enter a whole number from 0 to 32767.")
                    valid = False
                    continue
                changes[key] = int(text)
            else:
                changes[key] = text
        return changes if valid else None

    def submit(self) -> None:
        changes = self.changes()
        if changes is None:
            return
        params = {"id": self.row["id"], "changes": changes}
        Op(self, lambda: self.link.request("queue.resubmit", params)).success(self._done).failure(
            self._failed
        ).busy(self.ok).run()

    def _done(self, _result: object) -> None:
        self.resubmitted.emit()
        self.accept()

    def _failed(self, message: str) -> None:
        for key, error in self.errors.items():
            if message.startswith(f"{key}:") or message.startswith(f"changes.{key}"):
                error.set_error(message.split(":", 1)[1].strip())
                return
        self.general_error.set_error(message)
