"""The main window: navigation on the left, one page at a time on the right, the worker and
server state in the status bar. Closing it only hides it (the tray stays); pages are built
the first time they are opened so start-up stays fast."""

from __future__ import annotations

import importlib
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QSystemTrayIcon,
    QWidget,
)

from app.gui import icons
from app.gui.context import GuiContext
from app.gui.pages.base import Page
from app.gui.status_view import SERVER_WORDS, UPLOAD_WORDS, WORKER_WORDS
from app.gui.theme import Severity, set_severity
from app.gui.widgets import label

# (key, navigation text, icon, "module:Class"); Ctrl+1…Ctrl+9 follow this order (About: F1).
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("status", "Status", "status", "app.gui.pages.status:StatusPage"),
    ("queue", "Queue", "queue", "app.gui.pages.queue:QueuePage"),
    ("failed", "Failed files", "failed", "app.gui.pages.failed:FailedPage"),
    ("converters", "Converters", "converters", "app.gui.pages.converters:ConvertersPage"),
    ("connection", "Connection", "connection", "app.gui.pages.connection:ConnectionPage"),
    ("station", "Station", "station", "app.gui.pages.station:StationPage"),
    ("yield", "Yield", "yield", "app.gui.pages.yield_page:YieldPage"),
    ("settings", "Settings", "settings", "app.gui.pages.settings:SettingsPage"),
    ("logs", "Logs", "logs", "app.gui.pages.logs:LogsPage"),
    ("about", "About", "about", "app.gui.pages.about:AboutPage"),
)
PAGE_KEYS = tuple(p[0] for p in PAGES)
# Fits a 1366x768 screen with the taskbar.
DEFAULT_SIZE = QSize(1240, 700)
MINIMUM_SIZE = QSize(960, 600)


def _page_class(target: str) -> type[Page]:
    module, name = target.split(":")
    cls: type[Page] = getattr(importlib.import_module(module), name)
    return cls


