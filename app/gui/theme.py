"""Look and feel: follow the OS palette (light or dark), neutral colours, colour only for what
is abnormal (high-performance HMI practice, DESIGN.md §7), big readable numbers.

Widgets ask for a look through dynamic properties instead of hard-coded colours:
`role` ("big", "title", "caption", "card", "banner", "fielderror", "mono") and `severity`
("warning", "error"). The style sheet built here maps them to colours derived from the
current palette, and is rebuilt when the OS switches between light and dark.
"""

from __future__ import annotations

from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app.gui import icons

# Smallest body text: readable on a 1366x768 test-PC screen at arm's length.
MIN_POINT_SIZE = 10


class Severity(StrEnum):
    NORMAL = ""
    WARNING = "warning"
    ERROR = "error"


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def severity_color(severity: Severity, palette: QPalette | None = None) -> QColor:
    """The one colour for an abnormal state; normal text uses the palette."""
    palette = palette or QGuiApplication.palette()
    dark = is_dark(palette)
    if severity is Severity.ERROR:
        return QColor("#f87171" if dark else "#b91c1c")
    if severity is Severity.WARNING:
        return QColor("#fbbf24" if dark else "#a16207")
    return palette.color(QPalette.ColorRole.WindowText)


def _mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    keep = 1.0 - share_of_b
    return QColor(
        round(a.red() * keep + b.red() * share_of_b),
        round(a.green() * keep + b.green() * share_of_b),
        round(a.blue() * keep + b.blue() * share_of_b),
    )


def muted_color(palette: QPalette | None = None) -> QColor:
    palette = palette or QGuiApplication.palette()
    return _mix(
        palette.color(QPalette.ColorRole.WindowText), palette.color(QPalette.ColorRole.Window), 0.4
    )


def style_sheet(palette: QPalette) -> str:
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    base = palette.color(QPalette.ColorRole.Base)
    border = _mix(text, window, 0.78)
    card = _mix(base, window, 0.35)
    muted = muted_color(palette).name()
    error = severity_color(Severity.ERROR, palette)
    warning = severity_color(Severity.WARNING, palette)
    error_bg = _mix(window, error, 0.14).name()
    warning_bg = _mix(window, warning, 0.16).name()
    return f"""
QLabel[role="big"] {{ font-size: 26pt; font-weight: 600; }}
QLabel[role="title"] {{ font-size: 15pt; font-weight: 600; }}
QLabel[role="heading"] {{ font-size: 12pt; font-weight: 600; }}
QLabel[role="caption"] {{ color: {muted}; }}
QLabel[role="fielderror"] {{ color: {error.name()}; }}
QLabel[severity="warning"] {{ color: {warning.name()}; }}
QLabel[severity="error"] {{ color: {error.name()}; }}
QFrame[role="card"] {{
    background: {card.name()}; border: 1px solid {border.name()}; border-radius: 6px;
}}
QFrame[role="card"][severity="warning"] {{ border: 2px solid {warning.name()}; }}
QFrame[role="card"][severity="error"] {{ border: 2px solid {error.name()}; }}
QFrame[role="banner"] {{
    border-radius: 6px; padding: 2px; background: {card.name()}; border: 1px solid {border.name()};
}}
QFrame[role="banner"][severity="warning"] {{
    background: {warning_bg}; border: 1px solid {warning.name()};
}}
QFrame[role="banner"][severity="error"] {{
    background: {error_bg}; border: 1px solid {error.name()};
}}
QLineEdit[invalid="true"], QPlainTextEdit[invalid="true"] {{ border: 2px solid {error.name()}; }}
QListWidget#navigation {{ font-size: 11pt; }}
QListWidget#navigation::item {{ padding: 7px 6px; }}
"""


def set_role(widget: QWidget, role: str) -> None:
    widget.setProperty("role", role)
    _repolish(widget)


def set_severity(widget: QWidget, severity: Severity) -> None:
    if widget.property("severity") != severity.value:
        widget.setProperty("severity", severity.value)
        _repolish(widget)


def set_invalid(widget: QWidget, invalid: bool) -> None:
    value = "true" if invalid else "false"
    if widget.property("invalid") != value:
        widget.setProperty("invalid", value)
        _repolish(widget)


def _repolish(widget: QWidget) -> None:
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


def mono_font() -> QFont:
    from PySide6.QtGui import QFontDatabase

    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSize(max(font.pointSize(), MIN_POINT_SIZE - 1))
    return font


class _PaletteWatcher(QObject):
    """Rebuilds the style sheet and icons when the OS switches light/dark or the palette."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._sheet_for = ""
        app.styleHints().colorSchemeChanged.connect(self._changed)
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._app and event.type() == QEvent.Type.ApplicationPaletteChange:
            self._changed()
        return False

    def _changed(self, *_args: object) -> None:
        palette = self._app.palette()
        key = palette.color(QPalette.ColorRole.Window).name()
        key += palette.color(QPalette.ColorRole.WindowText).name()
        if key == self._sheet_for:
            return
        self._sheet_for = key
        icons.clear_cache()
        self._app.setStyleSheet(style_sheet(palette))
        for widget in self._app.topLevelWidgets():
            icons.retheme(widget)


def apply_theme(app: QApplication) -> None:
    """Readable base font, palette-derived style sheet, and follow later palette changes."""
    font = app.font()
    if 0 < font.pointSize() < MIN_POINT_SIZE:
        font.setPointSize(MIN_POINT_SIZE)
        app.setFont(font)
    app.setStyleSheet(style_sheet(app.palette()))
    if app.property("wats_theme_watcher") is None:
        watcher = _PaletteWatcher(app)
        app.setProperty("wats_theme_watcher", True)
        watcher.setObjectName("wats-theme-watcher")
    app.setAttribute(Qt.ApplicationAttribute.AA_DontShowIconsInMenus, False)
