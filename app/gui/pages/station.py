"""Station: the name, location and purpose every report carries (wats-api: machineName,
location, purpose)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QFormLayout, QLineEdit, QWidget

from app.core.config import MAX_NAME, StationInfo
from app.gui.config_edit import local_problem, with_section
from app.gui.context import GuiContext
from app.gui.pages.config_page import ENV_NOTE, ConfigPage
from app.gui.widgets import FieldError, field_with_error, label

FIELDS = (
    (
        "name",
        "Station name",
        "WATS_STATION_STATION_NAME",
        "e.g. ICT-LINE-1 (the host name by default)",
    ),
    ("location", "Location", "WATS_STATION_STATION_LOCATION", "e.g. Building 2, line 1"),
    ("purpose", "Purpose", "WATS_STATION_STATION_PURPOSE", "e.g. Production, Development"),
)


class StationPage(ConfigPage):
    key = "station"
    title = "Station"
    max_content_width = 900
    icon_name = "station"

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.body.addWidget(
            label(
                "How this station is named on the WATS server. Every report carries these "
                "values unless the test file sets its own.",
                wrap=True,
            )
        )
        form = QFormLayout()
        form.setVerticalSpacing(10)
        self.edits: dict[str, QLineEdit] = {}
        self.notes: dict[str, Any] = {}
        for key, caption, _variable, placeholder in FIELDS:
            edit = QLineEdit()
            edit.setMaxLength(MAX_NAME)
            edit.setPlaceholderText(placeholder)
            edit.setAccessibleName(caption)
            error = FieldError()
            self.edits[key] = edit
            self.field_error_labels[f"station.{key}"] = error
            note = label(role="caption", wrap=True)
            note.hide()
            self.notes[key] = note
            box = field_with_error(edit, error)
            box.column.addWidget(note)
            form.addRow(caption, box)
        self.body.addLayout(form)
        self.body.addLayout(self.button_row())
        self.body.addStretch(1)

    def fill(self, config: dict[str, Any]) -> None:
        station = config.get("station") or {}
        overridden = self.env_overrides()
        for key, _caption, variable, _placeholder in FIELDS:
            self.edits[key].setText(str(station.get(key) or ""))
            note = self.notes[key]
            note.setText(ENV_NOTE.format(variable=variable))
            note.setVisible(variable in overridden)

    def build(self) -> dict[str, Any] | None:
        values = {key: self.edits[key].text().strip() or None for key in self.edits}
        if values["name"] is None:
            self.field_error_labels["station.name"].set_error(
                "Enter a name: it identifies this station's reports on the server."
            )
            return None
        section = {**(self.config.get("station") or {}), **values}
        valid = True
        for key in self.edits:
            problem = local_problem(StationInfo, section, key)
            if problem:
                self.field_error_labels[f"station.{key}"].set_error(f"{problem}. Shorten it.")
                valid = False
        if not valid:
            return None
        return with_section(self.config, "station", values)
