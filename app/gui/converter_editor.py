"""Add or edit one converter: its name, type, folders (with pickers and live checks), file
patterns, what happens to a file after conversion, the verdict mode and the converter's own
parameters; "Test on a file" tries the settings being edited. Saving sends the whole config
to the worker; a refusal lands next to its field and the dialog stays open."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op
from app.gui.config_edit import field_errors
from app.gui.context import GuiContext
from app.gui.folder_checks import same_folder
from app.gui.parameter_form import ParameterForm
from app.gui.theme import Severity
from app.gui.widgets import FieldError, FolderField, MessageBar, field_with_error, label

POST_ACTIONS = (
    ("move", "Move it to the Done folder"),
    ("zip", "Add it to a zip archive in the Done folder"),
    ("delete", "Delete it"),
    ("keep", "Leave it where it is"),
)
MODES = (
    ("active", "Active: compute verdicts from the limits"),
    ("import", "Import: keep the verdicts written in the file"),
)


def converter_title(info: dict[str, Any]) -> str:
    description = info.get("description") or ""
    plugin = " (plug-in)" if info.get("source") == "plugin" else ""
    return (
        f"{info.get('name')} – {description}{plugin}"
        if description
        else f"{info.get('name')}{plugin}"
    )


def folder_conflict(
    text: str, others: list[dict[str, Any]], *, own: dict[str, Any] | None = None
) -> str:
    """Why `text` cannot be this converter's watch folder given the others; '' if it can."""
    for other in others:
        name = other.get("name", "")
        watch = other.get("watch_folder")
        if watch and same_folder(text, watch):
            return (
                f"This folder is already watched by converter “{name}”. Each converter needs "
                "its own folder: choose or create another one."
            )
        for label_text, key in (("Done", "done_folder"), ("Error", "error_folder")):
            folder = other.get(key) or (str(Path(watch) / label_text) if watch else None)
            if folder and same_folder(text, folder):
                return (
                    f"This is the {label_text} folder of converter “{name}”: its processed "
                    "files would be converted again. Choose another folder."
                )
    return ""


