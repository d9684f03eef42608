"""Status: is everything fine, and if not, what needs doing. Live from the worker's events.

Top: the overall state in words (the tray's state), alarms as banners, big numbers for the
queue. Then one card per converter and the recent activity. Colour appears only for what is
abnormal. Repaints are coalesced (at most five a second) so a flood of events costs nothing.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.gui import icons
from app.gui.context import GuiContext
from app.gui.formats import format_clock, format_count, format_duration, format_time
from app.gui.icons import TrayState
from app.gui.pages.base import Page
from app.gui.status_view import (
    ALARM_TITLES,
    CONVERTER_WORDS,
    SERVER_WORDS,
    STATE_WORDS,
    UPLOAD_WORDS,
    queue_counts,
    state_detail,
    tray_state,
)
from app.gui.theme import Severity, set_role, set_severity, severity_color
from app.gui.widgets import ElidedLabel, NumberTile, label

ACTIVITY_LINES = 200
CARD_COLUMNS = 3


class ConverterCard(QFrame):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 10)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.name = label(name, "heading")
        self.state = label()
        top.addWidget(self.name, 1)
        top.addWidget(self.state)
        layout.addLayout(top)
        self.kind = ElidedLabel()
        set_role(self.kind, "caption")
        self.counts = label()
        self.last_file = ElidedLabel()
        self.last_error = label(wrap=True)
        for widget in (self.kind, self.counts, self.last_file, self.last_error):
            layout.addWidget(widget)

    def update_from(self, data: dict[str, Any]) -> None:
        state = str(data.get("state", ""))
        self.state.setText(CONVERTER_WORDS.get(state, state))
        set_severity(self.state, Severity.ERROR if state == "error" else Severity.NORMAL)
        set_severity(self, Severity.ERROR if state == "error" else Severity.NORMAL)
        folder = str(data.get("folder") or "")
        self.kind.set_full_text(f"{data.get('converter', '')} · {folder}")
        done = int(data.get("files_done_today") or 0)
        failed = int(data.get("files_failed_today") or 0)
        self.counts.setText(f"Today: {format_count(done)} converted, {format_count(failed)} failed")
        set_severity(self.counts, Severity.WARNING if failed else Severity.NORMAL)
        last = data.get("last_file")
        if last:
            when = format_clock(data.get("last_file_at"))
            self.last_file.set_full_text(f"Last file: {os.path.basename(str(last))}  {when}")
        else:
            self.last_file.set_full_text("No file yet today")
        error = data.get("last_error")
        self.last_error.setText(f"Last error: {error}" if error else "")
        self.last_error.setVisible(bool(error))
        set_severity(self.last_error, Severity.ERROR)


class StatusPage(Page):
    key = "status"
    title = "Status"
    icon_name = "status"
    scrollable = True

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.pause_button = icons.themed(QPushButton("Pause uploads"), "pause")
        self.pause_button.clicked.connect(context.toggle_uploads)
        self.restart_button = icons.themed(QPushButton("Restart worker"), "restart")
        self.restart_button.clicked.connect(context.restart_worker)
        self.add_header_widget(self.pause_button)
        self.add_header_widget(self.restart_button)

        # Overall state, in words, with the tray's icon.
        state_row = QHBoxLayout()
        self.state_icon = QLabel()
        self.state_icon.setFixedSize(40, 40)
        words = QVBoxLayout()
        words.setSpacing(0)
        self.state_text = label("", "title")
        self.state_detail = label(wrap=True)
        words.addWidget(self.state_text)
        words.addWidget(self.state_detail)
        state_row.addWidget(self.state_icon, 0, Qt.AlignmentFlag.AlignTop)
        state_row.addLayout(words, 1)
        self.body.addLayout(state_row)

        self.alarm_box = QVBoxLayout()
        self.alarm_box.setSpacing(6)
        self.body.addLayout(self.alarm_box)

        tiles = QHBoxLayout()
        self.waiting_tile = NumberTile("Waiting to upload")
        self.uploaded_tile = NumberTile("Uploaded")
        self.rejected_tile = NumberTile("Rejected")
        self.files_tile = NumberTile("Files converted today")
        self.failed_tile = NumberTile("Files failed today")
        for tile in (
            self.waiting_tile,
            self.uploaded_tile,
            self.rejected_tile,
            self.files_tile,
            self.failed_tile,
        ):
            tiles.addWidget(tile)
        self.body.addLayout(tiles)

        facts = QGridLayout()
        facts.setHorizontalSpacing(24)
        facts.setVerticalSpacing(4)
        self.fact_labels: dict[str, QLabel] = {}
        for index, (key, caption) in enumerate(
            (
                ("worker", "Worker"),
                ("server", "Server"),
                ("uploads", "Uploads"),
                ("url", "Server address"),
                ("version", "Server version"),
                ("ping", "Last contact"),
            )
        ):
            row, column = divmod(index, 3)
            box = QVBoxLayout()
            box.setSpacing(0)
            box.addWidget(label(caption, "caption"))
            value = label()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fact_labels[key] = value
            box.addWidget(value)
            facts.addLayout(box, row, column)
        self.body.addLayout(facts)

        self.body.addWidget(label("Converters", "heading"))
        self.cards_grid = QGridLayout()
        self.cards_grid.setSpacing(10)
        self.cards_grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        for column in range(CARD_COLUMNS):
            self.cards_grid.setColumnStretch(column, 1)
        self.cards: dict[str, ConverterCard] = {}
        self.no_converters = label(
            "No converter is set up yet. Add one on the Converters page (or run the setup "
            "wizard from the Station menu).",
            "caption",
            wrap=True,
        )
        self.body.addLayout(self.cards_grid)
        self.body.addWidget(self.no_converters)

        self.body.addWidget(label("Recent activity", "heading"))
        self.activity = QListWidget()
        self.activity.setAccessibleName("Recent activity")
        self.activity.setMinimumHeight(160)
        self.activity.setUniformItemSizes(True)
        self.body.addWidget(self.activity)
        self._recent: deque[tuple[str, Severity]] = deque(maxlen=ACTIVITY_LINES)

        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(200)
        self._repaint.timeout.connect(self.refresh)
        self.link.status_changed.connect(self._schedule)
        self.link.state_changed.connect(self._schedule)
        self.link.file_event.connect(self._on_file)
        self.link.alarm.connect(self._on_alarm)
        self.refresh()

    def _schedule(self, *_args: object) -> None:
        if not self._repaint.isActive():
            self._repaint.start()

    def load(self) -> None:
        self.refresh()

    # ------------------------------------------------------------ painting

    def refresh(self) -> None:
        status = self.link.status
        connected = self.link.connected
        state = tray_state(connected, status)
        self.state_icon.setPixmap(icons.tray_icon(state).pixmap(40, 40))
        self.state_text.setText(STATE_WORDS[state])
        self.state_detail.setText(state_detail(state, status))
        set_severity(
            self.state_text,
            Severity.ERROR
            if state in (TrayState.ATTENTION, TrayState.STOPPED)
            else Severity.WARNING
            if state is TrayState.OFFLINE
            else Severity.NORMAL,
        )
        paused = (status or {}).get("uploads") == "paused"
        self.pause_button.setText("Resume uploads" if paused else "Pause uploads")
        icons.themed(self.pause_button, "play" if paused else "pause")
        self.pause_button.setEnabled(connected)
        self.restart_button.setText("Restart worker" if connected else "Start worker")
        self._paint_alarms(status if connected else None)
        self._paint_numbers(status if connected else None)
        self._paint_facts(status, connected)
        self._paint_cards(status)

    def _paint_alarms(self, status: dict[str, Any] | None) -> None:
        while self.alarm_box.count():
            item = self.alarm_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for alarm in (status or {}).get("alarms") or []:
            banner = QFrame()
            set_role(banner, "banner")
            set_severity(banner, Severity.ERROR)
            row = QVBoxLayout(banner)
            row.setContentsMargins(10, 6, 10, 6)
            row.setSpacing(0)
            kind = str(alarm.get("kind", ""))
            title = ALARM_TITLES.get(kind, kind.replace("_", " ").capitalize())
            subject = alarm.get("subject")
            heading = label(f"{title}{f' – {subject}' if subject else ''}", "heading")
            row.addWidget(heading)
            message = label(str(alarm.get("message") or ""), wrap=True)
            since = format_time(alarm.get("since"))
            if since:
                message.setText(f"{message.text()}  (since {since})")
            row.addWidget(message)
            self.alarm_box.addWidget(banner)

    def _paint_numbers(self, status: dict[str, Any] | None) -> None:
        if status is None:
            for tile in (
                self.waiting_tile,
                self.uploaded_tile,
                self.rejected_tile,
                self.files_tile,
                self.failed_tile,
            ):
                tile.set_value("–")
            return
        counts = queue_counts(status)
        waiting = counts["queued"] + counts["uploading"]
        offline = status.get("server_state") in ("offline", "not_configured") or status.get(
            "uploads"
        ) in ("paused", "backing_off")
        self.waiting_tile.set_value(
            format_count(waiting), Severity.WARNING if waiting and offline else Severity.NORMAL
        )
        self.uploaded_tile.set_value(format_count(counts["uploaded"]))
        self.rejected_tile.set_value(
            format_count(counts["rejected"]),
            Severity.ERROR if counts["rejected"] else Severity.NORMAL,
        )
        converters = status.get("converters") or []
        done = sum(int(c.get("files_done_today") or 0) for c in converters)
        failed = sum(int(c.get("files_failed_today") or 0) for c in converters)
        self.files_tile.set_value(format_count(done))
        self.failed_tile.set_value(
            format_count(failed), Severity.ERROR if failed else Severity.NORMAL
        )

    def _paint_facts(self, status: dict[str, Any] | None, connected: bool) -> None:
        status = status or {}
        facts = self.fact_labels
        if connected:
            started = status.get("started_at")
            since = f" since {format_time(started, seconds=False)}" if started else ""
            facts["worker"].setText(f"Running{since} (pid {status.get('pid', '?')})")
            set_severity(facts["worker"], Severity.NORMAL)
        else:
            facts["worker"].setText("Not running")
            set_severity(facts["worker"], Severity.ERROR)
        server = str(status.get("server_state", "")) if connected else ""
        facts["server"].setText(SERVER_WORDS.get(server, "–"))
        set_severity(
            facts["server"],
            Severity.ERROR
            if server == "auth_failed"
            else Severity.WARNING
            if server == "offline"
            else Severity.NORMAL,
        )
        uploads = str(status.get("uploads", "")) if connected else ""
        text = UPLOAD_WORDS.get(uploads, "–")
        backoff = status.get("backoff_until")
        if uploads == "backing_off" and backoff:
            text += f" (next try {format_clock(backoff)})"
        facts["uploads"].setText(text)
        set_severity(
            facts["uploads"],
            Severity.WARNING if uploads in ("paused", "backing_off") else Severity.NORMAL,
        )
        facts["url"].setText(str(status.get("server_url") or "–"))
        version = status.get("server_version") or "–"
        skew = status.get("clock_skew_s")
        if isinstance(skew, int | float) and abs(skew) >= 1:
            version = f"{version} (clock differs by {format_duration(abs(skew))})"
        facts["version"].setText(str(version))
        set_severity(
            facts["version"],
            Severity.WARNING
            if isinstance(skew, int | float) and abs(skew) > 300
            else Severity.NORMAL,
        )
        facts["ping"].setText(format_time(status.get("last_ping_at")) or "–")

    def _paint_cards(self, status: dict[str, Any] | None) -> None:
        converters = list((status or {}).get("converters") or [])
        names = [str(c.get("name")) for c in converters]
        if names != list(self.cards):
            while self.cards_grid.count():
                item = self.cards_grid.takeAt(0)
                widget = item.widget() if item is not None else None
                if widget is not None:
                    widget.deleteLater()
            self.cards = {}
            for index, name in enumerate(names):
                card = ConverterCard(name)
                self.cards[name] = card
                row, column = divmod(index, CARD_COLUMNS)
                self.cards_grid.addWidget(card, row, column, Qt.AlignmentFlag.AlignTop)
        for data in converters:
            self.cards[str(data.get("name"))].update_from(data)
        self.no_converters.setVisible(not converters)

    # ------------------------------------------------------------ activity

    def _on_file(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        name = os.path.basename(str(data.get("path", "")))
        converter = data.get("converter", "")
        if data.get("outcome") == "failed":
            reason = data.get("reason") or "conversion failed"
            self._add_activity(f"{converter}: {name} failed – {reason}", Severity.ERROR)
        else:
            reports = len(data.get("report_ids") or [])
            noun = "report" if reports == 1 else "reports"
            self._add_activity(f"{converter}: {name} → {reports} {noun} queued", Severity.NORMAL)

    def _on_alarm(self, data: Any) -> None:
        if not isinstance(data, dict):
            return
        kind = str(data.get("kind", ""))
        title = ALARM_TITLES.get(kind, kind)
        if data.get("raised"):
            message = data.get("message") or ""
            self._add_activity(f"{title}{': ' + message if message else ''}", Severity.ERROR)
        else:
            self._add_activity(f"Resolved: {title}", Severity.NORMAL)

    def _add_activity(self, text: str, severity: Severity) -> None:
        from time import time

        line = f"{format_clock(time())}  {text}"
        item = QListWidgetItem(line)
        if severity is not Severity.NORMAL:
            item.setForeground(severity_color(severity))
        self.activity.insertItem(0, item)
        while self.activity.count() > ACTIVITY_LINES:
            self.activity.takeItem(self.activity.count() - 1)
        self._recent.appendleft((line, severity))
