"""Failed files: source files a converter could not read, moved to their Error folder with the
reason. Retry puts a file back in its watch folder (after the converter or its settings were
fixed); Open folder shows it in the file manager."""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidgetItem,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op
from app.gui.context import GuiContext
from app.gui.formats import format_count, format_time
from app.gui.pages.base import Page
from app.gui.widgets import label, row_list

COLUMNS = ("File", "Converter", "Failed", "Reason")


def folder_of(entry: dict[str, Any]) -> str:
    """Where the failed file is now (its Error folder), else where it was."""
    for key in ("error_file", "path"):
        value = entry.get(key)
        if value:
            return os.path.dirname(str(value))
    return ""


class FailedPage(Page):
    key = "failed"
    title = "Failed files"
    icon_name = "failed"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.body.addWidget(
            label(
                "Files that could not be converted. They were moved to the converter's Error "
                "folder with a note saying why. Fix the cause, then retry.",
                wrap=True,
            )
        )
        self.table = row_list(COLUMNS, "Failed files", multi_select=True)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        header = self.table.header()
        header.resizeSection(0, 260)
        header.resizeSection(1, 130)
        header.resizeSection(2, 160)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.body.addWidget(self.table, 1)
        self.empty = label(
            "No failed files. Files that cannot be converted appear here with the reason.",
            "caption",
            wrap=True,
        )
        self.body.addWidget(self.empty)
        buttons = QHBoxLayout()
        self.retry_button = icons.themed(QPushButton("Retry"), "restart")
        self.retry_button.setToolTip("Move the selected files back to their watch folder")
        self.open_button = icons.themed(QPushButton("Open folder"), "folder")
        self.refresh_button = icons.themed(QPushButton("Refresh"), "refresh")
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        self.body.addLayout(buttons)
        self.retry_button.clicked.connect(self.retry_selected)
        self.open_button.clicked.connect(self.open_folder)
        self.refresh_button.clicked.connect(self.load)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item, _column: self.open_folder())
        self.entries: list[dict[str, Any]] = []
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(500)
        self._debounce.timeout.connect(self.load)
        self.link.file_event.connect(self._on_file_event)
        self.link.state_changed.connect(self._on_link_state)
        self._update_buttons()

    def _on_file_event(self, _data: object) -> None:
        if self._loaded:
            self._debounce.start()

    def _on_link_state(self, state: str) -> None:
        if state == "connected" and self._loaded:
            self.load()

    def load(self) -> None:
        Op(self, lambda: self.link.request("files.failed")).success(self._show).failure(
            self.show_error
        ).run()

    def _show(self, entries: list[dict[str, Any]]) -> None:
        selected = {e.get("key") for e in self.selected()}
        self.entries = [e for e in entries if isinstance(e, dict)]
        self.table.clear()
        for entry in self.entries:
            reason = " ".join(str(entry.get("error") or "").split())
            item = QTreeWidgetItem(
                [
                    os.path.basename(str(entry.get("path", ""))),
                    str(entry.get("converter", "")),
                    format_time(entry.get("failed_at")),
                    reason,
                ]
            )
            item.setToolTip(0, str(entry.get("path", "")))
            item.setToolTip(3, str(entry.get("error") or ""))
            item.setData(0, Qt.ItemDataRole.UserRole, entry)
            self.table.addTopLevelItem(item)
            item.setSelected(entry.get("key") in selected)
        count = len(self.entries)
        self.title_label.setText(
            f"Failed files ({format_count(count)})" if count else "Failed files"
        )
        self.empty.setVisible(not count)
        self._update_buttons()

    def selected(self) -> list[dict[str, Any]]:
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in self.table.selectedItems()]

    def _update_buttons(self) -> None:
        chosen = self.selected()
        self.retry_button.setEnabled(bool(chosen))
        self.open_button.setEnabled(len(chosen) == 1)

    def retry_selected(self) -> None:
        keys = [str(e["key"]) for e in self.selected() if e.get("key")]
        if not keys:
            return
        Op(self, lambda: self.link.request("files.retry", {"keys": keys})).success(
            self._retried
        ).failure(self.show_error).busy(self.retry_button).run()

    def _retried(self, result: dict[str, Any]) -> None:
        count = format_count(int(result.get("retried", 0)))
        self.show_message(
            f"{count} file(s) moved back to their watch folder; they are converted again now."
        )
        self.load()

    def open_folder(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1 and folder_of(chosen[0]):
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder_of(chosen[0])))
