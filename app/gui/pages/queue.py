"""Queue: every report the station made, filterable, with retry, resubmit, delete and a detail
view of the report's step tree. Virtualised (app.gui.queue_model): 100,000 rows scroll freely
and a flood of new reports refreshes at most once a second.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op
from app.gui.context import GuiContext
from app.gui.formats import format_count
from app.gui.pages.base import Page
from app.gui.queue_model import COLUMNS, QueueModel
from app.gui.widgets import label

STATE_FILTERS = (
    ("All reports", None),
    ("Waiting", "queued"),
    ("Uploading", "uploading"),
    ("Uploaded", "uploaded"),
    ("Rejected", "rejected"),
)
SORTS = (
    ("Newest first", "created_desc"),
    ("Oldest first", "created_asc"),
    ("Latest test first", "start_desc"),
    ("Earliest test first", "start_asc"),
)
REFRESH_MIN_INTERVAL_S = 1.0


class QueuePage(Page):
    key = "queue"
    title = "Queue"
    icon_name = "queue"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.model = QueueModel(lambda params: self.link.request("queue.list", params), self)
        self.model.total_changed.connect(self._show_total)
        self.model.failed.connect(self.show_error)

        filters = QHBoxLayout()
        self.state_filter = QComboBox()
        self.state_filter.setAccessibleName("Show")
        for text, state in STATE_FILTERS:
            self.state_filter.addItem(text, state)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search serial number, part number, process or error")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search")
        self.sort = QComboBox()
        self.sort.setAccessibleName("Order")
        for text, sort in SORTS:
            self.sort.addItem(text, sort)
        self.total_label = label()
        filters.addWidget(label("Show"))
        filters.addWidget(self.state_filter)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.sort)
        filters.addWidget(self.total_label)
        self.body.addLayout(filters)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Reports")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        rows = self.table.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # no per-row sizing
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        widths = (120, 165, 170, 150, 150, 80)
        for column, width in enumerate(widths):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.body.addWidget(self.table, 1)

        actions = QHBoxLayout()
        self.open_button = icons.themed(QPushButton("Open…"), "queue")
        self.open_button.setToolTip("Show the report's steps and verdicts (Enter)")
        self.retry_button = icons.themed(QPushButton("Retry now"), "restart")
        self.retry_button.setToolTip("Upload the selected reports again now")
        self.resubmit_button = icons.themed(QPushButton("Fix and resubmit…"), "edit")
        self.resubmit_button.setToolTip("Correct a rejected report's header and send it again")
        self.delete_button = icons.themed(QPushButton("Delete…"), "remove")
        for button in (self.open_button, self.retry_button, self.resubmit_button):
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.delete_button)
        self.body.addLayout(actions)
        self.open_button.clicked.connect(self.open_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.resubmit_button.clicked.connect(self.resubmit_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, self.open_selected)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table, self.delete_selected)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(300)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.state_filter.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.sort.currentIndexChanged.connect(lambda _i: self.apply_filters())

        # Changes arrive as events; refresh at most once a second however many arrive.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._refresh_now)
        self._last_refresh = 0.0
        self.refresh_count = 0
        self.link.queue_changed.connect(self._on_queue_event)
        self.link.state_changed.connect(self._on_link_state)
        self._update_buttons()

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        self.apply_filters(force=True)

    def reload(self) -> None:
        self._refresh_now()

    def apply_filters(self, *, force: bool = False) -> None:
        self._search_timer.stop()
        state = self.state_filter.currentData()
        search = self.search.text().strip() or None
        sort = str(self.sort.currentData())
        if force:
            self.model.first_page_loaded = False
        self.model.set_filters(state=state, search=search, sort=sort)

    def _on_queue_event(self, _data: Any) -> None:
        if not self._loaded or self._refresh_timer.isActive():
            return
        wait = max(0.0, REFRESH_MIN_INTERVAL_S - (time.monotonic() - self._last_refresh))
        self._refresh_timer.start(int(wait * 1000))

    def _on_link_state(self, state: str) -> None:
        if state == "connected" and self._loaded:
            self._refresh_now()

    def _refresh_now(self) -> None:
        self._last_refresh = time.monotonic()
        self.refresh_count += 1
        self.model.refresh()

    def _show_total(self, total: int) -> None:
        self.total_label.setText(f"{format_count(total)} report{'s' if total != 1 else ''}")

    # ------------------------------------------------------------ selection and actions

    def selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def selected_reports(self) -> list[dict[str, Any]]:
        rows = [self.model.loaded_row(number) for number in self.selected_rows()]
        return [row for row in rows if row is not None]

    def _update_buttons(self, *_args: object) -> None:
        reports = self.selected_reports()
        states = {r.get("state") for r in reports}
        self.open_button.setEnabled(len(reports) == 1)
        self.retry_button.setEnabled(bool(reports) and states <= {"queued", "rejected"})
        self.resubmit_button.setEnabled(len(reports) == 1 and states == {"rejected"})
        self.delete_button.setEnabled(bool(reports))

    def open_selected(self) -> None:
        reports = self.selected_reports()
        if len(reports) != 1:
            return
        self.open_report(str(reports[0]["id"]))

    def open_report(self, report_id: str) -> Any:
        from app.gui.report_detail import ReportDetailDialog

        dialog = ReportDetailDialog(self.context, report_id, self)
        dialog.changed.connect(self._refresh_now)
        dialog.show()
        return dialog

    def retry_selected(self) -> None:
        ids = [str(r["id"]) for r in self.selected_reports()]
        if not ids:
            return
        Op(self, lambda: self.link.request("queue.retry", {"ids": ids})).success(
            lambda result: self.show_message(
                f"{format_count(int(result.get('retried', 0)))} report(s) will be uploaded again."
            )
        ).failure(self.show_error).busy(self.retry_button).run()

    def resubmit_selected(self) -> None:
        reports = self.selected_reports()
        if len(reports) != 1 or reports[0].get("state") != "rejected":
            return
        from app.gui.report_detail import ResubmitDialog

        dialog = ResubmitDialog(self.context, reports[0], self)
        dialog.resubmitted.connect(
            lambda: self.show_message("The corrected report was queued for upload.")
        )
        dialog.resubmitted.connect(self._refresh_now)
        dialog.open()

    def delete_selected(self) -> None:
        ids = [str(r["id"]) for r in self.selected_reports()]
        if not ids:
            return
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Delete reports",
            f"Delete {len(ids)} report(s) from this station's queue?\n\n"
            "Reports not uploaded yet are lost. Reports already on the server stay there.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        delete = box.addButton("Delete", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)

        def done(_result: int) -> None:
            if box.clickedButton() is delete:
                self.delete_ids(ids)

        box.finished.connect(done)
        box.open()
        self.confirm_box = box

    def delete_ids(self, ids: list[str]) -> None:
        Op(self, lambda: self.link.request("queue.delete", {"ids": ids})).success(
            self._deleted
        ).failure(self.show_error).busy(self.delete_button).run()

    def _deleted(self, result: dict[str, Any]) -> None:
        self.show_message(f"{format_count(int(result.get('deleted', 0)))} report(s) deleted.")
        self._refresh_now()

    def column_index(self, key: str) -> int:
        return [k for k, _ in COLUMNS].index(key)
