"""First-run setup wizard (also from Station → Setup wizard…):

server + token → test the connection → station identity → converters and their folders →
start at login → finish (save, store the token, register, and the worker applies it live).

Every step checks its input before Next and says in place what to do. It works with no
server at all ("I have no server yet"): reports then wait in the queue. Nothing is saved
until Finish.
"""

from __future__ import annotations

import copy
import os
import socket
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.core.config import MAX_NAME, StationInfo
from app.core.paths import HOME_ENV
from app.gui import icons
from app.gui.async_ops import Op, in_thread
from app.gui.config_edit import local_problem
from app.gui.connection_checks import CheckList, summary
from app.gui.context import GuiContext
from app.gui.converter_editor import converter_title
from app.gui.folder_checks import create_folder, same_folder
from app.gui.pages.connection import URL_ADVICE, url_problem
from app.gui.service_registration import set_start_at_login
from app.gui.theme import Severity, set_severity
from app.gui.widgets import FieldError, FolderField, field_with_error, label

SERVER, TEST, STATION, CONVERTERS, STARTUP, FINISH = range(6)
TEST_TIMEOUT_S = 90.0


def default_drop_root() -> Path:
    """Where suggested watch folders go: the portable home when set, else the user's home."""
    home = os.environ.get(HOME_ENV, "").strip()
    if home:
        return Path(home).expanduser().absolute() / "drop"
    return Path.home() / "WATS Station"


def title(text: str) -> str:
    """A page title big enough to read at a glance (the wizard shows it as rich text)."""
    return f'<span style="font-size:14pt; font-weight:600">{text}</span>'


class ServerPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(title("Connect to your WATS server"))
        self.setSubTitle(
            "Reports are uploaded here. The token is in WATS under Control Panel → API settings."
        )
        form = QFormLayout(self)
        form.setVerticalSpacing(10)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://yourcompany.wats.com")
        self.url.setAccessibleName("Server address")
        self.url_error = FieldError()
        form.addRow("Server address", field_with_error(self.url, self.url_error))
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Token")
        self.token.setPlaceholderText("paste the token from WATS")
        self.token_error = FieldError()
        form.addRow("Token", field_with_error(self.token, self.token_error))
        self.proxy = QLineEdit()
        self.proxy.setPlaceholderText("optional, e.g. http://proxy:8080")
        self.proxy_error = FieldError()
        form.addRow("Proxy", field_with_error(self.proxy, self.proxy_error))
        self.no_server = QCheckBox(
            "I have no server yet: keep reports in the queue and upload them once it is set"
        )
        form.addRow("", self.no_server)
        self.no_server.toggled.connect(self._no_server_toggled)

    def _no_server_toggled(self, on: bool) -> None:
        for widget in (self.url, self.token, self.proxy):
            widget.setEnabled(not on)
        for error in (self.url_error, self.token_error, self.proxy_error):
            error.set_error("")

    def prefill(self, config: dict[str, Any], token_set: bool) -> None:
        server = config.get("server") or {}
        if not self.url.text():
            self.url.setText(str(server.get("url") or ""))
            self.proxy.setText(str(server.get("proxy") or ""))
        if token_set:
            self.token.setPlaceholderText("•••••••• (stored; type a new token to replace it)")

    def validatePage(self) -> bool:
        if self.no_server.isChecked():
            return True
        ok = True
        url = self.url.text().strip()
        self.url_error.set_error("")
        self.token_error.set_error("")
        self.proxy_error.set_error("")
        if not url:
            self.url_error.set_error(
                f"Enter the server address, or tick “I have no server yet”. {URL_ADVICE}"
            )
            ok = False
        elif url_problem(url):
            self.url_error.set_error(url_problem(url))
            ok = False
        if not self.token.text().strip() and not self.w.token_set:
            self.token_error.set_error("Paste the token: without it the server refuses uploads.")
            ok = False
        proxy = self.proxy.text().strip()
        if proxy and url_problem(proxy, "proxy"):
            self.proxy_error.set_error(url_problem(proxy, "proxy"))
            ok = False
        return ok

    def nextId(self) -> int:
        return STATION if self.no_server.isChecked() else TEST


class TestPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(title("Test the connection"))
        self.setSubTitle(
            "Checks that the server answers, the connection is secure and the token is accepted."
        )
        layout = QVBoxLayout(self)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        layout.addWidget(self.progress)
        self.result_text = label(wrap=True)
        layout.addWidget(self.result_text)
        self.checks = CheckList()
        layout.addWidget(self.checks, 1)
        self.again = icons.themed(QPushButton("Test again"), "refresh")
        self.again.clicked.connect(self.run_test)
        self.anyway = QCheckBox(
            "Continue anyway: reports wait in the queue until the connection works"
        )
        self.anyway.toggled.connect(lambda _on: self.completeChanged.emit())
        layout.addWidget(self.anyway)
        layout.addWidget(self.again, 0, Qt.AlignmentFlag.AlignLeft)
        self.result: dict[str, Any] | None = None
        self.running = False

    def initializePage(self) -> None:
        self.run_test()

    def run_test(self) -> None:
        self.result = None
        self.running = True
        self.anyway.hide()
        self.anyway.setChecked(False)
        self.progress.show()
        self.checks.clear()
        self.result_text.setText("Testing the connection…")
        set_severity(self.result_text, Severity.NORMAL)
        self.completeChanged.emit()
        params = self.w.connection_params()
        Op(self, lambda: self.w.link.request("connection.test", params, TEST_TIMEOUT_S)).success(
            self._tested
        ).failure(self._failed).busy(self.again).run()

    def _tested(self, result: dict[str, Any]) -> None:
        self.running = False
        self.progress.hide()
        self.result = result
        self.checks.show_result(result)
        text, severity = summary(result)
        self.result_text.setText(text)
        set_severity(self.result_text, severity)
        self.anyway.setVisible(severity is Severity.ERROR)
        self.completeChanged.emit()

    def _failed(self, message: str) -> None:
        self.running = False
        self.progress.hide()
        self.result = {"ok": False, "checks": []}
        self.result_text.setText(f"The test could not run: {message}")
        set_severity(self.result_text, Severity.ERROR)
        self.anyway.show()
        self.completeChanged.emit()

    @property
    def passed(self) -> bool:
        return self.result is not None and summary(self.result)[1] is not Severity.ERROR

    def isComplete(self) -> bool:
        return not self.running and (self.passed or self.anyway.isChecked())


class StationPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(title("Name this station"))
        self.setSubTitle(
            "Every report carries these values; they find the station's results in WATS."
        )
        form = QFormLayout(self)
        form.setVerticalSpacing(10)
        self.edits: dict[str, QLineEdit] = {}
        self.errors: dict[str, FieldError] = {}
        for key, caption, placeholder in (
            ("name", "Station name", "e.g. ICT-LINE-1"),
            ("location", "Location", "e.g. Building 2, line 1"),
            ("purpose", "Purpose", "e.g. Production"),
        ):
            edit = QLineEdit()
            edit.setMaxLength(MAX_NAME)
            edit.setPlaceholderText(placeholder)
            edit.setAccessibleName(caption)
            error = FieldError()
            self.edits[key] = edit
            self.errors[key] = error
            form.addRow(caption, field_with_error(edit, error))
        self.edits["name"].setText(socket.gethostname())

    def prefill(self, config: dict[str, Any]) -> None:
        station = config.get("station") or {}
        for key, edit in self.edits.items():
            if station.get(key):
                edit.setText(str(station[key]))

    def values(self) -> dict[str, Any]:
        return {key: edit.text().strip() or None for key, edit in self.edits.items()}

    def validatePage(self) -> bool:
        values = self.values()
        for error in self.errors.values():
            error.set_error("")
        if not values["name"]:
            self.errors["name"].set_error("Enter a name: it identifies this station's reports.")
            return False
        ok = True
        for key in self.edits:
            problem = local_problem(StationInfo, values, key)
            if problem:
                self.errors[key].set_error(f"{problem}. Shorten it.")
                ok = False
        return ok


class ConverterRow:
    def __init__(self, info: dict[str, Any], default_folder: Path) -> None:
        self.key = str(info.get("name"))
        self.default_folder = str(default_folder)
        self.check = QCheckBox(converter_title(info))
        self.check.setToolTip(", ".join(info.get("patterns") or []))
        self.folder = FolderField(dialog_title=f"Folder for {self.key} files")
        self.folder.edit.setText(self.default_folder)
        self.folder.set_active(False)
        self.existing: dict[str, Any] | None = None


class ConvertersStepPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(title("Choose what to convert"))
        self.setSubTitle(
            "Tick the kinds of files your testers write and the folder each one is written to."
        )
        layout = QVBoxLayout(self)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QWidget()
        self.grid = QGridLayout(inner)
        self.grid.setVerticalSpacing(6)
        self.grid.setColumnStretch(0, 1)
        scroll.setWidget(inner)
        layout.addWidget(scroll, 1)
        self.note = label(role="caption", wrap=True)
        layout.addWidget(self.note)
        self.rows: list[ConverterRow] = []
        self.kept: list[dict[str, Any]] = []

    def populate(self, available: list[dict[str, Any]], config: dict[str, Any]) -> None:
        root = default_drop_root()
        existing = list(config.get("converters") or [])
        first_of_kind: dict[str, dict[str, Any]] = {}
        for conv in existing:
            first_of_kind.setdefault(str(conv.get("converter")), conv)
        self.kept = [c for c in existing if first_of_kind.get(str(c.get("converter"))) is not c]
        for info in available:
            row = ConverterRow(info, root / str(info.get("name")))
            conv = first_of_kind.get(row.key)
            index = len(self.rows)
            self.grid.addWidget(row.check, index * 2, 0)
            self.grid.addWidget(row.folder, index * 2 + 1, 0)
            row.folder.extra_check = lambda text, r=row: self._conflict(r, text)
            row.folder.checked.connect(lambda _r: self.completeChanged.emit())
            row.folder.changed.connect(lambda _t, r=row: self._folder_changed(r))
            row.check.toggled.connect(lambda on, r=row: self._toggled(r, on))
            if conv is not None:
                row.existing = conv
                row.folder.edit.setText(str(conv.get("watch_folder") or ""))
                row.check.setChecked(True)
            self.rows.append(row)
        note = "You can change folders and add converters later on the Converters page."
        if self.kept:
            note += f" {len(self.kept)} more converter(s) set up there are kept as they are."
        self.note.setText(note)

    def _folder_changed(self, row: ConverterRow) -> None:
        # A conflict shown on another row may just have been resolved (or caused) by this one.
        for other in self.rows:
            if other is not row and other.check.isChecked():
                other.folder.revalidate()
        self.completeChanged.emit()

    def _toggled(self, row: ConverterRow, on: bool) -> None:
        row.folder.set_active(on)
        if on and row.folder.text() == row.default_folder:
            # Our own suggestion: create it rather than send the user to a file manager.
            text = row.folder.text()
            Op(self, lambda: in_thread(create_folder, text)).success(
                lambda _result: row.folder.revalidate()
            ).run()
        else:
            row.folder.revalidate()
        for other in self.rows:
            if other is not row and other.check.isChecked():
                other.folder.revalidate()
        self.completeChanged.emit()

    def _conflict(self, row: ConverterRow, text: str) -> str:
        for other in self.rows:
            if (
                other is not row
                and other.check.isChecked()
                and same_folder(text, other.folder.text())
            ):
                return (
                    f"{other.key} files use this folder too. Each converter needs its own "
                    "folder: choose or create another one."
                )
        for kept in self.kept:
            if kept.get("watch_folder") and same_folder(text, kept["watch_folder"]):
                name = kept.get("name")
                return f"Converter “{name}” already watches this folder. Choose another one."
        return ""

    def chosen(self) -> list[ConverterRow]:
        return [row for row in self.rows if row.check.isChecked()]

    def isComplete(self) -> bool:
        return all(row.folder.valid for row in self.chosen())

    def validatePage(self) -> bool:
        return self.isComplete()


class StartupPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(title("Start with the computer"))
        self.setSubTitle("So that no report waits for someone to start the program.")
        layout = QVBoxLayout(self)
        self.at_login = QCheckBox("Start WATS Station when I log in (recommended)")
        self.at_login.setChecked(True)
        self.minimised = QCheckBox("Start minimised: only the tray icon, no window")
        layout.addWidget(self.at_login)
        layout.addWidget(self.minimised)
        layout.addStretch(1)

    def prefill(self, config: dict[str, Any]) -> None:
        self.minimised.setChecked(bool((config.get("gui") or {}).get("start_minimised")))


class FinishPage(QWizardPage):
    def __init__(self, wizard: SetupWizard) -> None:
        super().__init__()
        self.w = wizard
        self.setTitle(title("Ready"))
        self.setSubTitle("Finish saves the settings; the worker uses them at once.")
        layout = QVBoxLayout(self)
        self.summary = label(wrap=True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.summary)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.outcome = label(wrap=True)
        layout.addWidget(self.outcome)
        layout.addStretch(1)

    def initializePage(self) -> None:
        w = self.w
        lines = []
        if w.server_page.no_server.isChecked():
            lines.append("Server: none yet – reports wait in the queue.")
        else:
            lines.append(f"Server: {w.server_page.url.text().strip()}")
        station = w.station_page.values()
        lines.append(f"Station: {station['name']}")
        chosen = w.converters_page.chosen()
        if chosen:
            lines += [f"Converter {row.key}: watches {row.folder.text()}" for row in chosen]
        else:
            lines.append("No converter yet: add one on the Converters page.")
        lines.append(
            "Starts when you log in." if w.startup_page.at_login.isChecked() else "Starts by hand."
        )
        self.summary.setText("\n".join(lines))
        self.outcome.setText("")


