"""What all pages share: a title, a message bar, a scrollable body, and show/hide hooks.

Pages load what they show from the worker when first shown and then follow events; the
window creates a page only when it is first opened, so start-up stays fast.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from app.gui.context import GuiContext
from app.gui.theme import Severity
from app.gui.widgets import MessageBar, label


class Page(QWidget):
    key = ""
    title = ""
    icon_name = ""
    # Forms scroll (nothing is clipped on 1366x768); tables and logs fill the page instead.
    scrollable = False
    # Forms stay narrow enough to read on a wide screen; 0 = use the whole width.
    max_content_width = 0

    def __init__(self, context: GuiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.link = context.link
        self._loaded = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(18, 14, 18, 12)
        outer.setSpacing(10)
        header = QHBoxLayout()
        self.title_label = label(self.title, "title")
        header.addWidget(self.title_label)
        header.addStretch(1)
        self.header_actions = header
        outer.addLayout(header)
        self.message_bar = MessageBar()
        outer.addWidget(self.message_bar)
        body = QWidget()
        if self.max_content_width:
            body.setMaximumWidth(self.max_content_width)
        self.body = QVBoxLayout(body)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.body.setSpacing(10)
        if self.scrollable:
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setWidget(body)
            scroll.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
            outer.addWidget(scroll, 1)
        else:
            outer.addWidget(body, 1)

    def add_header_widget(self, widget: QWidget) -> None:
        self.header_actions.addWidget(widget)

    # ------------------------------------------------------------ hooks

    def activate(self) -> None:
        """The page became visible: load on first show, refresh cheap things after."""
        if not self._loaded:
            self._loaded = True
            self.load()

    def deactivate(self) -> None:
        """The page was left."""

    def load(self) -> None:
        """Fetch what the page shows from the worker."""

    def reload(self) -> None:
        self.load()

    # ------------------------------------------------------------ messages

    def show_message(self, text: str, severity: Severity = Severity.NORMAL) -> None:
        self.message_bar.show_message(text, severity)

    def show_error(self, text: str) -> None:
        self.message_bar.show_message(text, Severity.ERROR)

    def clear_message(self) -> None:
        self.message_bar.hide()
