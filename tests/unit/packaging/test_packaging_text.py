"""Text the packages are made of: the Debian version and control file, the desktop entry,
and the Windows console hook's idea of what is a command."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from installer.linux.build_deb import DEPENDS, DESKTOP_ENTRY, control_file, debian_version

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("pep440", "debian"),
    [
        ("0.1.0", "0.1.0"),
        ("1.2.0rc1", "1.2.0~rc1"),
        ("1.0a2", "1.0~a2"),
        ("2.0.dev3", "2.0~dev3"),
        ("1.0+local.7", "1.0+local.7"),
    ],
)
def test_pre_releases_sort_before_the_release_in_debian(pep440: str, debian: str) -> None:
    assert debian_version(pep440) == debian


def test_a_version_debian_cannot_order_is_refused() -> None:
    with pytest.raises(ValueError, match="Debian version"):
        debian_version("latest")


def test_control_file_names_package_version_architecture_and_dependencies() -> None:
    text = control_file("1.2.0rc1", "amd64", 70_000)
    fields = dict(line.split(": ", 1) for line in text.splitlines() if not line.startswith(" "))
    assert fields["Package"] == "wats-station"
    assert fields["Version"] == "1.2.0~rc1"
    assert fields["Architecture"] == "amd64"
    assert fields["Installed-Size"] == "70000"
    assert fields["Depends"] == ", ".join(DEPENDS)
    assert text.endswith("\n")


def test_desktop_entry_starts_the_gui_by_name_with_the_themed_icon() -> None:
    lines = DESKTOP_ENTRY.splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = dict(line.split("=", 1) for line in lines[1:])
    assert entry["Exec"] == "wats-station"
    assert entry["Icon"] == "wats-station"
    assert entry["Terminal"] == "false"
    # app.gui.app sets the desktop file name "wats-station": the window groups with the entry.
    assert entry["StartupWMClass"] == "wats-station"


def _console_hook() -> ModuleType:
    path = REPO / "installer" / "pyi_rth_console.py"
    spec = importlib.util.spec_from_file_location("pyi_rth_console_under_test", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # on this OS the hook itself does nothing
    return module


@pytest.mark.parametrize(
    ("args", "gui_or_worker"),
    [
        ([], True),
        (["--minimized"], True),
        (["--instance", "line2", "--minimized"], True),
        (["--instance=line2"], True),
        (["--service", "--instance", "x"], True),
        (["--windows-service"], True),
        (["status"], False),
        (["selftest"], False),
        (["--instance", "line2", "status"], False),
        (["--version"], False),
    ],
)
def test_console_hook_attaches_only_for_commands(args: list[str], gui_or_worker: bool) -> None:
    assert _console_hook()._is_gui_or_worker(args) is gui_or_worker
