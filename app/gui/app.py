"""Start-up of the desktop GUI: one instance per user, tray first, then the worker.

`run_gui(instance, minimized)` is what `wats-station` with no command runs:
1. a second launch hands over to the first GUI (which raises its window) and exits;
2. the tray icon appears at once (state "stopped" until the worker answers);
3. the worker is found, or started detached if none answers, and its events are followed;
4. with no configuration yet, the setup wizard opens.

Closing the window keeps the tray; Quit closes the GUI and leaves the worker running.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication

from app.core.paths import InstancePaths
from app.gui import formats, icons
from app.gui.async_ops import Op, set_default_failure_handler
from app.gui.context import GuiContext
from app.gui.gui_settings import GuiSettings
from app.gui.single_instance import SingleInstance
from app.gui.status_view import drop_folders
from app.gui.theme import Severity, apply_theme
from app.gui.tray import Tray
from app.gui.worker_link import WorkerLink
from app.gui.yield_alerts import notify_yield_alarms

if TYPE_CHECKING:  # imported lazily at run time: the tray must appear fast
    from app.gui.main_window import MainWindow
    from app.gui.wizard import SetupWizard

log = logging.getLogger("wats.gui")

LOG_FILE = "gui.log"


def setup_gui_logging(paths: InstancePaths) -> None:
    """The GUI's own rotating log next to the worker's (never a secret: no token goes here)."""
    root = logging.getLogger("wats")
    if any(getattr(h, "wats_gui", False) for h in root.handlers):
        return
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        paths.log_dir / LOG_FILE, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.wats_gui = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def first_run(paths: InstancePaths) -> bool:
    return not paths.config_file.exists()


def start_minimised_setting(paths: InstancePaths) -> bool:
    """config.json's gui.start_minimised, read without waiting for the worker."""
    import json

    try:
        data = json.loads(paths.config_file.read_text(encoding="utf-8"))
        return bool(data.get("gui", {}).get("start_minimised", False))
    except (OSError, ValueError, AttributeError):
        return False


class GuiApp(QObject):
    """Tray, window and wizard around one worker link."""

    def __init__(self, instance: str = "default", *, minimized: bool = False) -> None:
        super().__init__()
        self.instance = instance
        self.paths = InstancePaths.for_instance(instance).ensure()
        self.settings = GuiSettings(instance)
        formats.use_neutral_formats(self.settings.neutral_formats)
        self.minimized = minimized or start_minimised_setting(self.paths)
        self.link = WorkerLink(instance, self)
        self.context = GuiContext(
            instance=instance,
            link=self.link,
            paths=self.paths,
            settings=self.settings,
            show_page=self.show_page,
            run_wizard=self.run_wizard,
            restart_worker=self.restart_worker,
            toggle_uploads=self.toggle_uploads,
        )
        self.tray = Tray(self.link, self)
        self.tray.show_status.connect(lambda: self.show_page("status"))
        self.tray.show_yield.connect(self.show_yield_monitor)
        notify_yield_alarms(self.tray)
        self.tray.show_configure.connect(lambda: self.show_page("converters"))
        self.tray.toggle_uploads.connect(self.toggle_uploads)
        self.tray.open_drop_folder.connect(self.open_drop_folder)
        self.tray.open_logs.connect(self.open_logs)
        self.tray.restart_worker.connect(self.restart_worker)
        self.tray.quit_requested.connect(self.quit)
        self.window: MainWindow | None = None
        self.wizard: SetupWizard | None = None
        self.finished: asyncio.Future[None] | None = None
        set_default_failure_handler(self._show_failure)

    # ------------------------------------------------------------ start and stop

    async def start(self, *, spawn: bool = True) -> None:
        self.tray.show()
        if not self.minimized:
            self.show_page("status")
        await self.link.start(spawn=spawn)
        if first_run(self.paths):
            self.run_wizard()

    async def run(self) -> None:
        """Start, then wait until Quit."""
        self.finished = asyncio.get_running_loop().create_future()
        await self.start()
        await self.finished

    def quit(self) -> None:
        log.info("GUI quitting (the worker keeps running)")
        if self.wizard is not None:
            self.wizard.close()
        if self.window is not None:
            self.window.quit()
        self.tray.hide()
        self.link.close()
        if self.finished is not None and not self.finished.done():
            self.finished.set_result(None)

    # ------------------------------------------------------------ actions

    def main_window(self) -> MainWindow:
        if self.window is None:
            from app.gui.main_window import MainWindow

            self.window = MainWindow(self.context)
            self.window.quit_requested.connect(self.quit)
        return self.window

    def show_page(self, key: str) -> None:
        window = self.main_window()
        window.show_page(key)
        window.bring_to_front()

    def show_yield_monitor(self) -> None:
        """The yield dashboard in a window of its own (for a screen beside the line)."""
        from app.gui.yield_window import show_yield_window

        show_yield_window(self.link)

    def raise_window(self) -> None:
        """A second launch knocked: show whatever the user was looking at."""
        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return
        window = self.main_window()
        window.bring_to_front()

    def run_wizard(self) -> None:
        from app.gui.wizard import SetupWizard

        if self.wizard is not None and self.wizard.isVisible():
            self.wizard.raise_()
            self.wizard.activateWindow()
            return
        self.wizard = SetupWizard(self.context)
        self.wizard.applied.connect(self._wizard_applied)
        self.wizard.show()

    def _wizard_applied(self, warning: str) -> None:
        self.show_page("status")
        window = self.main_window()
        page = window.pages.get("status")
        if page is not None:
            if warning:
                page.show_message(warning, Severity.WARNING)
            else:
                page.show_message("Setup saved. The worker uses the new settings now.")

    def toggle_uploads(self) -> None:
        paused = (self.link.status or {}).get("uploads") == "paused"
        method = "uploads.resume" if paused else "uploads.pause"
        Op(self, lambda: self.link.request(method)).run()

    def restart_worker(self) -> None:
        Op(self, self.link.restart_worker).success(
            lambda ok: (
                None
                if ok
                else self._show_failure("The worker did not start. See the worker log (Open logs).")
            )
        ).run()

    def open_drop_folder(self) -> None:
        folders = drop_folders(self.link.status)
        if folders:
            QDesktopServices.openUrl(QUrl.fromLocalFile(folders[0]))

    def open_logs(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.paths.log_dir)))

    def _show_failure(self, message: str) -> None:
        log.warning("%s", message)
        if self.window is not None and self.window.isVisible():
            page = self.window.pages.get(self.window.current_key)
            if page is not None:
                page.show_message(message, Severity.ERROR)
                return
        self.tray.notify("WATS Station", message)


def run_gui(instance: str = "default", *, minimized: bool = False, argv: Sequence[str] = ()) -> int:
    import qasync

    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationName("WATS Station")
    app.setApplicationDisplayName("WATS Station")
    app.setDesktopFileName("wats-station")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(icons.app_icon())
    paths = InstancePaths.for_instance(instance).ensure()
    setup_gui_logging(paths)

    guard = SingleInstance(instance)
    if guard.notify_running():
        print("WATS Station is already open; its window was brought to the front.")
        return 0
    guard.listen()
    apply_theme(app)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    gui = GuiApp(instance, minimized=minimized)
    guard.show_requested.connect(gui.raise_window)
    with loop:
        loop.run_until_complete(gui.run())
    guard.close()
    return 0
