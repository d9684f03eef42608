"""About: versions, where things are kept, and "Copy diagnostics" for a support request
(versions, paths, worker status and the configuration, which never holds a secret)."""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QGridLayout, QPushButton, QWidget

from app import __version__
from app.gui import icons
from app.gui.async_ops import Op
from app.gui.context import GuiContext
from app.gui.pages.base import Page
from app.gui.widgets import label
from app.ipc.names import socket_address


def versions(status: dict[str, Any] | None) -> list[tuple[str, str]]:
    worker = (status or {}).get("version") or "not running"
    return [
        ("WATS Station", __version__),
        ("Worker", str(worker)),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("Operating system", platform.platform(terse=True)),
    ]


class AboutPage(Page):
    key = "about"
    title = "About WATS Station"
    icon_name = "about"
    scrollable = True

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.body.addWidget(
            label(
                "Converts test-result files into WATS reports, keeps them safely in a local "
                "queue and uploads them to your WATS server.",
                wrap=True,
            )
        )
        self.body.addSpacing(6)
        self.body.addWidget(label("Versions", "heading"))
        self.version_grid = QGridLayout()
        self.version_grid.setHorizontalSpacing(24)
        self.body.addLayout(self.version_grid)
        self.body.addSpacing(6)
        self.body.addWidget(label("Where things are kept", "heading"))
        paths = context.paths
        self.paths = [
            ("Configuration", str(paths.config_file), str(paths.config_dir)),
            ("Queue database", str(paths.queue_db), str(paths.data_dir)),
            ("Logs", str(paths.log_dir), str(paths.log_dir)),
            ("Converter plug-ins", str(paths.plugin_dir), str(paths.config_dir)),
            ("Worker socket", socket_address(context.instance).display, ""),
        ]
        grid = QGridLayout()
        grid.setHorizontalSpacing(16)
        for row, (caption, path, folder) in enumerate(self.paths):
            grid.addWidget(label(caption, "caption"), row, 0)
            value = label(path)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(value, row, 1)
            if folder:
                button = icons.themed(QPushButton("Open"), "folder")
                button.setToolTip(folder)
                button.clicked.connect(
                    lambda _c=False, f=folder: QDesktopServices.openUrl(QUrl.fromLocalFile(f))
                )
                grid.addWidget(button, row, 2)
        grid.setColumnStretch(3, 1)
        self.body.addLayout(grid)
        self.copy_button = icons.themed(QPushButton("Copy diagnostics"), "copy")
        self.copy_button.setToolTip(
            "Versions, folders, the worker's state and the configuration (never the token), "
            "to paste into a support request"
        )
        self.copy_button.clicked.connect(self.copy_diagnostics)
        self.add_header_widget(self.copy_button)
        self.body.addStretch(1)
        self.link.status_changed.connect(self._show_versions)
        self._show_versions()
        self.diagnostics = ""

    def _show_versions(self, *_args: object) -> None:
        grid = self.version_grid
        while grid.count():
            item = grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        status = self.link.status if self.link.connected else None
        for row, (caption, value) in enumerate(versions(status)):
            grid.addWidget(label(caption, "caption"), row, 0)
            text = label(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(text, row, 1)
        grid.setColumnStretch(1, 1)

    def copy_diagnostics(self) -> None:
        async def gather() -> dict[str, Any]:
            config: Any
            try:
                config = (await self.link.request("config.get", timeout=5)).get("config")
            except Exception as exc:
                config = f"(not available: {exc})"
            return {"config": config}

        Op(self, gather).success(self._copy).busy(self.copy_button).run()

    def _copy(self, extra: dict[str, Any]) -> None:
        status = self.link.status if self.link.connected else None
        lines = ["WATS Station diagnostics", ""]
        lines += [f"{caption}: {value}" for caption, value in versions(status)]
        lines += [f"Instance: {self.context.instance}", f"Executable: {sys.executable}", ""]
        lines += [f"{caption}: {path}" for caption, path, _folder in self.paths]
        lines += [
            "",
            "Worker status:",
            json.dumps(status, indent=2, default=str) if status else "not running",
        ]
        lines += ["", "Configuration:", json.dumps(extra.get("config"), indent=2, default=str)]
        self.diagnostics = "\n".join(lines)
        QGuiApplication.clipboard().setText(self.diagnostics)
        self.show_message(
            "Diagnostics copied to the clipboard: paste them into your support request."
        )
