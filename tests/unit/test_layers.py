"""DESIGN.md §2 rules that import-linter cannot express (it cannot forbid PySide6 submodules).

The worker and the IPC layer may use QtCore/QtNetwork but never QtWidgets or QtGui: a worker
that pulls in widgets needs a display and uses far more memory.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
FORBIDDEN = {"PySide6.QtWidgets", "PySide6.QtGui", "PySide6.QtSvg"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", ["service", "ipc"])
def test_worker_and_ipc_never_import_widgets(layer: str) -> None:
    offenders = {
        str(path.relative_to(APP)): sorted(imported_modules(path) & FORBIDDEN)
        for path in (APP / layer).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtWidgets import QApplication\nimport PySide6.QtGui\n")
    assert imported_modules(bad) & FORBIDDEN == {"PySide6.QtWidgets", "PySide6.QtGui"}
