"""The dashboard's two charts, drawn with pyqtgraph (QtCharts is deprecated since Qt 6.10).

HMI style (DESIGN.md §7): neutral greys and the text colour for everything normal; the
warning/alarm colour only for FPY points below their target. No mouse zooming or context
menus: an operator display should always show the whole period.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

from app.core.yield_text import percent
from app.gui.theme import Severity, muted_color, severity_color

MAX_TICKS = 9
PARETO_BARS = 8
STEP_CHARS = 34


def _palette() -> QPalette:
    return QGuiApplication.palette()


def _styled(plot: Any, font_pt: int) -> None:
    palette = _palette()
    text = palette.color(QPalette.ColorRole.WindowText)
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    item = plot.getPlotItem()
    item.setMenuEnabled(False)
    item.hideButtons()
    item.setMouseEnabled(x=False, y=False)
    font = QFont()
    font.setPointSize(font_pt)
    for side in ("left", "bottom", "right"):
        axis = item.getAxis(side)
        axis.setPen(pg.mkPen(muted_color(palette)))
        axis.setTextPen(pg.mkPen(text))
        axis.setStyle(tickFont=font)


def _bucket_label(start: float, bucket_s: float) -> str:
    pattern = "%H:%M" if bucket_s <= 3600 else "%d %b"
    return time.strftime(pattern, time.localtime(start))


class TrendChart:
    """FPY per hour (line, left axis, %) over units per hour (grey bars, right axis)."""

    def __init__(self, parent: QWidget | None = None, *, font_pt: int = 10) -> None:
        self._plot: Any = pg.PlotWidget(parent)
        self.widget: QWidget = self._plot
        self._font_pt = font_pt
        _styled(self._plot, font_pt)
        item = self._plot.getPlotItem()
        item.setLabel("left", "FPY %")
        item.showAxis("right")
        item.setLabel("right", "units")
        item.getAxis("right").setGrid(False)
        item.setYRange(0, 100, padding=0.02)
        self.units_box = pg.ViewBox()
        self.units_box.setMouseEnabled(x=False, y=False)
        item.scene().addItem(self.units_box)
        item.getAxis("right").linkToView(self.units_box)
        self.units_box.setXLink(item)
        self.units_box.setZValue(-10)
        item.vb.sigResized.connect(self._sync_boxes)
        self.bars: pg.BarGraphItem | None = None
        self.line = item.plot([], [], pen=None)
        self.target_line: pg.InfiniteLine | None = None
        self.points: list[tuple[float, float | None]] = []  # (units, fpy) per bucket, for tests
        self.low_points = 0  # buckets drawn in a warning/alarm colour

    def _sync_boxes(self) -> None:
        item = self._plot.getPlotItem()
        self.units_box.setGeometry(item.vb.sceneBoundingRect())
        self.units_box.linkedViewChanged(item.vb, self.units_box.XAxis)

    def show_trend(
        self, trend: Mapping[str, Any], target: Mapping[str, Any] | None, min_units: int
    ) -> None:
        palette = _palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grey = muted_color(palette)
        item = self._plot.getPlotItem()
        points: Sequence[Mapping[str, Any]] = trend.get("points") or []
        bucket_s = float(trend.get("bucket_s") or 3600)
        xs = list(range(len(points)))
        units = [int(p["units"]) for p in points]
        fpys = [p["fpy"] for p in points]
        self.points = list(zip(units, fpys, strict=True))
        if self.bars is not None:
            self.units_box.removeItem(self.bars)
        bar_colour = QColor(grey)
        bar_colour.setAlpha(90)
        self.bars = pg.BarGraphItem(
            x=xs, height=units, width=0.7, brush=pg.mkBrush(bar_colour), pen=pg.mkPen(None)
        )
        self.units_box.addItem(self.bars)
        self.units_box.setYRange(0, max([*units, 1]) * 1.15, padding=0)
        warning = (target or {}).get("fpy_warning")
        alarm = (target or {}).get("fpy_alarm")
        shown = [(x, f * 100) for x, f in zip(xs, fpys, strict=True) if f is not None]
        brushes = []
        self.low_points = 0
        for x, value in shown:
            severity = Severity.NORMAL
            judged = units[x] >= min_units
            if judged and alarm is not None and value < alarm * 100:
                severity = Severity.ERROR
            elif judged and warning is not None and value < warning * 100:
                severity = Severity.WARNING
            if severity is not Severity.NORMAL:
                self.low_points += 1
            brushes.append(pg.mkBrush(severity_color(severity, palette)))
        self.line.setData(
            [x for x, _ in shown],
            [v for _, v in shown],
            pen=pg.mkPen(text, width=2),
            symbol="o",
            symbolSize=self._font_pt,
            symbolBrush=brushes,
            symbolPen=pg.mkPen(None),
        )
        if self.target_line is not None:
            item.removeItem(self.target_line)
            self.target_line = None
        if warning is not None:
            self.target_line = pg.InfiniteLine(
                pos=warning * 100,
                angle=0,
                pen=pg.mkPen(grey, width=1, style=Qt.PenStyle.DashLine),
                label=f"target {percent(warning)}",
                # Below the line, at its left end: above it the label would leave the chart.
                labelOpts={"position": 0.02, "color": grey, "anchors": [(0, 0), (0, 0)]},
            )
            item.addItem(self.target_line)
        step = max(1, -(-len(points) // MAX_TICKS))
        ticks = [(x, _bucket_label(float(points[x]["start"]), bucket_s)) for x in xs[::step]]
        item.getAxis("bottom").setTicks([ticks])
        item.setXRange(-0.6, max(len(points), 1) - 0.4, padding=0)
        self._sync_boxes()


class ParetoChart:
    """Failing steps as horizontal bars, most failures on top, with share and cumulative."""

    def __init__(self, parent: QWidget | None = None, *, font_pt: int = 10) -> None:
        self._plot: Any = pg.PlotWidget(parent)
        self.widget: QWidget = self._plot
        self._font_pt = font_pt
        _styled(self._plot, font_pt)
        item = self._plot.getPlotItem()
        item.invertY(True)
        item.setLabel("bottom", "failed reports")
        self.bars: pg.BarGraphItem | None = None
        self.labels: list[pg.TextItem] = []
        self.rows: list[tuple[str, int]] = []

    def show_pareto(self, rows: Sequence[Mapping[str, Any]]) -> None:
        palette = _palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        grey = muted_color(palette)
        item = self._plot.getPlotItem()
        shown = list(rows[:PARETO_BARS])
        self.rows = [(str(r["step"]), int(r["count"])) for r in shown]
        if self.bars is not None:
            item.removeItem(self.bars)
        for old in self.labels:
            item.removeItem(old)
        self.labels = []
        counts = [int(r["count"]) for r in shown]
        ys = list(range(len(shown)))
        self.bars = pg.BarGraphItem(
            x0=[0] * len(shown),
            y=ys,
            width=counts,
            height=0.65,
            brush=pg.mkBrush(grey),
            pen=pg.mkPen(None),
        )
        item.addItem(self.bars)
        font = QFont()
        font.setPointSize(self._font_pt)
        for y, row in zip(ys, shown, strict=True):
            caption = (
                f" {row['count']}  ({percent(row['share'])}, cum. {percent(row['cumulative'])})"
            )
            label = pg.TextItem(caption, color=text, anchor=(0, 0.5))
            label.setFont(font)
            label.setPos(float(row["count"]), float(y))
            item.addItem(label)
            self.labels.append(label)
        names = [_short(str(r["step"])) for r in shown]
        item.getAxis("left").setTicks([list(zip(ys, names, strict=True))])
        top = max([*counts, 1])
        # Room on the right for the share labels; whole-number ticks; bars of one thickness.
        span = max(top * 2.3, 4)
        item.setXRange(0, span, padding=0)
        major = max(1, round(span / 8))
        item.getAxis("bottom").setTickSpacing(major=major, minor=major)
        item.setYRange(-0.6, max(len(shown), 4) - 0.4, padding=0)


def _short(name: str) -> str:
    return name if len(name) <= STEP_CHARS else name[: STEP_CHARS - 1] + "…"
