"""Yield: the dashboard on the main window (app.gui.yield_dashboard), plus a button that opens
the same figures in a window of their own for a line monitor."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from app.gui import icons
from app.gui.context import GuiContext
from app.gui.pages.base import Page
from app.gui.yield_dashboard import YieldDashboard


class YieldPage(Page):
    key = "yield"
    title = "Yield"
    icon_name = "yield"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.dashboard = YieldDashboard(context.link)
        self.body.addWidget(self.dashboard, 1)
        self.monitor_button = QPushButton(icons.icon("yield"), "Open as line monitor")
        self.monitor_button.setToolTip("The same figures in a window of their own, bigger")
        self.monitor_button.clicked.connect(self._open_monitor)
        self.add_header_widget(self.monitor_button)
        self.monitor: QWidget | None = None

    def activate(self) -> None:
        super().activate()
        self.dashboard.activate()

    def deactivate(self) -> None:
        self.dashboard.deactivate()

    def reload(self) -> None:
        self.dashboard.refresh()

    def _open_monitor(self) -> None:
        from app.gui.yield_window import show_yield_window

        self.monitor = show_yield_window(self.context.link)
