"""The yield line monitor: the dashboard alone in its own window, with bigger numbers, for a
screen beside the line. Opened from the tray menu or the Yield page; one per GUI."""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.gui import icons
from app.gui.worker_link import WorkerLink
from app.gui.yield_dashboard import YieldDashboard

DEFAULT_WIDTH = 1366
DEFAULT_HEIGHT = 768


class YieldWindow(QWidget):
    def __init__(self, link: WorkerLink) -> None:
        super().__init__()
        self.setWindowTitle("WATS Station · Yield monitor")
        self.setWindowIcon(icons.app_icon())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        self.dashboard = YieldDashboard(link, monitor=True)
        layout.addWidget(self.dashboard)
        self.resize(DEFAULT_WIDTH, DEFAULT_HEIGHT)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.dashboard.activate()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.dashboard.deactivate()
        super().closeEvent(event)


_window: YieldWindow | None = None


def show_yield_window(link: WorkerLink) -> YieldWindow:
    """Show the monitor window (created on first use), raised to the front."""
    global _window
    if _window is None or _window.dashboard.link is not link:
        _window = YieldWindow(link)
    _window.show()
    _window.raise_()
    _window.activateWindow()
    return _window
