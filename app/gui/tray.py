"""The tray icon: state at a glance, counts in the tooltip, the everyday actions in its menu,
and a notification for alarms (never for routine events).

The icon follows the worker link: it turns to "stopped" the moment the worker's connection
drops, and the menu then offers to start it again.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.gui import icons
from app.gui.icons import TrayState
from app.gui.status_view import (
    ALARM_TITLES,
    NOTIFY_ALARMS,
    drop_folders,
    state_detail,
    tooltip,
    tray_state,
)
from app.gui.worker_link import WorkerLink

log = logging.getLogger("wats.gui.tray")


class Tray(QObject):
    """Emits what the user chose; the application decides how to do it."""

    show_status = Signal()
    show_yield = Signal()
    show_configure = Signal()
    toggle_uploads = Signal()
    open_drop_folder = Signal()
    open_logs = Signal()
    restart_worker = Signal()
    quit_requested = Signal()

    def __init__(self, link: WorkerLink, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.link = link
        self.state = TrayState.STOPPED
        self.icon = QSystemTrayIcon(icons.tray_icon(self.state), self)
        self.menu = QMenu()
        self._build_menu()
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.icon.messageClicked.connect(self.show_status)
        link.status_changed.connect(self._refresh)
        link.state_changed.connect(self._refresh)
        link.alarm.connect(self._on_alarm)
        link.worker_lost.connect(self._on_worker_lost)
        self.notifications: list[tuple[str, str]] = []  # (title, message), newest last
        self._refresh()

    def _build_menu(self) -> None:
        menu = self.menu
        self.status_action = self._action("Status monitor", "status", self.show_status)
        menu.setDefaultAction(self.status_action)
        self.yield_action = self._action("Yield monitor", "yield", self.show_yield)
        self.configure_action = self._action("Configure…", "settings", self.show_configure)
        menu.addSeparator()
        self.pause_action = self._action("Pause uploads", "pause", self.toggle_uploads)
        self.drop_action = self._action("Open drop folder", "folder", self.open_drop_folder)
        self.logs_action = self._action("Open logs", "logs", self.open_logs)
        menu.addSeparator()
        self.restart_action = self._action("Restart worker", "restart", self.restart_worker)
        menu.addSeparator()
        self.quit_action = self._action("Quit", "quit", self.quit_requested)
        self.quit_action.setToolTip("Close this window and the tray; uploads go on")

    def _action(self, text: str, icon_name: str, signal: Any) -> QAction:
        action = icons.themed(QAction(text, self.menu), icon_name)
        action.triggered.connect(lambda _checked=False: signal.emit())
        self.menu.addAction(action)
        return action

    def show(self) -> None:
        self.icon.show()
        log.info("tray icon shown (system tray available: %s)", self.available())

    def hide(self) -> None:
        self.icon.hide()

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (
            QSystemTrayIcon.ActivationReason.Trigger,
            QSystemTrayIcon.ActivationReason.DoubleClick,
        ):
            self.show_status.emit()

    def _refresh(self, *_args: object) -> None:
        status = self.link.status
        connected = self.link.connected
        state = tray_state(connected, status)
        if state is not self.state:
            log.info(
                "tray: %s -> %s (%s)", self.state.value, state.value, state_detail(state, status)
            )
            self.state = state
            self.icon.setIcon(icons.tray_icon(state))
        self.icon.setToolTip(tooltip(state, status))
        paused = (status or {}).get("uploads") == "paused"
        self.pause_action.setText("Resume uploads" if paused else "Pause uploads")
        icons.themed(self.pause_action, "play" if paused else "pause")
        self.pause_action.setEnabled(connected)
        self.drop_action.setEnabled(bool(drop_folders(status)))
        self.restart_action.setText("Restart worker" if connected else "Start worker")

    def _on_alarm(self, data: Any) -> None:
        if not isinstance(data, dict) or not data.get("raised"):
            return
        kind = str(data.get("kind", ""))
        if kind not in NOTIFY_ALARMS:
            return
        title = ALARM_TITLES.get(kind, "WATS Station needs attention")
        message = str(data.get("message") or "")
        subject = data.get("subject")
        if subject and subject not in message:
            message = f"{subject}: {message}" if message else str(subject)
        self.notify(title, message or "Open the status monitor for details.", critical=True)

    def _on_worker_lost(self) -> None:
        self.notify(
            "The WATS Station worker stopped",
            "Files are not picked up and nothing is uploaded. "
            "Choose “Start worker” in this menu to start it again.",
            critical=True,
        )

    def notify(self, title: str, message: str, *, critical: bool = False) -> None:
        self.notifications.append((title, message))
        kind = (
            QSystemTrayIcon.MessageIcon.Critical
            if critical
            else QSystemTrayIcon.MessageIcon.Information
        )
        if self.icon.isVisible() and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, message, kind, 15_000)
        log.warning("notification: %s: %s", title, message)
