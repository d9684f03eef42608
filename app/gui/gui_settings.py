"""The GUI's own preferences (display formats, window geometry), per instance.

Kept apart from config.json because they describe this desktop, not the station: the worker
never reads them. Stored as an INI file in the instance's config folder so a portable install
(WATS_STATION_HOME) and the tests keep them with everything else.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

from app.core.paths import InstancePaths

FILE_NAME = "gui.ini"


class GuiSettings:
    def __init__(self, instance: str) -> None:
        paths = InstancePaths.for_instance(instance)
        paths.config_dir.mkdir(parents=True, exist_ok=True)
        self._settings = QSettings(str(paths.config_dir / FILE_NAME), QSettings.Format.IniFormat)

    @property
    def neutral_formats(self) -> bool:
        """ISO 8601 dates and '.' decimals (True) or the system's regional formats."""
        return _as_bool(self._settings.value("formats/neutral", True))

    @neutral_formats.setter
    def neutral_formats(self, value: bool) -> None:
        self._settings.setValue("formats/neutral", value)
        self._settings.sync()

    def window_geometry(self) -> QByteArray | None:
        value = self._settings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def save_window_geometry(self, geometry: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.sync()


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)
