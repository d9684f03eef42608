"""Regenerate the user guide's screenshots (docs/images/*.png) from the real GUI.

Run by `scripts/screenshots`, which provides an X display (Xvfb, 1366x768) with a system tray
(trayer). Sets up a throw-away station against the local WATS server, drops real result files
(good, failing, malformed, one the server rejects), starts the real worker, then shows every
page, the report detail, the converter editor and test, the setup wizard's steps, the tray
icon states and the tray menu, and saves each as a PNG.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SCREEN_W, SCREEN_H = 1366, 768
# A maximised window on a 1366x768 screen with a 40 px taskbar.
WINDOW_W, WINDOW_H = 1366, 728
GENERATED_FILES = 60


def prepare_station(home: Path, server_url: str, token: str) -> dict[str, Path]:
    from app.core.config import ConverterConfig, ServerConfig, StationConfig, StationInfo
    from app.core.config_store import ConfigStore
    from app.core.paths import InstancePaths
    from app.core.secrets import set_token

    paths = InstancePaths.for_instance("default").ensure()
    folders = {
        "FCT line 2": home / "drop" / "fct-line-2",
        "ICT line 1": home / "drop" / "ict-line-1",
        "Lab bench": home / "drop" / "lab-bench",
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    config = StationConfig(
        server=ServerConfig(url=server_url),
        station=StationInfo(name="FCT-LINE-2", location="Building 2, line 2", purpose="Production"),
        converters=[
            ConverterConfig(name="FCT line 2", converter="wsjf", watch_folder=folders["FCT line 2"]),
            ConverterConfig(
                name="ICT line 1", converter="teradyne-i3070", watch_folder=folders["ICT line 1"]
            ),
            ConverterConfig(name="Lab bench", converter="wstf", watch_folder=folders["Lab bench"]),
        ],
        secret_store="file",
    )
    ConfigStore(paths).save(config)
    set_token(paths, config, token)
    return folders


def drop_files(folders: dict[str, Path]) -> int:
    """Result files as testers write them; returns how many reports should arrive."""
    from app.samples import sample_path
    from app.samples.generate import generated_uut

    def write(folder: Path, name: str, data: bytes) -> None:
        temp = folder.parent / f".{name}.part"
        temp.write_bytes(data)
        temp.replace(folder / name)

    fct = folders["FCT line 2"]
    for index in range(GENERATED_FILES):
        write(fct, f"uut-{index:04d}.json", json.dumps(generated_uut(index, fail_rate=0.15)).encode())
    rejected = generated_uut(GENERATED_FILES + 1, process_code=4242)
    write(fct, "unknown-process.json", json.dumps(rejected).encode())
    write(fct, "truncated.json", b'{"type": "T", "pn": "PCBA-1000", "sn": ')
    lab = folders["Lab bench"]
    write(lab, "bench-run.txt", sample_path("wstf-example.txt").read_bytes())
    write(lab, "notes.txt", b"operator notes, not a result file\n")
    return GENERATED_FILES + 2


class Shooter:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.taken: list[str] = []

    def grab(self, widget: Any, name: str) -> None:
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        self.taken.append(path.name)

    def screen(self, name: str, crop: tuple[int, int, int, int] | None = None) -> None:
        """The whole X screen (the tray lives outside our windows)."""
        path = self.out / f"{name}.png"
        command = ["import", "-window", "root"]
        if crop is not None:
            x, y, w, h = crop
            command += ["-crop", f"{w}x{h}+{x}+{y}", "+repage"]
        subprocess.run([*command, str(path)], check=True)
        self.taken.append(path.name)


async def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def pause(seconds: float) -> None:
    await asyncio.sleep(seconds)


def dark_palette() -> Any:
    """The palette a desktop in dark mode gives Qt (what Windows 11 or GNOME would)."""
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette()
    role = QPalette.ColorRole
    colours = {
        role.Window: "#202124",
        role.WindowText: "#e8eaed",
        role.Base: "#292a2d",
        role.AlternateBase: "#303134",
        role.Text: "#e8eaed",
        role.Button: "#303134",
        role.ButtonText: "#e8eaed",
        role.BrightText: "#ffffff",
        role.Highlight: "#3b6fb6",
        role.HighlightedText: "#ffffff",
        role.ToolTipBase: "#303134",
        role.ToolTipText: "#e8eaed",
        role.PlaceholderText: "#9aa0a6",
        role.Light: "#4a4b4f",
        role.Midlight: "#3c3d41",
        role.Mid: "#2f3033",
        role.Dark: "#18191b",
        role.Shadow: "#000000",
        role.Link: "#8ab4f8",
    }
    for colour_role, value in colours.items():
        palette.setColor(colour_role, QColor(value))
    for colour_role in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, colour_role, QColor("#7f8389"))
    return palette


def tray_states_image(path: Path) -> None:
    """The five tray icons side by side with their meaning (light panel and dark panel)."""
    from PySide6.QtCore import QRect, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter

    from app.gui.icons import TrayState, tray_icon
    from app.gui.status_view import STATE_WORDS

    states = list(TrayState)
    cell_w, height = 200, 150
    image = QImage(cell_w * len(states), height * 2, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    font = QFont()
    font.setPointSize(11)
    painter.setFont(font)
    for row, (panel, text) in enumerate((("#e5e7eb", "#111827"), ("#1f2937", "#f9fafb"))):
        painter.fillRect(0, row * height, image.width(), height, QColor(panel))
        for index, state in enumerate(states):
            x = index * cell_w
            pixmap = tray_icon(state).pixmap(64, 64)
            painter.drawPixmap(x + (cell_w - 64) // 2, row * height + 20, pixmap)
            painter.setPen(QColor(text))
            painter.drawText(
                QRect(x, row * height + 95, cell_w, 40),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                STATE_WORDS[state],
            )
    painter.end()
    image.save(str(path))


async def shoot(out: Path, home: Path) -> list[str]:
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication, QWizard

    from app.devserver import run_in_thread
    from app.gui.app import GuiApp
    from app.gui.pages.connection import ConnectionPage
    from app.gui.pages.converters import ConvertersPage
    from app.gui.pages.failed import FailedPage
    from app.gui.pages.logs import LogsPage
    from app.gui.pages.queue import QueuePage
    from app.gui.wizard import SetupWizard

    shooter = Shooter(out)
    with run_in_thread() as server:
        folders = prepare_station(home, server.url, server.token)
        gui = GuiApp("default")
        await gui.start()
        expected = drop_files(folders)
        link = gui.link

        def settled() -> bool:
            queue = (link.status or {}).get("queue") or {}
            return queue.get("uploaded", 0) + queue.get("rejected", 0) >= expected - 1

        await until(settled, 120, "the reports to be uploaded")
        window = gui.main_window()
        window.resize(WINDOW_W, WINDOW_H)
        window.move(0, 0)
        window.bring_to_front()
        await pause(1.5)

        for key in ("status", "queue", "failed", "converters", "connection", "station"):
            page = window.show_page(key)
            if key == "queue":
                assert isinstance(page, QueuePage)
                await until(lambda p=page: p.model.loaded_row(0), 10, "queue rows")
                page.table.selectRow(2)
            if key == "failed":
                assert isinstance(page, FailedPage)
                await until(lambda p=page: p.table.topLevelItemCount(), 20, "failed files")
            if key == "converters":
                assert isinstance(page, ConvertersPage)
                await until(lambda p=page: p.available and p.item_texts(), 10, "converters")
                page.select("FCT line 2")
            if key == "connection":
                assert isinstance(page, ConnectionPage)
                await until(lambda p=page: p.config, 10, "connection settings")
                page.test_connection()
                await until(lambda p=page: p.last_result, 30, "the connection test")
            await pause(0.6)
            shooter.grab(window, f"page-{key}")

        settings = window.show_page("settings")
        await until(lambda: getattr(settings, "registered", None) is not None, 60, "settings")
        await pause(0.3)
        shooter.grab(window, "page-settings")
        logs = window.show_page("logs")
        assert isinstance(logs, LogsPage)
        await until(lambda: logs.entries, 10, "log lines")
        await pause(0.5)
        shooter.grab(window, "page-logs")
        window.show_page("about")
        await pause(0.3)
        shooter.grab(window, "page-about")

        # The report detail of a failed unit.
        queue = window.show_page("queue")
        assert isinstance(queue, QueuePage)
        failing = next(
            queue.model.loaded_row(n)
            for n in range(queue.model.total)
            if (queue.model.loaded_row(n) or {}).get("result") == "F"
        )
        detail = queue.open_report(str(failing["id"]))
        detail.resize(1000, 640)
        await until(lambda: detail.loaded, 10, "the report detail")
        await pause(0.4)
        shooter.grab(detail, "report-detail")
        detail.close()

        # The converter editor and "test on a file".
        converters = window.show_page("converters")
        assert isinstance(converters, ConvertersPage)
        editor = converters.edit(0)
        assert editor is not None
        editor.resize(820, 680)
        await pause(0.8)
        shooter.grab(editor, "converter-editor")
        editor.reject()
        from app.gui.converter_test import ConverterTestDialog
        from app.samples import sample_path

        test = ConverterTestDialog(gui.context, "wsjf", {}, "active", window)
        test.resize(1000, 640)
        test.show()
        test.path.setText(str(sample_path("wsjf-uut-minimal.json")))
        test.run_test()
        await until(lambda: test.outcome, 30, "the converter test")
        await pause(0.4)
        shooter.grab(test, "converter-test")
        test.close()

        # Dark palette: the same status page when the OS uses a dark theme (Xvfb has no
        # desktop theme to switch, so the script hands Qt the palette such a desktop would).
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        light = app.palette()
        app.setPalette(dark_palette())
        await pause(0.8)
        window.show_page("status")
        await pause(0.6)
        shooter.grab(window, "page-status-dark")
        window.show_page("queue")
        await pause(0.6)
        shooter.grab(window, "page-queue-dark")
        app.setPalette(light)
        await pause(0.8)

        # The tray: its states, and its menu opened from the panel.
        tray_states_image(out / "tray-states.png")
        shooter.taken.append("tray-states.png")
        window.hide()
        for widget in QApplication.topLevelWidgets():
            if widget.metaObject().className() == "QBalloonTip":
                widget.close()  # a notification from earlier would cover the menu
        await pause(0.5)
        geometry = gui.tray.icon.geometry()
        anchor = geometry.bottomLeft() if geometry.isValid() else QPoint(SCREEN_W - 260, 28)
        gui.tray.menu.popup(anchor)
        await pause(0.8)
        menu = gui.tray.menu.geometry()
        x = max(0, min(menu.left(), geometry.left() if geometry.isValid() else menu.left()) - 200)
        shooter.screen("tray-menu", (x, 0, SCREEN_W - x, menu.bottom() + 40))
        gui.tray.menu.hide()

        # The setup wizard, step by step (re-run from the menu: prefilled from the config).
        wizard = SetupWizard(gui.context)
        wizard.resize(780, 580)
        wizard.show()
        await until(lambda: wizard.loaded, 20, "the wizard")
        wizard.server_page.token.setText(server.token)
        await pause(0.4)
        shooter.grab(wizard, "wizard-1-server")
        wizard.next()
        await until(lambda: not wizard.test_page.running, 40, "the wizard's test")
        await pause(0.4)
        shooter.grab(wizard, "wizard-2-test")
        wizard.next()
        await pause(0.4)
        shooter.grab(wizard, "wizard-3-station")
        wizard.next()
        await until(wizard.converters_page.isComplete, 10, "the converter folders")
        await pause(0.6)
        shooter.grab(wizard, "wizard-4-converters")
        wizard.next()
        await pause(0.3)
        shooter.grab(wizard, "wizard-5-startup")
        wizard.next()
        await pause(0.3)
        shooter.grab(wizard, "wizard-6-finish")
        wizard.button(QWizard.WizardButton.CancelButton).click()

        pid = (link.status or {}).get("pid")
        gui.quit()
        if pid:
            # A throw-away station: stop its worker too.
            os.kill(int(pid), 15)
    return shooter.taken


def main() -> int:
    return run_shooter(shoot, "wats-station-screens-")


def run_shooter(shoot: Any, prefix: str) -> int:
    """Run `shoot(out, home)` in a GUI app on a throw-away home; print the images it took.

    Shared with scripts/yield_screenshots.py.
    """
    out = REPO / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["WATS_STATION_HOME"] = str(home)
    os.environ["WATS_STATION_SECRET_STORE"] = "file"
    os.environ["XDG_CONFIG_HOME"] = str(home / "xdg")
    for name in ("WATS_STATION_SERVER_URL", "WATS_STATION_TOKEN"):
        os.environ.pop(name, None)

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.gui.icons import app_icon
    from app.gui.theme import apply_theme

    app = QApplication([sys.argv[0]])
    app.setApplicationName("WATS Station")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        taken = loop.run_until_complete(shoot(out, home))
    print("\n".join(f"docs/images/{name}" for name in taken))
    return 0


if __name__ == "__main__":
    sys.exit(main())
