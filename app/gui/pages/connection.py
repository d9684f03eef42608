"""Connection: the WATS server address, the token (kept in the keyring, never shown), proxy,
certificate checking and registration, with a "Test connection" that explains in plain words
what works and what does not (reachable, TLS, token, server version, clock).

Saving tests first: a server that cannot be reached or refuses the token is refused in place
with what to do, and "Save anyway" keeps it (reports then wait in the queue).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.core.config import ServerConfig
from app.gui import icons
from app.gui.async_ops import Op
from app.gui.config_edit import local_problem, with_section
from app.gui.connection_checks import CheckList, summary
from app.gui.context import GuiContext
from app.gui.pages.config_page import ENV_NOTE, ConfigPage
from app.gui.theme import Severity, set_severity
from app.gui.widgets import FieldError, field_with_error, label

TOKEN_SOURCES = {
    "keyring": "stored in the system keyring",
    "file": "stored in this station's secrets file (no keyring available)",
    "environment": "set by the environment variable WATS_STATION_TOKEN",
}
URL_ADVICE = "Enter the address of your WATS server, e.g. https://yourcompany.wats.com."
TEST_TIMEOUT_S = 90.0


def url_problem(url: str, field: str = "url") -> str:
    """'' when the URL is acceptable to the config model, else what is wrong and what to do."""
    problem = local_problem(ServerConfig, {field: url}, field)
    if not problem:
        return ""
    if field == "url":
        return f"This is not a server address. {URL_ADVICE}"
    return "This is not a proxy address. Enter it like http://proxy.example.com:8080."


class ConnectionPage(ConfigPage):
    key = "connection"
    title = "Connection"
    max_content_width = 900
    icon_name = "connection"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.body.addWidget(
            label(
                "Where reports are uploaded. Without a server, reports wait safely in the "
                "queue and upload once it is set and reachable.",
                wrap=True,
            )
        )
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://yourcompany.wats.com")
        self.url.setAccessibleName("Server address")
        self.url_error = FieldError()
        self.url_note = label(role="caption", wrap=True)
        self.url_note.hide()
        url_box = field_with_error(self.url, self.url_error)
        url_box.column.addWidget(self.url_note)
        form.addRow("Server address", url_box)

        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Token")
        reveal = icons.themed(QAction("Show what I typed", self.token), "about")
        reveal.setCheckable(True)
        reveal.toggled.connect(
            lambda on: self.token.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        self.token.addAction(reveal, QLineEdit.ActionPosition.TrailingPosition)
        self.token_error = FieldError()
        self.token_state = label(role="caption", wrap=True)
        self.clear_token_button = QPushButton("Remove stored token")
        self.clear_token_button.clicked.connect(self.clear_token)
        token_box = field_with_error(self.token, self.token_error)
        token_box.column.addWidget(self.token_state)
        token_box.column.addWidget(self.clear_token_button, 0, Qt.AlignmentFlag.AlignLeft)
        form.addRow("Token", token_box)

        self.proxy = QLineEdit()
        self.proxy.setPlaceholderText("none (direct connection), or http://proxy:8080")
        self.proxy.setAccessibleName("Proxy")
        self.proxy_error = FieldError()
        form.addRow("Proxy", field_with_error(self.proxy, self.proxy_error))

        self.verify_tls = QCheckBox("Check the server's certificate (recommended)")
        self.tls_warning = label(
            "Without this check, anyone between this station and the server could read the "
            "token. Use it only for a test server.",
            wrap=True,
        )
        set_severity(self.tls_warning, Severity.WARNING)
        self.verify_tls.toggled.connect(lambda on: self.tls_warning.setVisible(not on))
        tls_box = field_with_error(self.verify_tls, FieldError())
        tls_box.column.addWidget(self.tls_warning)
        form.addRow("Security", tls_box)

        self.register = QCheckBox("Register this station as a managed WATS client")
        self.register.setToolTip("The server then lists this station under its clients.")
        form.addRow("Registration", self.register)
        self.body.addLayout(form)
        self.field_error_labels.update(
            {
                "server.url": self.url_error,
                "server.proxy": self.proxy_error,
                "token": self.token_error,
            }
        )

        self.test_button = icons.themed(QPushButton("Test connection"), "test")
        self.test_button.clicked.connect(self.test_connection)
        self.save_anyway_button = QPushButton("Save anyway")
        self.save_anyway_button.setToolTip("Keep these settings; reports wait until it works")
        self.save_anyway_button.hide()
        self.save_anyway_button.clicked.connect(self.save_without_test)
        self.body.addLayout(self.button_row(self.test_button, self.save_anyway_button))
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.body.addWidget(self.progress)
        self.result_text = label(wrap=True)
        self.result_text.hide()
        self.body.addWidget(self.result_text)
        self.checks = CheckList()
        self.body.addWidget(self.checks)
        self.last_result: dict[str, Any] | None = None
        self.body.addStretch(1)

    # ------------------------------------------------------------ loading

    def fill(self, config: dict[str, Any]) -> None:
        server = config.get("server") or {}
        self.url.setText(str(server.get("url") or ""))
        self.proxy.setText(str(server.get("proxy") or ""))
        self.verify_tls.setChecked(bool(server.get("verify_tls", True)))
        self.tls_warning.setVisible(not self.verify_tls.isChecked())
        self.register.setChecked(bool((server.get("registration") or {}).get("enabled", False)))
        self.token.clear()
        self._show_token_state()
        overridden = self.env_overrides()
        self.url_note.setText(ENV_NOTE.format(variable="WATS_STATION_SERVER_URL"))
        self.url_note.setVisible("WATS_STATION_SERVER_URL" in overridden)

    def _show_token_state(self) -> None:
        token_set = bool(self.info.get("token_set"))
        source = self.info.get("token_source")
        if token_set:
            where = TOKEN_SOURCES.get(str(source), "stored")
            self.token_state.setText(f"A token is {where}. Type a new one to replace it.")
            self.token.setPlaceholderText("•••••••• (stored)")
        else:
            self.token_state.setText(
                "No token stored. Create one in WATS (Control Panel → API settings)."
            )
            self.token.setPlaceholderText("paste the token from WATS")
        self.clear_token_button.setVisible(token_set and source != "environment")

    # ------------------------------------------------------------ checking

    def _form_problems(self) -> bool:
        """Check the fields that need no network; True if all are fine."""
        self.clear_field_errors()
        url = self.url.text().strip()
        proxy = self.proxy.text().strip()
        ok = True
        if url:
            problem = url_problem(url)
            if problem:
                self.url_error.set_error(problem)
                ok = False
        if proxy:
            problem = url_problem(proxy, "proxy")
            if problem:
                self.proxy_error.set_error(problem)
                ok = False
        return ok

    def test_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "url": self.url.text().strip(),
            "proxy": self.proxy.text().strip() or None,
            "verify_tls": self.verify_tls.isChecked(),
        }
        if self.token.text().strip():
            params["token"] = self.token.text().strip()
        return params

    def test_connection(self, then_save: bool = False) -> None:
        self.clear_message()
        self.save_anyway_button.hide()
        if not self._form_problems():
            return
        if not self.url.text().strip():
            self.url_error.set_error(f"Nothing to test yet. {URL_ADVICE}")
            return
        self.progress.show()
        self.result_text.setText("Testing the connection…")
        set_severity(self.result_text, Severity.NORMAL)
        self.result_text.show()
        self.checks.clear()
        params = self.test_params()
        Op(self, lambda: self.link.request("connection.test", params, TEST_TIMEOUT_S)).success(
            lambda result: self._tested(result, then_save)
        ).failure(self._test_failed).finally_(self.progress.hide).busy(
            self.test_button, self.save_button
        ).run()

    def _tested(self, result: dict[str, Any], then_save: bool) -> None:
        self.last_result = result
        self.checks.show_result(result)
        text, severity = summary(result)
        failed = severity is Severity.ERROR
        self.result_text.setText(text)
        set_severity(self.result_text, severity)
        for check in result.get("checks") or []:
            if check.get("outcome") == "fail" and check.get("name") == "auth":
                self.token_error.set_error(
                    "The server refused this token. Paste a valid token from WATS."
                )
            elif check.get("outcome") == "fail" and check.get("name") == "reachable":
                self.url_error.set_error(
                    "No server answers at this address. Check it, or the network."
                )
        if then_save:
            if failed:
                self.show_error(
                    "Not saved: the connection does not work (see below). Fix it and save "
                    "again, or “Save anyway” to keep these settings; reports then wait in "
                    "the queue."
                )
                self.save_anyway_button.show()
            else:
                self.save_without_test()

    def _test_failed(self, message: str) -> None:
        self.result_text.setText(message)
        set_severity(self.result_text, Severity.ERROR)

    # ------------------------------------------------------------ saving

    def save(self) -> None:
        """Test first when a server is set; then save."""
        if not self._form_problems():
            return
        if self.url.text().strip():
            self.test_connection(then_save=True)
        else:
            self.save_without_test()

    def build(self) -> dict[str, Any] | None:
        server = self.config.get("server") or {}
        registration = {**(server.get("registration") or {}), "enabled": self.register.isChecked()}
        return with_section(
            self.config,
            "server",
            {
                "url": self.url.text().strip() or None,
                "proxy": self.proxy.text().strip() or None,
                "verify_tls": self.verify_tls.isChecked(),
                "registration": registration,
            },
        )

    def save_without_test(self) -> None:
        self.save_anyway_button.hide()
        if not self._form_problems():
            return
        new_config = self.build()
        if new_config is None:
            return
        token = self.token.text().strip()
        self.send(new_config, then=lambda _r: self._store_token(token) if token else None)

    def _store_token(self, token: str) -> None:
        Op(self, lambda: self.link.request("token.set", {"token": token})).success(
            self._token_stored
        ).failure(lambda m: self.token_error.set_error(f"The token was not stored: {m}")).run()

    def _token_stored(self, result: dict[str, Any]) -> None:
        self.token.clear()
        self.info = {**self.info, "token_set": bool(result.get("token_set"))}
        if result.get("store"):
            self.info["token_source"] = result["store"]
        self._show_token_state()
        self.show_message("Saved. The worker uses the new server and token now.")

    def clear_token(self) -> None:
        Op(self, lambda: self.link.request("token.set", {"token": ""})).success(
            self._token_cleared
        ).failure(self.show_error).busy(self.clear_token_button).run()

    def _token_cleared(self, result: dict[str, Any]) -> None:
        self.info.update(token_set=bool(result.get("token_set")), token_source=None)
        self._show_token_state()
        self.show_message("The stored token was removed; uploads wait until a new one is set.")
