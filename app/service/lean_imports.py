"""Keep the worker process light: skip two imports its libraries make but never use.

The worker runs for months on test PCs next to the tester's own software; every megabyte it
holds is taken from them (issue target: ≤ 120 MB during a 10,000-file run).

- qasync imports PySide6.QtGui and PySide6.QtWidgets when it is imported (≈ 22 MB of Qt
  libraries) although an event loop over a QCoreApplication uses neither: it only calls
  `QApplication.instance()` and `processEvents()`, which QCoreApplication has. The worker
  never uses widgets (DESIGN.md §2), so qasync is imported with stand-ins for those two
  modules, which are removed again afterwards so nothing else can see them.
- httpx imports its own command-line tool (click, rich, pygments: ≈ 10 MB) whenever those
  packages happen to be installed. Marking `httpx._main` as absent makes httpx fall back to
  its stub, exactly as on a machine without them.

Call `install()` first thing in the worker process, before anything imports qasync or httpx.
"""

from __future__ import annotations

import sys
import types

_STAND_INS = ("PySide6.QtGui", "PySide6.QtWidgets")


def install() -> None:
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    if "qasync" in sys.modules or any(name in sys.modules for name in _STAND_INS):
        return  # too late, or widgets are loaded for real anyway
    from PySide6 import QtCore

    gui = types.ModuleType("PySide6.QtGui")
    widgets = types.ModuleType("PySide6.QtWidgets")
    widgets.QApplication = QtCore.QCoreApplication  # type: ignore[attr-defined]
    sys.modules.update({"PySide6.QtGui": gui, "PySide6.QtWidgets": widgets})
    try:
        import qasync  # noqa: F401
    finally:
        for name in _STAND_INS:
            if sys.modules.get(name) in (gui, widgets):
                del sys.modules[name]
