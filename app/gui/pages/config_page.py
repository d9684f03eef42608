"""Base for pages that edit part of the configuration: load with config.get, save the whole
config with config.set, and put each refusal next to its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from app.gui.async_ops import Op
from app.gui.config_edit import field_errors
from app.gui.context import GuiContext
from app.gui.pages.base import Page
from app.gui.widgets import FieldError

ENV_NOTE = (
    "Set by the environment variable {variable} while the worker runs; "
    "the value saved here applies when it is not set."
)


class ConfigPage(Page):
    scrollable = True

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.config: dict[str, Any] = {}
        self.info: dict[str, Any] = {}
        self.field_error_labels: dict[str, FieldError] = {}
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Load the saved settings again")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.load)
        self.link.state_changed.connect(self._on_link_state)

    def button_row(self, *extra: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        for widget in extra:
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.revert_button)
        row.addWidget(self.save_button)
        return row

    def _on_link_state(self, state: str) -> None:
        if state == "connected" and self._loaded and not self.config:
            self.load()

    # ------------------------------------------------------------ loading

    def load(self) -> None:
        Op(self, lambda: self.link.request("config.get")).success(self._loaded_config).failure(
            self.show_error
        ).run()

    def _loaded_config(self, info: dict[str, Any]) -> None:
        self.info = info
        self.config = dict(info.get("config") or {})
        self.clear_field_errors()
        self.fill(self.config)
        self.config_loaded = True

    def fill(self, config: dict[str, Any]) -> None:
        """Put the config's values into the page's fields."""

    def env_overrides(self) -> set[str]:
        return {str(name) for name in self.info.get("env_overrides") or []}

    # ------------------------------------------------------------ saving

    def save(self) -> None:
        """Validate locally, then send; subclasses build the new config in `build()`."""
        self.clear_field_errors()
        self.clear_message()
        new_config = self.build()
        if new_config is None:
            return
        self.send(new_config)

    def build(self) -> dict[str, Any] | None:
        """The whole new config, or None when a field is invalid (shown next to it)."""
        return None

    def send(
        self,
        new_config: dict[str, Any],
        then: Callable[[dict[str, Any]], None] | None = None,
        saved_message: str = "Saved. The worker uses the new settings now.",
    ) -> None:
        def done(result: dict[str, Any]) -> None:
            self.config = dict(result.get("config") or new_config)
            self.info = {**self.info, "config": self.config}
            self.fill(self.config)
            self.show_message(saved_message)
            if then is not None:
                then(result)

        Op(self, lambda: self.link.request("config.set", {"config": new_config})).success(
            done
        ).failure(self.show_refusal).busy(self.save_button).run()

    def show_refusal(self, message: str) -> None:
        fields, rest = field_errors(message)
        unplaced = [
            f"{name}: {problem}"
            for name, problem in fields.items()
            if not self.place_error(name, problem)
        ]
        leftover = "; ".join([*unplaced, *([rest] if rest else [])])
        if leftover:
            self.show_error(f"Not saved: {leftover}")
        else:
            self.show_error("Not saved: correct the fields marked below.")

    def place_error(self, field: str, problem: str) -> bool:
        """Show `problem` next to the field named `field` (dotted config key); False if none."""
        label = self.field_error_labels.get(field)
        if label is None:
            return False
        label.set_error(problem)
        return True

    def clear_field_errors(self) -> None:
        for label in self.field_error_labels.values():
            label.set_error("")
