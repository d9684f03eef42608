"""The yield dashboard: filter bar, KPI tiles, trend, Pareto, breakdown, server view.

Shown on the main window's Yield page and, bigger, in the stand-alone line monitor window.
Everything comes from the worker (`yield.query`, `yield.server`); the dashboard asks again
when the worker says figures changed (`yield` event), when the filters change, and once a
minute while visible (rolling periods move and shifts change with the clock, not with
events). HMI rules (DESIGN.md §7): neutral colours, colour only for a figure off its target,
big numbers, trends rather than tables; a clear marker when the figures are not live.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDateTime, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.yield_engine import GROUP_TITLES
from app.core.yield_text import number, percent, rate, status_note, target_note
from app.gui import icons
from app.gui.async_ops import Op
from app.gui.formats import format_clock, format_time
from app.gui.theme import Severity, set_role, set_severity, severity_color
from app.gui.widgets import label
from app.gui.worker_link import WorkerLink
from app.gui.yield_charts import ParetoChart, TrendChart
from app.gui.yield_export import figures_csv

PERIODS: tuple[tuple[str, str], ...] = (
    ("Current shift", "shift"),
    ("Today", "today"),
    ("Last 8 hours", "hours:8"),
    ("Last 24 hours", "hours:24"),
    ("Last 7 days", "hours:168"),
    ("Last 50 units", "last:50"),
    ("Last 200 units", "last:200"),
    ("Custom range…", "custom"),
)
BREAKDOWNS: tuple[tuple[str, str], ...] = tuple((title, key) for key, title in GROUP_TITLES.items())
# Choices for the filter lists: what the station tested in the last 30 days.
CHOICES_PERIOD = "hours:720"
EVENT_DELAY_MS = 100  # coalesce a burst of `yield` events into one query
REFRESH_MS = 60_000
SERVER_REFRESH_S = 30.0
TABLE_HEADERS = ["", "Units", "FPY", "SPY", "TPY", "LPY", "Reports", "Report yield", "Retests"]
YIELD_TOPIC = "yield"
SEVERITY_OF = {"warning": Severity.WARNING, "alarm": Severity.ERROR}


class KpiTile(QFrame):
    """A caption, a big number and one line of detail; coloured only when off target."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 10)
        layout.setSpacing(0)
        self.base_caption = caption
        self.caption = label(caption, "caption")
        self.value = label("–", "big")
        self.value.setAccessibleName(caption)
        self.detail = label("", "caption")
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)
        self.severity = Severity.NORMAL

    def show_value(
        self, value: str, *, detail: str = "", note: str = "", severity: Severity = Severity.NORMAL
    ) -> None:
        self.caption.setText(f"{self.base_caption} · {note}" if note else self.base_caption)
        self.value.setText(value)
        self.detail.setText(detail)
        self.severity = severity
        set_severity(self.value, severity)
        set_severity(self, severity)

    def enlarge(self, point_size: int) -> None:
        """The line monitor's bigger numbers."""
        font = QFont(self.value.font())
        font.setPointSize(point_size)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setStyleSheet(f"font-size: {point_size}pt;")


def _severity(status: str) -> Severity:
    return SEVERITY_OF.get(status, Severity.NORMAL)


