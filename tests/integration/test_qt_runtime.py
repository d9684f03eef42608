"""Qt runtime guards for the worker (DESIGN.md §2, §10)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Signal

REPO = Path(__file__).resolve().parents[2]


class _Emitter(QObject):
    changed = Signal(int)


def _noop(_value: int) -> None:
    pass


def test_signal_disconnect_does_not_leak_references_to_true(qapp):
    # PySide6 6.12.0 leaks a reference to True on every disconnect; once the count wraps,
    # CPython aborts (seen as qasync programs dying on Python 3.11).
    emitter = _Emitter()
    before = sys.getrefcount(True)
    for _ in range(2000):
        emitter.changed.connect(_noop)
        emitter.changed.disconnect(_noop)
    assert sys.getrefcount(True) - before < 100, f"PySide6 {pyside_version} leaks True"


def test_pyside6_is_pinned_below_6_12_on_python_3_11():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [d for d in deps if d.lower().startswith("pyside6")]
    assert any("<6.12" in d and "python_version < '3.12'" in d for d in pins), pins
    if sys.version_info < (3, 12):
        major, minor = (int(x) for x in pyside_version.split(".")[:2])
        assert (major, minor) < (6, 12)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/<pid>/maps")
def test_worker_process_loads_no_widget_libraries(station):
    station.configure()
    station.start()
    pid = station.call("ping")["pid"]
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "libQt6Widgets" not in maps
    assert "libQt6Gui" not in maps
