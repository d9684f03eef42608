"""Icons drawn from the SVG files beside this module, sharp at any size and scale factor.

Tray icons keep their own colours (the state colour is the point). Page and action icons are
line drawings in `currentColor`, recoloured from the palette so they follow light and dark
themes. Each icon is rendered once per size and cached until the palette changes.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

ICON_DIR = Path(__file__).with_name("icons")
# Sizes rendered into each QIcon (logical pixels); Qt picks the nearest and scales by the
# device pixel ratio, so a 2x screen gets the 2x rendering of the same SVG.
_SIZES = (16, 20, 24, 32, 48, 64, 128)


class TrayState(StrEnum):
    """What the tray icon says at a glance (DESIGN.md §7)."""

    OK = "ok"
    UPLOADING = "uploading"
    OFFLINE = "offline"  # server offline, or reports waiting (paused, not configured)
    ATTENTION = "attention"  # an alarm, rejected reports, a failing converter
    STOPPED = "stopped"  # no worker answers


@cache
def _svg_text(name: str) -> str:
    return (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8")


def available_icons() -> list[str]:
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))


def _render(svg: str, size: int, ratio: float) -> QPixmap:
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    pixels = max(1, round(size * ratio))
    pixmap = QPixmap(pixels, pixels)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, pixels, pixels))
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


def _device_ratio() -> float:
    app = QGuiApplication.instance()
    screen = QGuiApplication.primaryScreen() if app is not None else None
    return screen.devicePixelRatio() if screen is not None else 1.0


_cache: dict[tuple[str, str, str], QIcon] = {}


def icon(name: str, color: QColor | None = None) -> QIcon:
    """The icon `name` (file stem); line icons take `color` or the palette's text colour."""
    svg = _svg_text(name)
    recolour = "currentColor" in svg
    disabled = ""
    if recolour:
        palette = QGuiApplication.palette()
        normal = (color or palette.color(QPalette.ColorRole.WindowText)).name()
        disabled = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText).name()
    else:
        normal = ""
    key = (name, normal, disabled)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    result = QIcon()
    ratio = _device_ratio()
    for size in _SIZES:
        for scale in {1.0, ratio}:
            if recolour:
                result.addPixmap(
                    _render(svg.replace("currentColor", normal), size, scale), QIcon.Mode.Normal
                )
                result.addPixmap(
                    _render(svg.replace("currentColor", disabled), size, scale),
                    QIcon.Mode.Disabled,
                )
            else:
                result.addPixmap(_render(svg, size, scale))
    _cache[key] = result
    return result


_Themed = TypeVar("_Themed", bound=QObject)
_NAME_PROPERTY = "wats_icon"


def themed(target: _Themed, name: str) -> _Themed:
    """Give a button or action the icon `name` and remember it, so `retheme` can redraw it
    in the new palette's colours."""
    target.setProperty(_NAME_PROPERTY, name)
    target.setIcon(icon(name))  # type: ignore[attr-defined]
    return target


def retheme(root: QObject) -> None:
    """Redraw every themed icon under `root` (the palette changed)."""
    for child in [root, *root.findChildren(QObject)]:
        name = child.property(_NAME_PROPERTY)
        if isinstance(name, str) and name:
            child.setIcon(icon(name))  # type: ignore[attr-defined]


def tray_icon(state: TrayState) -> QIcon:
    return icon(f"tray-{state.value}")


def app_icon() -> QIcon:
    return icon("app")


def clear_cache() -> None:
    """Forget rendered icons (the palette changed: line icons must be redrawn)."""
    _cache.clear()


def pixmap(name: str, size: int) -> QPixmap:
    """One rendering of `name` at `size` logical pixels (for labels)."""
    return icon(name).pixmap(QSize(size, size))