class YieldDashboard(QWidget):
    """The dashboard itself; a page or a window puts it on screen."""

    refreshed = Signal(object)  # the yield.query result just shown

    def __init__(
        self, link: WorkerLink, parent: QWidget | None = None, *, monitor: bool = False
    ) -> None:
        super().__init__(parent)
        self.link = link
        self.monitor = monitor
        self.figures: dict[str, Any] | None = None
        self.server: dict[str, Any] | None = None
        self.server_error = ""
        self._server_at = 0.0
        self._busy = False
        self._again = False
        self._active = False
        self._dirty = True
        self._choices_loaded = False
        self.queries = 0

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        outer.addLayout(self._build_filter_bar())
        outer.addLayout(self._build_status_line())
        self.alarm_box = QVBoxLayout()
        self.alarm_box.setSpacing(4)
        outer.addLayout(self.alarm_box)
        outer.addLayout(self._build_tiles())
        charts = QHBoxLayout()
        font_pt = 13 if monitor else 10
        self.trend = TrendChart(font_pt=font_pt)
        self.pareto = ParetoChart(font_pt=font_pt)
        for title, chart, stretch in (
            ("Trend: FPY and units", self.trend, 3),
            ("Failing steps", self.pareto, 2),
        ):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(label(title, "heading"))
            chart.widget.setMinimumHeight(220 if monitor else 180)
            box.addWidget(chart.widget, 1)
            charts.addLayout(box, stretch)
        outer.addLayout(charts, 3)
        outer.addWidget(self._build_tables(), 2)

        self._event_timer = QTimer(self)
        self._event_timer.setSingleShot(True)
        self._event_timer.setInterval(EVENT_DELAY_MS)
        self._event_timer.timeout.connect(self.refresh)
        self._clock = QTimer(self)
        self._clock.setInterval(REFRESH_MS)
        self._clock.timeout.connect(self.refresh)
        link.client.event.connect(self._on_event)
        link.state_changed.connect(self._on_link_state)
        link.status_changed.connect(self._show_liveness)
        Op(self, lambda: link.client.subscribe([YIELD_TOPIC])).run()
        self._show_liveness()

    # ------------------------------------------------------------ building

    def _build_filter_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.period = QComboBox()
        for text, value in PERIODS:
            self.period.addItem(text, value)
        self.period.setAccessibleName("Period")
        self.range_from = QDateTimeEdit(QDateTime.currentDateTime().addDays(-1))
        self.range_to = QDateTimeEdit(QDateTime.currentDateTime())
        for edit in (self.range_from, self.range_to):
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setCalendarPopup(True)
            edit.hide()
        self.process = self._choice("All processes", "Process")
        self.product = self._choice("All products", "Product")
        self.station = self._choice("All stations", "Station")
        self.breakdown = QComboBox()
        for text, value in BREAKDOWNS:
            self.breakdown.addItem(f"By {text.lower()}", value)
        self.breakdown.setAccessibleName("Breakdown")
        self.server_button = QPushButton(icons.icon("connection"), "Server view")
        self.server_button.setCheckable(True)
        self.server_button.setToolTip("Show the WATS server's figures beside the local ones")
        self.csv_button = QPushButton("Export CSV…")
        self.png_button = QPushButton("Export PNG…")
        bar.addWidget(self.period)
        bar.addWidget(self.range_from)
        bar.addWidget(self.range_to)
        for combo in (self.process, self.product, self.station, self.breakdown):
            bar.addWidget(combo)
        bar.addStretch(1)
        for button in (self.server_button, self.csv_button, self.png_button):
            bar.addWidget(button)
        self.period.currentIndexChanged.connect(self._period_changed)
        for edit in (self.range_from, self.range_to):
            edit.dateTimeChanged.connect(lambda _value: self.refresh())
        for combo in (self.process, self.product, self.station, self.breakdown):
            combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.server_button.toggled.connect(self._server_toggled)
        self.csv_button.clicked.connect(self._ask_csv)
        self.png_button.clicked.connect(self._ask_png)
        return bar

    def _choice(self, everything: str, name: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(everything, "")
        combo.setAccessibleName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return combo

    def _build_status_line(self) -> QHBoxLayout:
        line = QHBoxLayout()
        self.period_label = label("", "heading")
        self.as_of = label("", "caption")
        self.live_marker = label("")
        self.live_marker.setObjectName("yieldLiveMarker")
        line.addWidget(self.period_label)
        line.addSpacing(12)
        line.addWidget(self.as_of)
        line.addStretch(1)
        line.addWidget(self.live_marker)
        return line

    def _build_tiles(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setSpacing(10)
        self.fpy_tile = KpiTile("First-pass yield")
        self.report_tile = KpiTile("Report yield")
        self.volume_tile = KpiTile("Units tested")
        self.rate_tile = KpiTile("Units per hour")
        for column, tile in enumerate(
            (self.fpy_tile, self.report_tile, self.volume_tile, self.rate_tile)
        ):
            if self.monitor:
                tile.enlarge(44)
            grid.addWidget(tile, 0, column)
        return grid

    def _build_tables(self) -> QWidget:
        splitter = QSplitter(Qt.Orientation.Horizontal)
        local = QWidget()
        local_box = QVBoxLayout(local)
        local_box.setContentsMargins(0, 0, 0, 0)
        self.table_title = label("Breakdown (this station)", "heading")
        local_box.addWidget(self.table_title)
        self.table = self._table()
        local_box.addWidget(self.table, 1)
        self.server_panel = QFrame()
        set_role(self.server_panel, "card")
        server_box = QVBoxLayout(self.server_panel)
        server_box.setContentsMargins(10, 6, 10, 8)
        self.server_title = label("Server data · WATS DynamicYield, all stations", "heading")
        self.server_summary = label("", wrap=True)
        self.server_table = self._table()
        server_box.addWidget(self.server_title)
        server_box.addWidget(self.server_summary)
        server_box.addWidget(self.server_table, 1)
        # The server's table leaves out retests: side by side, both tables must fit.
        self.server_table.setColumnHidden(len(TABLE_HEADERS) - 1, True)
        self.server_panel.hide()
        splitter.addWidget(local)
        splitter.addWidget(self.server_panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.splitter = splitter
        return splitter

    def _table(self) -> QTableWidget:
        table = QTableWidget(0, len(TABLE_HEADERS))
        table.setHorizontalHeaderLabels(TABLE_HEADERS)
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(False)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(TABLE_HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        if self.monitor:
            font = QFont(table.font())
            font.setPointSize(font.pointSize() + 3)
            table.setFont(font)
        return table

    # ------------------------------------------------------------ showing and hiding

    def activate(self) -> None:
        self._active = True
        self._clock.start()
        if self._dirty or self.figures is None:
            self.refresh()

    def deactivate(self) -> None:
        self._active = False
        self._clock.stop()

    # ------------------------------------------------------------ queries

    def params(self) -> dict[str, Any]:
        value = str(self.period.currentData())
        if value == "custom":
            start = self.range_from.dateTime().toString("yyyy-MM-ddTHH:mm")
            end = self.range_to.dateTime().toString("yyyy-MM-ddTHH:mm")
            value = f"{start}..{end}"
        params: dict[str, Any] = {"period": value, "by": [str(self.breakdown.currentData())]}
        for name, combo in (("process", self.process), ("pn", self.product)):
            if combo.currentData():
                params[name] = [str(combo.currentData())]
        if self.station.currentData():
            params["station"] = [str(self.station.currentData())]
        return params

    def refresh(self) -> None:
        """Ask the worker for the figures (once at a time; a change meanwhile asks again)."""
        if not self._active:
            self._dirty = True
            return
        if not self.link.connected:
            self._show_liveness()
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        self._dirty = False
        params = self.params()
        if not self._choices_loaded:
            self._load_choices()
        Op(self, lambda: self.link.request("yield.query", params)).success(self._show).failure(
            self._failed
        ).finally_(self._done).run()
        if self.server_button.isChecked() and (
            time.monotonic() - self._server_at > SERVER_REFRESH_S or self.server is None
        ):
            self._ask_server(params)

    def _done(self) -> None:
        self._busy = False
        if self._again:
            self._again = False
            self.refresh()

    def _failed(self, message: str) -> None:
        self.as_of.setText(f"Figures not available: {message}")
        set_severity(self.as_of, Severity.WARNING)

    def _load_choices(self) -> None:
        self._choices_loaded = True
        params = {"period": CHOICES_PERIOD, "by": ["process", "pn", "station"]}
        Op(self, lambda: self.link.request("yield.query", params)).success(
            self._fill_choices
        ).failure(lambda _message: setattr(self, "_choices_loaded", False)).run()

    def _fill_choices(self, data: Mapping[str, Any]) -> None:
        processes: dict[str, str] = {}
        products: set[str] = set()
        stations: set[str] = set()
        for group in data.get("groups") or []:
            key = group["key"]
            code = str(key.get("process_code"))
            processes[code] = f"{code} {key.get('process_name') or ''}".strip()
            if key.get("pn"):
                products.add(str(key["pn"]))
            if key.get("station"):
                stations.add(str(key["station"]))
        self._set_choices(self.process, sorted(processes.items(), key=lambda kv: kv[1]))
        self._set_choices(self.product, [(p, p) for p in sorted(products)])
        self._set_choices(self.station, [(s, s) for s in sorted(stations)])

    @staticmethod
    def _set_choices(combo: QComboBox, items: list[tuple[str, str]]) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        while combo.count() > 1:
            combo.removeItem(1)
        for value, text in items:
            combo.addItem(text, value)
        index = combo.findData(current)
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def _period_changed(self, _index: int) -> None:
        custom = self.period.currentData() == "custom"
        self.range_from.setVisible(custom)
        self.range_to.setVisible(custom)
        self.server = None
        self.refresh()

    # ------------------------------------------------------------ events

    def _on_event(self, topic: str, _data: Any) -> None:
        if topic != YIELD_TOPIC:
            return
        if self._active:
            self._event_timer.start()
        else:
            self._dirty = True

    def _on_link_state(self, _state: str) -> None:
        self._show_liveness()
        if self.link.connected and self._active:
            self.refresh()

    def _show_liveness(self, *_args: object) -> None:
        """The marker that says whether these figures are live."""
        if not self.link.connected:
            when = format_clock(self.figures["as_of"]) if self.figures else ""
            text = "OFFLINE · the worker is not running"
            text += f" · figures as of {when}" if when else " · no figures"
            self.live_marker.setText(text)
            set_severity(self.live_marker, Severity.ERROR)
            return
        status = self.link.status or {}
        if (
            status.get("server_state") in ("offline", "auth_failed")
            and self.server_button.isChecked()
        ):
            self.live_marker.setText("Live · server offline (local figures only)")
            set_severity(self.live_marker, Severity.WARNING)
            return
        self.live_marker.setText("Live")
        set_severity(self.live_marker, Severity.NORMAL)

    # ------------------------------------------------------------ painting

    def _show(self, data: dict[str, Any]) -> None:
        self.figures = data
        self.queries += 1
        total = data["total"]
        period = data["period"]
        self.period_label.setText(period["label"])
        self.as_of.setText(f"as of {format_clock(data['as_of'])}")
        set_severity(self.as_of, Severity.NORMAL)
        self._show_tiles(total)
        # An hour with fewer units than the alarm rules judge is not coloured either.
        self.trend.show_trend(data["trend"], total.get("target"), int(data.get("min_units", 1)))
        self.pareto.show_pareto(data["pareto"]["by_name"])
        by = data.get("by") or []
        self.table_title.setText(
            "Breakdown (this station) by " + " / ".join(GROUP_TITLES[b].lower() for b in by)
        )
        self._fill_table(self.table, data["groups"], by)
        self._show_alarms(data.get("alarms") or [])
        self._show_liveness()
        self.refreshed.emit(data)

    def _show_tiles(self, total: Mapping[str, Any]) -> None:
        status = total.get("status") or {}
        fpy_note = status_note(total, "fpy") or target_note(total, "fpy")
        self.fpy_tile.show_value(
            percent(total["fpy"], none="–"),
            detail=f"SPY {percent(total['spy'], none='–')} · TPY {percent(total['tpy'], none='–')}"
            f" · LPY {percent(total['lpy'], none='–')}",
            note=fpy_note,
            severity=_severity(status.get("fpy", "")),
        )
        self.report_tile.show_value(
            percent(total["report_yield"], none="–"),
            detail=f"{number(total['passed_reports'])} of {number(total['reports'])} passed",
            note=status_note(total, "report_yield") or target_note(total, "report_yield"),
            severity=_severity(status.get("report_yield", "")),
        )
        self.volume_tile.show_value(
            number(total["units"]),
            detail=f"{number(total['reports'])} reports · {number(total['retests'])} retests",
        )
        self.rate_tile.show_value(
            rate(total["units_per_hour"], none="–"),
            detail="over the period so far",
            note=status_note(total, "units_per_hour") or target_note(total, "units_per_hour"),
            severity=_severity(status.get("units_per_hour", "")),
        )

    def _fill_table(
        self, table: QTableWidget, groups: list[Mapping[str, Any]], by: list[str]
    ) -> None:
        table.setHorizontalHeaderItem(
            0, QTableWidgetItem(" / ".join(GROUP_TITLES.get(b, b) for b in by) or "Group")
        )
        table.setRowCount(len(groups))
        for row, group in enumerate(groups):
            status = (group.get("status") or {}).get("fpy", "")
            cells = [
                group["label"],
                number(group["units"]),
                percent(group["fpy"]),
                percent(group["spy"]),
                percent(group["tpy"]),
                percent(group["lpy"]),
                number(group["reports"]),
                percent(group["report_yield"]),
                number(group.get("retests")),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 2 and status in SEVERITY_OF:
                    item.setForeground(QBrush(severity_color(_severity(status))))
                    item.setToolTip(status_note(group, "fpy"))
                table.setItem(row, column, item)

    def _show_alarms(self, alarms: list[Mapping[str, Any]]) -> None:
        code = self.process.currentData()
        if code:  # a line monitor for one process shows that process's alarms only
            alarms = [a for a in alarms if str(a.get("process_code")) == str(code)]
        while self.alarm_box.count():
            item = self.alarm_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for alarm in alarms:
            banner = QLabel(f"{str(alarm['level']).capitalize()}: {alarm['message']}")
            banner.setWordWrap(True)
            set_role(banner, "banner")
            severity = _severity(str(alarm["level"]))
            set_severity(banner, severity)
            banner.setObjectName("yieldAlarm")
            self.alarm_box.addWidget(banner)

    # ------------------------------------------------------------ server view

    def _server_toggled(self, on: bool) -> None:
        self.server_panel.setVisible(on)
        if on:
            half = max(self.splitter.width() // 2, 1)
            self.splitter.setSizes([half, half])
        if on:
            self.server = None
            self._ask_server(self.params())
        self._show_liveness()

    def _ask_server(self, params: dict[str, Any]) -> None:
        self._server_at = time.monotonic()
        self.server_summary.setText("Asking the WATS server…")
        Op(self, lambda: self.link.request("yield.server", params, timeout=60.0)).success(
            self._show_server
        ).failure(self._server_failed).run()

    def _show_server(self, data: dict[str, Any]) -> None:
        self.server = data
        self.server_error = ""
        total = data["total"]
        ignored = data.get("ignored_filters") or []
        note = f" (the server cannot filter by {', '.join(ignored)})" if ignored else ""
        self.server_summary.setText(
            f"FPY {percent(total['fpy'], none='–')} · report yield "
            f"{percent(total['report_yield'], none='–')} · {number(total['units'])} units"
            f" · as of {format_clock(data['as_of'])}{note}"
        )
        set_severity(self.server_summary, Severity.NORMAL)
        self._fill_table(self.server_table, data["groups"], data.get("by") or [])

    def _server_failed(self, message: str) -> None:
        self.server = None
        self.server_error = message
        self.server_summary.setText(f"Server data not available: {message}")
        set_severity(self.server_summary, Severity.WARNING)
        self.server_table.setRowCount(0)

    # ------------------------------------------------------------ export

    def export_csv(self, path: Path) -> None:
        if self.figures is None:
            raise ValueError("there are no figures to export yet")
        server = self.server if self.server_button.isChecked() else None
        path.write_text(figures_csv(self.figures, server), encoding="utf-8-sig")

    def export_png(self, path: Path) -> None:
        if not self.grab().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")

    def _default_name(self, suffix: str) -> str:
        stamp = time.strftime("%Y%m%d-%H%M")
        return f"yield-{stamp}.{suffix}"

    def _ask_csv(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, "Export yield as CSV", self._default_name("csv"), "CSV files (*.csv)"
        )
        if name:
            self._export(lambda: self.export_csv(Path(name)), name)

    def _ask_png(self) -> None:
        name, _filter = QFileDialog.getSaveFileName(
            self, "Export yield as PNG", self._default_name("png"), "PNG images (*.png)"
        )
        if name:
            self._export(lambda: self.export_png(Path(name)), name)

    def _export(self, write: Any, name: str) -> None:
        try:
            write()
        except (OSError, ValueError) as exc:
            self.as_of.setText(f"Export failed: {exc}")
            set_severity(self.as_of, Severity.ERROR)
            return
        self.as_of.setText(
            f"Saved {name} · as of {format_time(self.figures['as_of']) if self.figures else ''}"
        )
