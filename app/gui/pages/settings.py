"""Settings: start at login (registers the worker with the OS), start minimised, and how
dates and numbers are written. Each choice applies as soon as it is made."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QButtonGroup, QCheckBox, QGroupBox, QRadioButton, QVBoxLayout, QWidget

from app.gui import formats
from app.gui.async_ops import Op, in_thread
from app.gui.config_edit import with_section
from app.gui.context import GuiContext
from app.gui.pages.config_page import ConfigPage
from app.gui.service_registration import CommandResult, registration_status, set_start_at_login
from app.gui.theme import Severity, set_severity
from app.gui.widgets import label


class SettingsPage(ConfigPage):
    key = "settings"
    title = "Settings"
    max_content_width = 900
    icon_name = "settings"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        startup = QGroupBox("Start-up")
        box = QVBoxLayout(startup)
        self.start_at_login = QCheckBox("Start WATS Station when I log in (worker and tray)")
        self.start_at_login.setToolTip("Runs “wats-station service install” (or uninstall)")
        self.login_state = label(role="caption", wrap=True)
        self.login_output = label(wrap=True)
        self.login_output.hide()
        self.start_minimised = QCheckBox("Start minimised: only the tray icon, no window")
        box.addWidget(self.start_at_login)
        box.addWidget(self.login_state)
        box.addWidget(self.login_output)
        box.addSpacing(6)
        box.addWidget(self.start_minimised)
        self.body.addWidget(startup)

        display = QGroupBox("Dates and numbers")
        box = QVBoxLayout(display)
        self.neutral = QRadioButton()
        self.regional = QRadioButton()
        group = QButtonGroup(self)
        group.addButton(self.neutral)
        group.addButton(self.regional)
        box.addWidget(self.neutral)
        box.addWidget(self.regional)
        box.addWidget(
            label(
                "Language-neutral formats read the same in every plant and on the phone.",
                "caption",
                wrap=True,
            )
        )
        self.body.addWidget(display)
        self.body.addStretch(1)
        self._update_format_examples()
        self.neutral.setChecked(context.settings.neutral_formats)
        self.regional.setChecked(not context.settings.neutral_formats)
        self.neutral.toggled.connect(self._formats_changed)
        self.start_at_login.toggled.connect(self._login_toggled)
        self.start_minimised.toggled.connect(self._minimised_toggled)
        self.save_button.hide()
        self.revert_button.hide()
        self._filling = False
        self.registered: bool | None = None

    def _update_format_examples(self) -> None:
        import time

        now = time.time()
        current = formats.neutral_formats()
        formats.use_neutral_formats(True)
        neutral = f"{formats.format_time(now)}, {formats.format_count(1234567)}"
        formats.use_neutral_formats(False)
        regional = f"{formats.format_time(now)}, {formats.format_count(1234567)}"
        formats.use_neutral_formats(current)
        self.neutral.setText(f"Language-neutral (ISO 8601): {neutral}")
        self.regional.setText(f"This computer's regional formats: {regional}")

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        super().load()
        self.login_state.setText("Checking whether WATS Station starts at login…")
        self.start_at_login.setEnabled(False)
        instance = self.context.instance
        Op(self, lambda: in_thread(registration_status, instance)).success(
            self._registration_known
        ).run()

    def _registration_known(self, status: dict[str, Any]) -> None:
        self.start_at_login.setEnabled(True)
        registered = bool(status.get("registered"))
        self.registered = registered
        self._filling = True
        self.start_at_login.setChecked(registered)
        self._filling = False
        if not status:
            self.login_state.setText("Could not find out whether it starts at login.")
        elif registered and not status.get("current", True):
            self.login_state.setText(
                "Registered, but for another copy of the program: untick and tick again to update."
            )
        else:
            manager = (status.get("manager") or {}).get("name") or "the system"
            self.login_state.setText(
                f"Registered with {manager}." if registered else "Not registered: start it by hand."
            )

    def fill(self, config: dict[str, Any]) -> None:
        self._filling = True
        self.start_minimised.setChecked(bool((config.get("gui") or {}).get("start_minimised")))
        self._filling = False

    # ------------------------------------------------------------ changes

    def _login_toggled(self, enabled: bool) -> None:
        if self._filling:
            return
        self.login_output.hide()
        self.login_state.setText("Registering…" if enabled else "Removing the registration…")
        instance = self.context.instance
        Op(self, lambda: in_thread(set_start_at_login, instance, enabled)).success(
            lambda result: self._login_done(enabled, result)
        ).busy(self.start_at_login).run()

    def _login_done(self, enabled: bool, result: CommandResult) -> None:
        self.login_output.setText(result.output)
        self.login_output.setVisible(bool(result.output))
        set_severity(self.login_output, Severity.NORMAL if result.ok else Severity.ERROR)
        if result.ok:
            self.registered = enabled
            self.login_state.setText(
                "WATS Station now starts when you log in."
                if enabled
                else "No longer starts at login."
            )
        else:
            self._filling = True
            self.start_at_login.setChecked(not enabled)
            self._filling = False
            self.login_state.setText("That did not work (see below). Nothing was changed.")

    def _minimised_toggled(self, minimised: bool) -> None:
        if self._filling or not self.config:
            return
        new_config = with_section(self.config, "gui", {"start_minimised": minimised})
        self.send(new_config, saved_message="Saved.")

    def _formats_changed(self, neutral: bool) -> None:
        self.context.settings.neutral_formats = neutral
        formats.use_neutral_formats(neutral)
        self.show_message("Saved. Pages show the new format as they refresh.")
