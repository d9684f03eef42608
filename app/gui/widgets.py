"""Small building blocks shared by the pages: message bar, number tiles, cards, form fields
with their error line, and a folder picker that checks the folder off the UI thread."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from app.gui import icons
from app.gui.async_ops import Op, in_thread
from app.gui.folder_checks import FolderCheck, check_folder, create_folder
from app.gui.theme import Severity, set_invalid, set_role, set_severity


def row_list(columns: Sequence[str], name: str, *, multi_select: bool = False) -> QTreeWidget:
    """A flat list of rows under a column header (no tree lines), as the pages show tables.
    `name` is what screen readers announce."""
    table = QTreeWidget()
    table.setColumnCount(len(columns))
    table.setHeaderLabels(list(columns))
    table.setRootIsDecorated(False)
    mode = QAbstractItemView.SelectionMode
    table.setSelectionMode(mode.ExtendedSelection if multi_select else mode.SingleSelection)
    table.setAccessibleName(name)
    return table


def label(text: str = "", role: str | None = None, *, wrap: bool = False) -> QLabel:
    widget = QLabel(text)
    if role:
        set_role(widget, role)
    widget.setWordWrap(wrap)
    if wrap:
        widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    return widget


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" instead of widening the layout (long paths);
    the whole text is in the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.set_full_text(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), self.minimumWidth())
        elided = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width)
        if elided != self.text():
            self.setText(elided)


class MessageBar(QFrame):
    """A one-line banner above a page's content: what happened, in words; closable."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = label(wrap=True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str, severity: Severity = Severity.NORMAL) -> None:
        self.text.setText(text)
        # Normal news gets the neutral frame; colour is for problems only.
        set_severity(self, severity)
        self.show()


class NumberTile(QFrame):
    """A big number with its caption, readable from a metre away."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 10)
        layout.setSpacing(0)
        self.caption = label(caption, "caption")
        self.value = label("–", "big")
        self.value.setAccessibleName(caption)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        self.setMinimumWidth(150)

    def set_value(self, text: str, severity: Severity = Severity.NORMAL) -> None:
        self.value.setText(text)
        set_severity(self.value, severity)
        set_severity(self, severity)


class FieldError(QLabel):
    """The line under a form field that says what is wrong and what to do."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "fielderror")
        self.setWordWrap(True)
        self.hide()

    def set_error(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))


class FieldBox(QWidget):
    """An editor with its error line below; `column` takes further notes."""

    def __init__(self, editor: QWidget, error: FieldError) -> None:
        super().__init__()
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(2)
        self.column.addWidget(editor)
        self.column.addWidget(error)


def field_with_error(editor: QWidget, error: FieldError) -> FieldBox:
    return FieldBox(editor, error)


class FolderField(QWidget):
    """Path box + Browse… + (when missing) Create folder, with a live check of the folder.

    The check runs on a helper thread after typing pauses; `check` holds the latest result
    and `checked` fires with it. `extra_check` adds rules that need no disk (e.g. "already
    watched by another converter") and wins over the disk check.
    """

    checked = Signal(object)  # FolderCheck
    changed = Signal(str)

    def __init__(
        self,
        *,
        required: bool = True,
        missing_ok: bool = False,
        what: str = "watch folder",
        dialog_title: str = "Choose a folder",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.required = required
        self.missing_ok = missing_ok
        self.what = what
        self.dialog_title = dialog_title
        self.extra_check: Callable[[str], str] | None = None
        self.check: FolderCheck | None = None
        self.active = True  # an inactive field (its option is off) is not checked
        self._generation = 0
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.browse = icons.themed(QPushButton("Browse…"), "folder")
        self.create_button = QPushButton("Create folder")
        self.create_button.hide()
        self.error = FieldError()
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        row.addWidget(self.create_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.revalidate)
        self.edit.textChanged.connect(self._on_text)
        self.browse.clicked.connect(self._pick)
        self.create_button.clicked.connect(self._create)
        self.setFocusProxy(self.edit)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        self.edit.setText(text)
        self.revalidate()

    def _on_text(self, text: str) -> None:
        self.check = None
        self.changed.emit(text)
        self._debounce.start()

    def _pick(self) -> None:
        dialog = QFileDialog(self, self.dialog_title, self.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.fileSelected.connect(self.set_text)
        dialog.open()  # not exec(): the loop keeps running

    def set_active(self, active: bool) -> None:
        """Enable the field and check it, or disable it and forget its problems."""
        self.active = active
        self.setEnabled(active)
        if active:
            self.revalidate()
        else:
            self._debounce.stop()
            self._generation += 1
            self.check = None
            self.error.set_error("")
            self.create_button.hide()
            set_invalid(self.edit, False)

    def revalidate(self) -> None:
        """Check now (after a change elsewhere, e.g. another converter's folder)."""
        self._debounce.stop()
        if not self.active:
            return
        self._generation += 1
        generation = self._generation
        text = self.text()
        # Only plain values go to the helper thread: a widget referenced there could be
        # destroyed there, and Qt objects must die on the UI thread.
        check = functools.partial(
            check_folder, text, required=self.required, what=self.what, missing_ok=self.missing_ok
        )
        Op(self, lambda: in_thread(check)).success(
            lambda result: self._show(generation, result)
        ).run()

    def _create(self) -> None:
        text = self.text()
        Op(self, lambda: in_thread(create_folder, text)).success(
            lambda result: self._show(self._generation, result)
        ).busy(self.create_button).run()

    def _show(self, generation: int, result: FolderCheck) -> None:
        if generation != self._generation:
            return  # the text changed since; a newer check is on its way
        extra = self.extra_check(self.text()) if self.extra_check and self.text() else ""
        if extra:
            result = FolderCheck(False, extra)
        self.check = result
        self.error.set_error(result.message if not result.ok else "")
        self.create_button.setVisible(result.missing and not extra)
        set_invalid(self.edit, not result.ok)
        self.checked.emit(result)

    def set_error(self, message: str) -> None:
        """An error found elsewhere (the worker refused the value)."""
        self.check = FolderCheck(False, message)
        self.error.set_error(message)
        set_invalid(self.edit, bool(message))

    @property
    def valid(self) -> bool:
        return self.check is not None and self.check.ok
