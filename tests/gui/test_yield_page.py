"""Yield page and line monitor: live figures from a real worker, colour only when off target,
export to CSV and PNG, the offline marker, and the monitor window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtGui import QImage

from app.gui.pages.yield_page import YieldPage
from app.gui.theme import Severity
from app.gui.yield_window import YieldWindow
from tests.gui.conftest import Gui
from tests.integration.yield_support import drop_reports, history, uut


def _period(page: YieldPage, value: str) -> None:
    combo = page.dashboard.period
    combo.setCurrentIndex(combo.findData(value))


def test_the_page_follows_reports_live_and_colours_only_what_is_off_target(
    gui: Gui, tmp_path: Path
) -> None:
    inbox = tmp_path / "in"
    gui.station.configure(folders={"line": inbox})
    gui.start_worker()
    gui.connect()
    page = gui.page(YieldPage)
    board = page.dashboard
    _period(page, "hours:8")
    gui.until(lambda: board.figures is not None and board.figures["period"]["kind"] == "hours")
    assert board.fpy_tile.value.text() == "–"
    assert board.live_marker.text() == "Live"

    # Nine good units: no target yet, so nothing is coloured.
    # All reports of this test fall within 51 minutes of `base`: starting it on the hour keeps
    # them in one hourly trend bucket whatever the time of day the test runs.
    base = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    drop_reports(inbox, [uut(f"G{i}", "P", base + timedelta(minutes=i)) for i in range(9)])
    gui.until(lambda: board.volume_tile.value.text() == "9", 30, "nine units on the page")
    assert board.queries >= 2  # the first (empty) figures, then the live update
    assert board.fpy_tile.value.text() == "100%"
    assert board.fpy_tile.severity is Severity.NORMAL
    assert board.table.rowCount() == 1
    assert board.table.item(0, 0).text() == "50 PCBA test"

    # A target, and a unit history with failures: FPY drops below it and the tile turns.
    gui.station.call(
        "yield.targets.set",
        {
            "targets": [{"process_code": 50, "fpy_warning": 0.95, "fpy_alarm": 0.5}],
            "alarms": {"min_units": 5},
        },
    )
    drop_reports(inbox, history(base + timedelta(minutes=30)), prefix="h")
    gui.until(lambda: board.figures and board.figures["total"]["reports"] == 18, 30, "18 reports")
    assert board.volume_tile.value.text() == "13"
    assert board.fpy_tile.value.text() == "76.9%"  # 10 of 13 first-pass
    assert board.fpy_tile.severity is Severity.WARNING
    assert "below target 95%" in board.fpy_tile.caption.text()
    assert board.volume_tile.severity is Severity.NORMAL  # volume has no target: never coloured
    assert board.report_tile.value.text() == "66.7%"  # 12 of 18 reports
    assert board.pareto.rows[0] == ("Idle current", 3)
    assert sum(units for units, _ in board.trend.points) == 13
    assert board.trend.low_points >= 1

    # Breakdown by product, and a filter.
    board.breakdown.setCurrentIndex(board.breakdown.findData("pn"))
    gui.until(lambda: board.table.item(0, 0) and board.table.item(0, 0).text() == "PN-1")
    assert board.table.horizontalHeaderItem(0).text() == "Product"


def test_export_csv_and_png(gui: Gui, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    gui.station.configure(folders={"line": inbox})
    gui.start_worker()
    gui.connect()
    page = gui.page(YieldPage)
    board = page.dashboard
    _period(page, "hours:8")
    drop_reports(inbox, history(datetime.now(UTC) - timedelta(hours=1)))
    gui.until(lambda: board.figures and board.figures["total"]["reports"] == 9, 30, "9 reports")
    csv_path = tmp_path / "yield.csv"
    board.export_csv(csv_path)
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "FPY %,25.00," in text
    assert "Units,4," in text
    assert "Idle current,MainSequence Callback/Idle current,3,50.00,50.00" in text
    assert "50 PCBA test,4,25.00,50.00,75.00,75.00,9,33.33,5" in text
    png_path = tmp_path / "yield.png"
    board.export_png(png_path)
    image = QImage(str(png_path))
    assert image.width() > 600
    assert image.height() > 300


def test_the_offline_marker_when_the_worker_stops(gui: Gui, tmp_path: Path) -> None:
    gui.station.configure(folders={"line": tmp_path / "in"})
    gui.start_worker()
    gui.connect()
    page = gui.page(YieldPage)
    board = page.dashboard
    gui.until(lambda: board.figures is not None)
    assert board.live_marker.text() == "Live"
    gui.station.stop()
    gui.until(lambda: "OFFLINE" in board.live_marker.text(), 20, "the offline marker")
    assert "figures as of" in board.live_marker.text()
    assert board.live_marker.property("severity") == "error"


def test_the_line_monitor_window_shows_the_same_figures_bigger(gui: Gui, tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    gui.station.configure(folders={"line": inbox})
    gui.start_worker()
    link = gui.connect()
    drop_reports(inbox, history(datetime.now(UTC) - timedelta(minutes=30)))
    gui.until(
        lambda: gui.station.call("yield.query", {"period": "hours:8"})["total"]["reports"] == 9,
        30,
    )
    window = YieldWindow(link)
    gui.show(window)
    board = window.dashboard
    board.period.setCurrentIndex(board.period.findData("hours:8"))
    gui.until(lambda: board.figures and board.figures["total"]["reports"] == 9, 30, "figures")
    assert board.fpy_tile.value.text() == "25%"
    assert board.fpy_tile.value.font().pointSize() >= 40
    window.close()


def test_the_tray_opens_the_monitor_and_notifies_yield_alarms(gui: Gui, tmp_path: Path) -> None:
    from app.gui.tray import Tray
    from app.gui.yield_alerts import notify_yield_alarms

    gui.station.configure(folders={"line": tmp_path / "in"})
    gui.start_worker()
    link = gui.connect()
    tray = Tray(link)
    notify_yield_alarms(tray)
    opened: list[bool] = []
    tray.show_yield.connect(lambda: opened.append(True))
    tray.yield_action.trigger()
    assert opened == [True]
    assert tray.yield_action.text() == "Yield monitor"
    link.alarm.emit(
        {
            "raised": True,
            "kind": "yield_failures",
            "subject": "50 PCBA test",
            "message": "Yield alarm: The last 5 units of 50 PCBA test failed their first test",
        }
    )
    link.alarm.emit({"raised": False, "kind": "yield_failures", "subject": "50 PCBA test"})
    assert tray.notifications == [
        (
            "Units keep failing",
            "Yield alarm: The last 5 units of 50 PCBA test failed their first test",
        )
    ]