class SetupWizard(QWizard):
    applied = Signal(str)  # a warning to show after closing ('' when all went well)

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.link = context.link
        self.config: dict[str, Any] = {}
        self.token_set = False
        self.loaded = False
        self._applying = False
        self.setWindowTitle("WATS Station setup")
        self.setWindowIcon(icons.app_icon())
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setTitleFormat(Qt.TextFormat.RichText)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.resize(780, 580)
        self.server_page = ServerPage(self)
        self.test_page = TestPage(self)
        self.station_page = StationPage(self)
        self.converters_page = ConvertersStepPage(self)
        self.startup_page = StartupPage(self)
        self.finish_page = FinishPage(self)
        for page_id, page in (
            (SERVER, self.server_page),
            (TEST, self.test_page),
            (STATION, self.station_page),
            (CONVERTERS, self.converters_page),
            (STARTUP, self.startup_page),
            (FINISH, self.finish_page),
        ):
            self.setPage(page_id, page)
        self.setStartId(SERVER)
        self.load()

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        async def fetch() -> tuple[dict[str, Any], dict[str, Any]]:
            if not self.link.connected:
                await self.link.start()
            info = await self.link.request("config.get")
            available = await self.link.request("converters.list")
            return info, available

        Op(self, fetch).success(self._loaded).failure(self._load_failed).run()

    def _loaded(self, result: tuple[dict[str, Any], dict[str, Any]]) -> None:
        info, available = result
        self.config = dict(info.get("config") or {})
        self.token_set = bool(info.get("token_set"))
        self.server_page.prefill(self.config, self.token_set)
        self.station_page.prefill(self.config)
        self.startup_page.prefill(self.config)
        self.converters_page.populate(
            [a for a in available.get("available") or [] if isinstance(a, dict)], self.config
        )
        self.loaded = True

    def _load_failed(self, message: str) -> None:
        self.server_page.setSubTitle(f"The worker cannot be reached: {message}")

    # ------------------------------------------------------------ results

    def connection_params(self) -> dict[str, Any]:
        page = self.server_page
        params: dict[str, Any] = {
            "url": page.url.text().strip(),
            "proxy": page.proxy.text().strip() or None,
        }
        if page.token.text().strip():
            params["token"] = page.token.text().strip()
        return params

    def build_config(self) -> dict[str, Any]:
        config = copy.deepcopy(self.config)
        server = config.setdefault("server", {})
        if self.server_page.no_server.isChecked():
            server["url"] = None
        else:
            server["url"] = self.server_page.url.text().strip()
            server["proxy"] = self.server_page.proxy.text().strip() or None
        config.setdefault("station", {}).update(self.station_page.values())
        converters: list[dict[str, Any]] = []
        for row in self.converters_page.chosen():
            entry = dict(row.existing or {"name": row.key, "converter": row.key, "enabled": True})
            entry["watch_folder"] = row.folder.text()
            converters.append(entry)
        config["converters"] = converters + self.converters_page.kept
        config.setdefault("gui", {})["start_minimised"] = self.startup_page.minimised.isChecked()
        return config

    # ------------------------------------------------------------ finishing

    def accept(self) -> None:
        """Finish: save everything, then close; on a problem, stay and say what to do."""
        if self._applying:
            return
        self._applying = True
        page = self.finish_page
        page.progress.show()
        page.outcome.setText("Saving…")
        set_severity(page.outcome, Severity.NORMAL)
        config = self.build_config()
        token = (
            "" if self.server_page.no_server.isChecked() else self.server_page.token.text().strip()
        )
        at_login = self.startup_page.at_login.isChecked()
        instance = self.context.instance

        async def apply() -> str:
            await self.link.request("config.set", {"config": config})
            if token:
                await self.link.request("token.set", {"token": token})
            if at_login:
                result = await in_thread(set_start_at_login, instance, True)
                if not result.ok:
                    return (
                        "Saved, but starting at login could not be set up: "
                        f"{result.output or 'no reason given'}. Try again on the Settings page."
                    )
            return ""

        Op(self, apply).success(self._applied).failure(self._apply_failed).busy(
            self.button(QWizard.WizardButton.FinishButton)
        ).run()

    def _applied(self, warning: str) -> None:
        self._applying = False
        self.finish_page.progress.hide()
        self.finish_page.outcome.setText(warning)
        self.applied.emit(warning)
        super().accept()

    def _apply_failed(self, message: str) -> None:
        self._applying = False
        self.finish_page.progress.hide()
        self.finish_page.outcome.setText(
            f"Not saved: {message}. Go back to correct it, or cancel and set it up later."
        )
        set_severity(self.finish_page.outcome, Severity.ERROR)
