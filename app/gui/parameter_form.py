"""Editors for a converter's parameters, built from its schema (app.converters.base.
ParameterSpec, as `converters.list` sends it): text, whole number, number, yes/no, choice,
and mapping (a JSON object). An empty editor means "use the default", so only the values
the user set are saved."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from app.gui.widgets import FieldError, field_with_error, label

DEFAULT_CHOICE = "Default"


def _shown(value: Any) -> str:
    if value is None or value in ("", {}):
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class ParameterEditor:
    """One parameter: its editor widget, its error line, and value parsing."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.key = str(spec.get("key"))
        self.kind = str(spec.get("kind") or "str")
        default = spec.get("default")
        self.error = FieldError()
        self.widget: QWidget
        if self.kind in ("choice", "bool"):
            combo = QComboBox()
            choices = (
                ["yes", "no"]
                if self.kind == "bool"
                else [str(c) for c in spec.get("choices") or []]
            )
            default_text = ("yes" if default else "no") if self.kind == "bool" else _shown(default)
            combo.addItem(
                f"{DEFAULT_CHOICE} ({default_text})" if default_text else DEFAULT_CHOICE, None
            )
            for choice in choices:
                combo.addItem(choice, choice)
            self.widget = combo
        elif self.kind == "mapping":
            edit = QPlainTextEdit()
            edit.setPlaceholderText('JSON object, e.g. {"sn": "Serial", "pn": 2}')
            edit.setFixedHeight(70)
            edit.setTabChangesFocus(True)
            self.widget = edit
        else:
            line = QLineEdit()
            line.setPlaceholderText(_shown(default))
            self.widget = line
        help_text = str(spec.get("help") or "")
        if help_text:
            self.widget.setToolTip(help_text)
        self.widget.setAccessibleName(str(spec.get("label") or self.key))

    def set_value(self, value: Any) -> None:
        widget = self.widget
        if isinstance(widget, QComboBox):
            if isinstance(value, bool):
                value = "yes" if value else "no"
            index = widget.findData(str(value)) if value not in (None, "") else 0
            widget.setCurrentIndex(max(index, 0))
        elif isinstance(widget, QPlainTextEdit):
            widget.setPlainText(json.dumps(value, indent=1) if value not in (None, {}, "") else "")
        elif isinstance(widget, QLineEdit):
            widget.setText(_shown(value))

    def value(self) -> tuple[Any, str]:
        """(value or None for default, problem or '')."""
        widget = self.widget
        if isinstance(widget, QComboBox):
            data = widget.currentData()
            if data is None:
                return None, ""
            return (data == "yes") if self.kind == "bool" else data, ""
        if isinstance(widget, QPlainTextEdit):
            text = widget.toPlainText().strip()
            if not text:
                return None, ""
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError as exc:
                return None, f"This is not valid JSON ({exc.msg} at line {exc.lineno}). Fix it."
            if not isinstance(parsed, dict):
                return None, 'Enter a JSON object: {"field": "source", …}.'
            return parsed, ""
        assert isinstance(widget, QLineEdit)
        text = widget.text().strip()
        if not text:
            return None, ""
        if self.kind == "int":
            try:
                return int(text), ""
            except ValueError:
                return None, "Enter a whole number (or leave empty for the default)."
        if self.kind == "float":
            try:
                return float(text.replace(",", ".")), ""
            except ValueError:
                return None, "Enter a number (or leave empty for the default)."
        return text, ""


class ParameterForm(QWidget):
    """All parameters of one converter; `values()` returns only the ones set."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, ParameterEditor] = {}

    def set_specs(self, specs: list[dict[str, Any]], values: dict[str, Any]) -> None:
        keep = {key: editor.value()[0] for key, editor in self.editors.items()}
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        for spec in specs:
            editor = ParameterEditor(spec)
            self.editors[editor.key] = editor
            value = values.get(editor.key, keep.get(editor.key))
            editor.set_value(value)
            box = field_with_error(editor.widget, editor.error)
            caption = label(str(spec.get("label") or editor.key), wrap=True)
            caption.setMaximumWidth(260)
            caption.setToolTip(str(spec.get("help") or ""))
            self.form.addRow(caption, box)
        if not specs:
            self.form.addRow(label("This converter has no parameters.", "caption"))

    def values(self) -> dict[str, Any] | None:
        """The set parameters, or None when one is invalid (shown next to it)."""
        result: dict[str, Any] = {}
        valid = True
        for key, editor in self.editors.items():
            value, problem = editor.value()
            editor.error.set_error(problem)
            if problem:
                valid = False
            elif value is not None:
                result[key] = value
        return result if valid else None

    def show_error(self, key: str, problem: str) -> bool:
        editor = self.editors.get(key)
        if editor is None:
            return False
        editor.error.set_error(problem)
        return True
