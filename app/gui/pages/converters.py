"""Converters: which folders are watched and how their files become reports. Add, edit,
enable or disable, remove, and test a converter on a file. Changes apply live."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QMessageBox,
    QPushButton,
    QTreeWidgetItem,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op
from app.gui.context import GuiContext
from app.gui.converter_editor import ConverterEditor
from app.gui.formats import format_count
from app.gui.pages.config_page import ConfigPage
from app.gui.status_view import CONVERTER_WORDS
from app.gui.theme import Severity, severity_color
from app.gui.widgets import label, row_list

COLUMNS = ("Name", "Converter", "Watch folder", "State", "Today")


class ConvertersPage(ConfigPage):
    key = "converters"
    title = "Converters"
    icon_name = "converters"
    scrollable = False

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.available: list[dict[str, Any]] = []
        self.problems: list[dict[str, Any]] = []
        self.body.addWidget(
            label(
                "Each converter watches one folder and turns the files testers write there "
                "into reports.",
                wrap=True,
            )
        )
        self.table = row_list(COLUMNS, "Converters")
        self.table.setAlternatingRowColors(True)
        header = self.table.header()
        header.resizeSection(0, 180)
        header.resizeSection(1, 110)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(3, 110)
        header.resizeSection(4, 150)
        header.setStretchLastSection(False)
        self.body.addWidget(self.table, 1)
        self.plugin_problems = label(wrap=True)
        self.plugin_problems.hide()
        self.body.addWidget(self.plugin_problems)
        buttons = QHBoxLayout()
        self.add_button = icons.themed(QPushButton("Add…"), "add")
        self.edit_button = icons.themed(QPushButton("Edit…"), "edit")
        self.toggle_button = QPushButton("Disable")
        self.test_button = icons.themed(QPushButton("Test on a file…"), "test")
        self.remove_button = icons.themed(QPushButton("Remove…"), "remove")
        for button in (self.add_button, self.edit_button, self.toggle_button, self.test_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        self.body.addLayout(buttons)
        self.save_button.hide()
        self.revert_button.hide()
        self.add_button.clicked.connect(lambda: self.edit(None))
        self.edit_button.clicked.connect(lambda: self.edit(self.selected_index()))
        self.toggle_button.clicked.connect(self.toggle_selected)
        self.test_button.clicked.connect(self.test_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.table.itemDoubleClicked.connect(lambda _i, _c: self.edit(self.selected_index()))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.link.status_changed.connect(lambda _s: self._paint_states())
        self.editor: ConverterEditor | None = None
        self._update_buttons()

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        super().load()
        Op(self, lambda: self.link.request("converters.list")).success(self._available).failure(
            self.show_error
        ).run()

    def _available(self, result: dict[str, Any]) -> None:
        self.available = [a for a in result.get("available") or [] if isinstance(a, dict)]
        self.problems = [p for p in result.get("problems") or [] if isinstance(p, dict)]
        if self.problems:
            lines = [f"{p.get('source')}: {p.get('message')}" for p in self.problems]
            self.plugin_problems.setText(
                "Converter plug-ins that could not be loaded:\n" + "\n".join(lines)
            )
            self.plugin_problems.setStyleSheet(f"color: {severity_color(Severity.WARNING).name()}")
        self.plugin_problems.setVisible(bool(self.problems))
        self._update_buttons()

    def fill(self, config: dict[str, Any]) -> None:
        selected = self.selected_index()
        self.table.clear()
        for converter in config.get("converters") or []:
            item = QTreeWidgetItem(
                [
                    str(converter.get("name", "")),
                    str(converter.get("converter", "")),
                    str(converter.get("watch_folder", "")),
                    "",
                    "",
                ]
            )
            item.setToolTip(2, str(converter.get("watch_folder", "")))
            self.table.addTopLevelItem(item)
        again = self.table.topLevelItem(selected) if selected is not None else None
        if again is not None:
            self.table.setCurrentItem(again)
        self._paint_states()
        self._update_buttons()

    def _paint_states(self) -> None:
        status = self.link.status or {}
        states = {str(c.get("name")): c for c in status.get("converters") or []}
        for row, converter in enumerate(self.config.get("converters") or []):
            item = self.table.topLevelItem(row)
            if item is None:
                continue
            live = states.get(str(converter.get("name")))
            if not converter.get("enabled", True):
                state = "disabled"
            else:
                state = str(live.get("state")) if live else ""
            item.setText(3, CONVERTER_WORDS.get(state, state))
            error = state == "error"
            item.setForeground(
                3, severity_color(Severity.ERROR) if error else self.table.palette().text().color()
            )
            if live and live.get("last_error"):
                item.setToolTip(3, str(live["last_error"]))
            if live:
                done = int(live.get("files_done_today") or 0)
                failed = int(live.get("files_failed_today") or 0)
                item.setText(4, f"{format_count(done)} ok, {format_count(failed)} failed")
            else:
                item.setText(4, "")

    # ------------------------------------------------------------ selection

    def selected_index(self) -> int | None:
        item = self.table.currentItem()
        if item is None or not item.isSelected():
            return None
        return self.table.indexOfTopLevelItem(item)

    def selected_converter(self) -> dict[str, Any] | None:
        index = self.selected_index()
        converters = self.config.get("converters") or []
        return converters[index] if index is not None and index < len(converters) else None

    def _update_buttons(self) -> None:
        converter = self.selected_converter()
        ready = bool(self.config) and bool(self.available)
        self.add_button.setEnabled(ready)
        for button in (self.edit_button, self.toggle_button, self.remove_button):
            button.setEnabled(converter is not None and ready)
        self.test_button.setEnabled(converter is not None and ready)
        enabled = converter is None or converter.get("enabled", True)
        self.toggle_button.setText("Disable" if enabled else "Enable")
        icons.themed(self.toggle_button, "pause" if enabled else "play")

    def select(self, name: str) -> None:
        for row in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(row)
            if item is not None and item.text(0) == name:
                self.table.setCurrentItem(item)
                item.setSelected(True)
                return

    # ------------------------------------------------------------ actions

    def edit(self, index: int | None) -> ConverterEditor | None:
        if not self.config or not self.available:
            return None
        editor = ConverterEditor(self.context, self.config, self.available, index, self)
        editor.saved.connect(self._editor_saved)
        editor.open()
        self.editor = editor
        return editor

    def _editor_saved(self, config: Any) -> None:
        if isinstance(config, dict):
            self.config = config
            self.info = {**self.info, "config": config}
            self.fill(config)
        self.show_message("Saved. The worker watches the new settings now.")

    def toggle_selected(self) -> None:
        index = self.selected_index()
        if index is None:
            return
        new_config = copy.deepcopy(self.config)
        converter = new_config["converters"][index]
        converter["enabled"] = not converter.get("enabled", True)
        word = "enabled" if converter["enabled"] else "disabled"
        self.send(new_config, saved_message=f"Converter “{converter['name']}” {word}.")

    def remove_selected(self) -> None:
        converter = self.selected_converter()
        index = self.selected_index()
        if converter is None or index is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove converter",
            f"Stop watching {converter.get('watch_folder')} and remove converter "
            f"“{converter.get('name')}”?\n\nFiles in the folder and reports already queued stay.",
            QMessageBox.StandardButton.Cancel,
            self,
        )
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)

        def done(_result: int) -> None:
            if box.clickedButton() is remove:
                self.remove(index)

        box.finished.connect(done)
        box.open()
        self.confirm_box = box

    def remove(self, index: int) -> None:
        new_config = copy.deepcopy(self.config)
        removed = new_config["converters"].pop(index)
        self.send(new_config, saved_message=f"Converter “{removed.get('name')}” removed.")

    def test_selected(self) -> None:
        from app.gui.converter_test import ConverterTestDialog

        converter = self.selected_converter()
        if converter is None:
            return
        dialog = ConverterTestDialog(
            self.context,
            str(converter.get("converter")),
            dict(converter.get("parameters") or {}),
            str(converter.get("mode") or "active"),
            self,
            start_folder=str(converter.get("watch_folder") or ""),
        )
        dialog.show()
        self.test_dialog = dialog

    def item_texts(self) -> list[list[str]]:
        """The table as shown (tests read it)."""
        rows = []
        for row in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(row)
            if item is not None:
                rows.append([item.text(column) for column in range(len(COLUMNS))])
        return rows