class ConverterEditor(QDialog):
    saved = Signal(object)  # the saved config dict

    def __init__(
        self,
        context: GuiContext,
        config: dict[str, Any],
        available: list[dict[str, Any]],
        index: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self.link = context.link
        self.config = copy.deepcopy(config)
        self.available = {str(a.get("name")): a for a in available}
        self.index = index
        converters = list(self.config.get("converters") or [])
        self.original: dict[str, Any] = (
            dict(converters[index]) if index is not None else {"enabled": True}
        )
        self.others = [c for i, c in enumerate(converters) if i != index]
        self.setWindowTitle("Edit converter" if index is not None else "Add a converter")
        self.resize(820, 680)
        self._save_pending = False

        outer = QVBoxLayout(self)
        self.message_bar = MessageBar()
        outer.addWidget(self.message_bar)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        content = QWidget()
        layout = QVBoxLayout(content)
        scroll.setWidget(content)
        outer.addWidget(scroll, 1)

        form = QFormLayout()
        form.setVerticalSpacing(8)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. ICT line 1")
        self.name.setAccessibleName("Name")
        self.name_error = FieldError()
        form.addRow("Name", field_with_error(self.name, self.name_error))
        self.kind = QComboBox()
        self.kind.setAccessibleName("Converter")
        for name, info in sorted(self.available.items()):
            self.kind.addItem(converter_title(info), name)
        self.kind_error = FieldError()
        self.kind_note = label(role="caption", wrap=True)
        kind_box = field_with_error(self.kind, self.kind_error)
        kind_box.column.addWidget(self.kind_note)
        form.addRow("Converter", kind_box)
        self.watch = FolderField(dialog_title="Choose the folder testers write to")
        self.watch.extra_check = self._watch_conflict
        form.addRow("Watch folder", self.watch)
        self.patterns = QLineEdit()
        self.patterns.setAccessibleName("File patterns")
        self.patterns_error = FieldError()
        form.addRow("File patterns", field_with_error(self.patterns, self.patterns_error))
        self.recursive = QCheckBox("Also watch subfolders")
        self.polling = QCheckBox("Check the folder regularly (for network shares)")
        form.addRow("", self.recursive)
        form.addRow("", self.polling)
        self.enabled = QCheckBox("Enabled")
        form.addRow("", self.enabled)
        layout.addLayout(form)

        after = QGroupBox("After a file is converted")
        after_form = QFormLayout(after)
        self.post_action = QComboBox()
        for key, text in POST_ACTIONS:
            self.post_action.addItem(text, key)
        after_form.addRow("The file", self.post_action)
        self.done_field = FolderField(required=False, missing_ok=True, what="Done folder")
        self.done_field.edit.setPlaceholderText("default: the Done folder inside the watch folder")
        self.done_field.extra_check = lambda text: self._own_conflict(text, "Done")
        after_form.addRow("Done folder", self.done_field)
        self.error_field = FolderField(required=False, missing_ok=True, what="Error folder")
        self.error_field.edit.setPlaceholderText(
            "default: the Error folder inside the watch folder"
        )
        self.error_field.extra_check = lambda text: self._own_conflict(text, "Error")
        after_form.addRow("Error folder", self.error_field)
        self.mode = QComboBox()
        for key, text in MODES:
            self.mode.addItem(text, key)
        after_form.addRow("Verdicts", self.mode)
        layout.addWidget(after)

        params_box = QGroupBox("Converter parameters (empty: the default)")
        params_layout = QVBoxLayout(params_box)
        self.parameters = ParameterForm()
        params_layout.addWidget(self.parameters)
        layout.addWidget(params_box)
        layout.addStretch(1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.test_button = icons.themed(QPushButton("Test on a file…"), "test")
        self.buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.test_on_file)
        outer.addWidget(self.buttons)

        self.kind.currentIndexChanged.connect(lambda _i: self._kind_changed())
        self.post_action.currentIndexChanged.connect(lambda _i: self._post_action_changed())
        self.watch.checked.connect(self._folder_checked)
        self.watch.changed.connect(self._watch_changed)
        self._fill()

    # ------------------------------------------------------------ filling

    def _fill(self) -> None:
        conv = self.original
        self.name.setText(str(conv.get("name") or ""))
        kind = str(conv.get("converter") or "")
        if kind and self.kind.findData(kind) < 0:
            self.kind.addItem(f"{kind} (not installed)", kind)
        index = self.kind.findData(kind) if kind else self.kind.findData("wsjf")
        self.kind.setCurrentIndex(max(index, 0))
        self.watch.set_text(str(conv.get("watch_folder") or ""))
        self.patterns.setText(", ".join(conv.get("patterns") or []))
        self.recursive.setChecked(bool(conv.get("recursive")))
        self.polling.setChecked(bool(conv.get("polling")))
        self.enabled.setChecked(bool(conv.get("enabled", True)))
        self.post_action.setCurrentIndex(
            max(self.post_action.findData(conv.get("post_action", "move")), 0)
        )
        self.done_field.set_text(str(conv.get("done_folder") or ""))
        self.error_field.set_text(str(conv.get("error_folder") or ""))
        self.mode.setCurrentIndex(max(self.mode.findData(conv.get("mode", "active")), 0))
        self._kind_changed(values=dict(conv.get("parameters") or {}))
        self._post_action_changed()

    def _kind_changed(self, values: dict[str, Any] | None = None) -> None:
        info = self.available.get(str(self.kind.currentData()), {})
        patterns = ", ".join(info.get("patterns") or [])
        self.patterns.setPlaceholderText(f"the converter's own: {patterns}" if patterns else "*")
        version = info.get("version")
        self.kind_note.setText(
            f"Version {version}. Reads {patterns or 'any file'}."
            if info
            else "This converter is not installed on this station; install its plug-in first."
        )
        self.parameters.set_specs(list(info.get("parameters") or []), values or {})

    def _post_action_changed(self) -> None:
        uses_done = self.post_action.currentData() in ("move", "zip")
        self.done_field.set_active(uses_done)

    def _watch_changed(self, _text: str) -> None:
        # The Done and Error folders are checked against the watch folder.
        self.done_field.revalidate()
        self.error_field.revalidate()

    def _watch_conflict(self, text: str) -> str:
        return folder_conflict(text, self.others)

    def _own_conflict(self, text: str, which: str) -> str:
        if text and self.watch.text() and same_folder(text, self.watch.text()):
            return (
                f"The {which} folder must not be the watch folder itself. "
                "Leave it empty for the default."
            )
        for other in self.others:
            if other.get("watch_folder") and same_folder(text, other["watch_folder"]):
                return (
                    f"This is the watch folder of converter “{other.get('name')}”: files moved "
                    "here would be converted again. Choose another folder."
                )
        return ""

    # ------------------------------------------------------------ building and saving

    def build(self) -> dict[str, Any] | None:
        """The edited converter entry, or None with the problems shown next to the fields."""
        self.message_bar.hide()
        for error in (self.name_error, self.kind_error, self.patterns_error):
            error.set_error("")
        valid = True
        name = self.name.text().strip()
        if not name:
            self.name_error.set_error("Enter a name, e.g. the line or tester this folder is for.")
            valid = False
        elif any(str(o.get("name", "")).casefold() == name.casefold() for o in self.others):
            self.name_error.set_error(
                f"Another converter is already called “{name}”. Choose another name."
            )
            valid = False
        kind = self.kind.currentData()
        if not kind:
            self.kind_error.set_error("Choose a converter.")
            valid = False
        if not self.watch.valid:
            valid = False  # its own error line says why
        for optional in (self.done_field, self.error_field):
            if optional.check is not None and not optional.check.ok:
                valid = False
        patterns = [p.strip() for p in self.patterns.text().split(",") if p.strip()]
        parameters = self.parameters.values()
        if parameters is None:
            valid = False
        if not valid:
            return None
        assert parameters is not None
        known = set(self.parameters.editors)
        kept = {k: v for k, v in (self.original.get("parameters") or {}).items() if k not in known}
        entry = {
            **self.original,
            "name": name,
            "converter": kind,
            "enabled": self.enabled.isChecked(),
            "watch_folder": self.watch.text(),
            "patterns": patterns,
            "recursive": self.recursive.isChecked(),
            "polling": self.polling.isChecked(),
            "post_action": self.post_action.currentData(),
            "done_folder": self.done_field.text() or None,
            "error_folder": self.error_field.text() or None,
            "mode": self.mode.currentData(),
            "parameters": {**kept, **parameters},
        }
        return entry

    def save(self) -> None:
        if self.watch.check is None:
            # The folder check is still running (typing just stopped): save when it is done.
            self._save_pending = True
            self.watch.revalidate()
            return
        entry = self.build()
        if entry is None:
            self.message_bar.show_message(
                "Not saved: correct the fields marked in red.", Severity.ERROR
            )
            return
        new_config = copy.deepcopy(self.config)
        converters = list(new_config.get("converters") or [])
        if self.index is None:
            converters.append(entry)
            position = len(converters) - 1
        else:
            converters[self.index] = entry
            position = self.index
        new_config["converters"] = converters
        Op(self, lambda: self.link.request("config.set", {"config": new_config})).success(
            self._saved
        ).failure(lambda message: self._refused(message, position)).busy(self.save_button).run()

    def _folder_checked(self, _result: object) -> None:
        if self._save_pending:
            self._save_pending = False
            self.save()

    def _saved(self, result: dict[str, Any]) -> None:
        self.saved.emit(result.get("config"))
        self.accept()

    def _refused(self, message: str, position: int) -> None:
        fields, rest = field_errors(message)
        prefix = f"converters[{position}]."
        targets = {
            "name": self.name_error.set_error,
            "converter": self.kind_error.set_error,
            "watch_folder": self.watch.set_error,
            "patterns": self.patterns_error.set_error,
            "done_folder": self.done_field.set_error,
            "error_folder": self.error_field.set_error,
        }
        leftover = [rest] if rest else []
        for field, problem in fields.items():
            if field.startswith(prefix):
                key = field[len(prefix) :]
                if key in targets:
                    targets[key](problem)
                    continue
                if key.startswith("parameters.") and self.parameters.show_error(
                    key.split(".", 1)[1], problem
                ):
                    continue
            leftover.append(f"{field}: {problem}")
        text = "; ".join(leftover) if leftover else "correct the fields marked in red."
        self.message_bar.show_message(f"Not saved: {text}", Severity.ERROR)

    # ------------------------------------------------------------ testing

    def test_on_file(self) -> None:
        from app.gui.converter_test import ConverterTestDialog

        parameters = self.parameters.values()
        if parameters is None:
            self.message_bar.show_message(
                "Correct the parameters marked in red first.", Severity.ERROR
            )
            return
        dialog = ConverterTestDialog(
            self.context,
            str(self.kind.currentData()),
            parameters,
            str(self.mode.currentData()),
            self,
            start_folder=self.watch.text(),
        )
        dialog.show()
        self.test_dialog = dialog
