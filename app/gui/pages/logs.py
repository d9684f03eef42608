"""Logs: the worker's log, live, with a level filter and search. New lines are appended in
batches (ten a second at most), so a chatty worker cannot flood the UI."""

from __future__ import annotations

import re
from collections import deque
from typing import Any

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op
from app.gui.context import GuiContext
from app.gui.formats import format_time
from app.gui.pages.base import Page
from app.gui.theme import Severity, mono_font, severity_color

KEEP_LINES = 20_000
TAIL_LINES = 1000
LEVELS = ("debug", "info", "warning", "error", "critical")
LEVEL_FILTERS = (
    ("Everything", "debug"),
    ("Information and above", "info"),
    ("Warnings and errors", "warning"),
    ("Errors only", "error"),
)


def level_rank(level: str) -> int:
    try:
        return LEVELS.index(level.lower())
    except ValueError:
        return 1


def entry_text(entry: dict[str, Any]) -> str:
    when = format_time(entry.get("time"))
    level = str(entry.get("level", "")).upper()
    return f"{when} {level:<8} {entry.get('logger', '')}: {entry.get('message', '')}"


_LEVEL_IN_LINE = re.compile(r"\s(WARNING|ERROR|CRITICAL)\s")


class LevelHighlighter(QSyntaxHighlighter):
    """Colours warning and error lines; everything else keeps the palette's text colour."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.colours: dict[str, QColor] = {}
        self.refresh_colours()

    def refresh_colours(self) -> None:
        error = severity_color(Severity.ERROR)
        self.colours = {
            "WARNING": severity_color(Severity.WARNING),
            "ERROR": error,
            "CRITICAL": error,
        }

    def highlightBlock(self, text: str) -> None:
        match = _LEVEL_IN_LINE.search(text, 0, 60)
        if match is None:
            return
        line_format = QTextCharFormat()
        line_format.setForeground(self.colours[match.group(1)])
        self.setFormat(0, len(text), line_format)


class LogsPage(Page):
    key = "logs"
    title = "Logs"
    icon_name = "logs"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        bar = QHBoxLayout()
        self.level = QComboBox()
        self.level.setAccessibleName("Level")
        for text, level in LEVEL_FILTERS:
            self.level.addItem(text, level)
        self.level.setCurrentIndex(1)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search the log")
        self.search.setClearButtonEnabled(True)
        self.follow = QCheckBox("Follow new lines")
        self.follow.setChecked(True)
        self.open_folder = icons.themed(QPushButton("Open log folder"), "folder")
        self.open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(context.paths.log_dir)))
        )
        bar.addWidget(self.level)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.follow)
        bar.addWidget(self.open_folder)
        self.body.addLayout(bar)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setFont(mono_font())
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setMaximumBlockCount(KEEP_LINES)
        self.view.setAccessibleName("Log lines")
        self.highlighter = LevelHighlighter(self.view.document())
        self.body.addWidget(self.view, 1)
        self.entries: deque[dict[str, Any]] = deque(maxlen=KEEP_LINES)
        self._incoming: list[dict[str, Any]] = []
        self._flush = QTimer(self)
        self._flush.setInterval(100)
        self._flush.setSingleShot(True)
        self._flush.timeout.connect(self._append_incoming)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self.rerender)
        self.level.currentIndexChanged.connect(lambda _i: self.rerender())
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.link.log_event.connect(self._on_log)
        self.link.state_changed.connect(self._on_link_state)
        self._following = False

    # ------------------------------------------------------------ showing

    def activate(self) -> None:
        super().activate()
        if not self._following:
            self._following = True
            Op(self, lambda: self.link.follow_logs(True)).failure(lambda _m: None).run()

    def deactivate(self) -> None:
        if self._following:
            self._following = False
            Op(self, lambda: self.link.follow_logs(False)).failure(lambda _m: None).run()

    def load(self) -> None:
        Op(self, lambda: self.link.request("logs.tail", {"lines": TAIL_LINES})).success(
            self._tail_loaded
        ).failure(self.show_error).run()

    def _on_link_state(self, state: str) -> None:
        if state == "connected" and self._loaded:
            self.load()

    def _tail_loaded(self, lines: list[dict[str, Any]]) -> None:
        self.entries.clear()
        self.entries.extend(line for line in lines if isinstance(line, dict))
        self._incoming.clear()
        self.rerender()

    def _on_log(self, entry: Any) -> None:
        if not isinstance(entry, dict):
            return
        self.entries.append(entry)
        self._incoming.append(entry)
        if not self._flush.isActive():
            self._flush.start()

    # ------------------------------------------------------------ filtering

    def visible(self, entry: dict[str, Any]) -> bool:
        if level_rank(str(entry.get("level", ""))) < level_rank(str(self.level.currentData())):
            return False
        needle = self.search.text().strip().casefold()
        return not needle or needle in entry_text(entry).casefold()

    def rerender(self) -> None:
        self.highlighter.refresh_colours()
        self.view.setPlainText("\n".join(entry_text(e) for e in self.entries if self.visible(e)))
        self._scroll_to_end()

    def _append_incoming(self) -> None:
        batch, self._incoming = self._incoming, []
        shown = [entry_text(e) for e in batch if self.visible(e)]
        if shown:
            self.view.appendPlainText("\n".join(shown))
            self._scroll_to_end()

    def _scroll_to_end(self) -> None:
        if self.follow.isChecked():
            self.view.moveCursor(QTextCursor.MoveOperation.End)
            self.view.ensureCursorVisible()

    def shown_lines(self) -> list[str]:
        text = self.view.toPlainText()
        return text.splitlines() if text else []