class MainWindow(QMainWindow):
    quit_requested = Signal()

    def __init__(self, context: GuiContext) -> None:
        super().__init__()
        self.context = context
        self.link = context.link
        self.setWindowTitle("WATS Station")
        self.setWindowIcon(icons.app_icon())
        self.setMinimumSize(MINIMUM_SIZE)
        self.pages: dict[str, Page] = {}
        self._quitting = False
        self._current = ""

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setIconSize(QSize(22, 22))
        self.navigation.setFixedWidth(190)
        self.navigation.setAccessibleName("Pages")
        self.stack = QStackedWidget()
        for key, text, icon_name, _target in PAGES:
            item = QListWidgetItem(icons.icon(icon_name), text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.navigation.addItem(item)
            self.stack.addWidget(QWidget())  # replaced by the page on first show
        self.navigation.currentRowChanged.connect(self._on_row)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self._build_status_bar()
        self._build_menus()
        self.link.status_changed.connect(self._refresh_status_bar)
        self.link.state_changed.connect(self._refresh_status_bar)
        self._refresh_status_bar()
        geometry = context.settings.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(DEFAULT_SIZE)
        self.show_page("status")

    # ------------------------------------------------------------ pages

    def page(self, key: str) -> Page:
        """The page `key`, created now if it was never shown."""
        existing = self.pages.get(key)
        if existing is not None:
            return existing
        index = PAGE_KEYS.index(key)
        page = _page_class(PAGES[index][3])(self.context)
        placeholder = self.stack.widget(index)
        self.stack.insertWidget(index, page)
        if placeholder is not None:
            self.stack.removeWidget(placeholder)
            placeholder.deleteLater()
        self.pages[key] = page
        return page

    def show_page(self, key: str) -> Page:
        index = PAGE_KEYS.index(key)
        if self.navigation.currentRow() != index:
            self.navigation.setCurrentRow(index)  # -> _on_row
        return self.page(key)

    def _on_row(self, row: int) -> None:
        if row < 0:
            return
        key = PAGE_KEYS[row]
        previous = self.pages.get(self._current)
        if previous is not None and self._current != key:
            previous.deactivate()
        page = self.page(key)
        self.stack.setCurrentIndex(row)
        self._current = key
        page.activate()

    @property
    def current_key(self) -> str:
        return self._current

    # ------------------------------------------------------------ chrome

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.worker_label = label()
        self.server_label = label()
        self.uploads_label = label()
        for widget in (self.worker_label, self.server_label, self.uploads_label):
            widget.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(widget)

    def _refresh_status_bar(self, *_args: object) -> None:
        status = self.link.status or {}
        connected = self.link.connected
        worker = WORKER_WORDS.get(status.get("worker_state", ""), "") if connected else "Stopped"
        if self.link.state == "connecting":
            worker = "Connecting…"
        self._set(
            self.worker_label, f"Worker: {worker}", Severity.NORMAL if connected else Severity.ERROR
        )
        server = status.get("server_state", "")
        self._set(
            self.server_label,
            f"Server: {SERVER_WORDS.get(server, '–')}" if connected else "Server: –",
            Severity.ERROR
            if server == "auth_failed"
            else Severity.WARNING
            if server == "offline" and connected
            else Severity.NORMAL,
        )
        uploads = status.get("uploads", "")
        self._set(
            self.uploads_label,
            f"Uploads: {UPLOAD_WORDS.get(uploads, '–')}" if connected else "Uploads: –",
            Severity.WARNING
            if uploads in ("paused", "backing_off") and connected
            else Severity.NORMAL,
        )
        paused = uploads == "paused"
        self.pause_action.setText("Resume uploads" if paused else "Pause uploads")
        self.pause_action.setEnabled(connected)
        self.restart_action.setText("Restart worker" if connected else "Start worker")

    @staticmethod
    def _set(widget: QLabel, text: str, severity: Severity) -> None:
        widget.setText(text)
        set_severity(widget, severity)

    def _build_menus(self) -> None:
        menu = self.menuBar().addMenu("&Station")
        self.wizard_action = self._menu_action(
            menu, "Setup wizard…", "wizard", self.context.run_wizard
        )
        menu.addSeparator()
        self.pause_action = self._menu_action(
            menu, "Pause uploads", "pause", self.context.toggle_uploads
        )
        self.restart_action = self._menu_action(
            menu, "Restart worker", "restart", self.context.restart_worker
        )
        menu.addSeparator()
        close = self._menu_action(menu, "Close window", "", self.close)
        close.setShortcut(QKeySequence.StandardKey.Close)
        quit_action = self._menu_action(menu, "Quit WATS Station", "quit", self.quit_requested.emit)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setToolTip("Close the window and the tray; the worker keeps uploading")

        view = self.menuBar().addMenu("&View")
        for number, (key, text, icon_name, _target) in enumerate(PAGES, start=1):
            action = self._menu_action(view, text, icon_name, lambda k=key: self.show_page(k))
            if number <= 9:
                action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            elif key == "about":
                action.setShortcut(QKeySequence.StandardKey.HelpContents)
        view.addSeparator()
        refresh = self._menu_action(view, "Refresh", "refresh", self._reload_current)
        refresh.setShortcut(QKeySequence.StandardKey.Refresh)
        help_menu = self.menuBar().addMenu("&Help")
        self._menu_action(help_menu, "About WATS Station", "about", lambda: self.show_page("about"))

    def _menu_action(self, menu: Any, text: str, icon_name: str, slot: Any) -> QAction:
        action = QAction(text, self)
        if icon_name:
            icons.themed(action, icon_name)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _reload_current(self) -> None:
        page = self.pages.get(self._current)
        if page is not None:
            page.reload()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            for row, (_key, _text, icon_name, _target) in enumerate(PAGES):
                item = self.navigation.item(row)
                if item is not None:
                    item.setIcon(icons.icon(icon_name))

    # ------------------------------------------------------------ showing and closing

    def bring_to_front(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing hides the window: the tray and the worker stay. Without a system tray
        (some Linux desktops) it minimises instead, so the window can still be found."""
        self.context.settings.save_window_geometry(self.saveGeometry())
        page = self.pages.get(self._current)
        if page is not None:
            page.deactivate()
        if self._quitting:
            event.accept()
            return
        event.ignore()
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.hide()
        else:
            self.showMinimized()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        page = self.pages.get(self._current)
        if page is not None:
            page.activate()

    def quit(self) -> None:
        self._quitting = True
        self.close()
