"""The macOS package's LaunchAgents and scripts (built on a Mac only; checked here as text)."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
from pathlib import Path

import pytest

from app.service.registration.macos import label, tray_label

MACOS = Path(__file__).resolve().parents[3] / "installer" / "macos"
APP_EXE = "/Applications/WATS Station.app/Contents/MacOS/wats-station"


def load(name: str) -> dict[str, object]:
    with (MACOS / name).open("rb") as stream:
        data = plistlib.load(stream)
    assert isinstance(data, dict)
    return data


def test_worker_agent_runs_the_bundled_worker_under_the_per_user_label() -> None:
    agent = load("com.wats.station.default.plist")
    # The same label as `service install` writes per user: launchd never runs both.
    assert agent["Label"] == label("default")
    assert agent["ProgramArguments"] == [APP_EXE, "--service", "--instance", "default"]
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert agent["LimitLoadToSessionType"] == "Aqua"


def test_tray_agent_starts_the_gui_minimised_at_login() -> None:
    agent = load("com.wats.station.default.tray.plist")
    assert agent["Label"] == tray_label("default")
    assert agent["ProgramArguments"] == [APP_EXE, "--minimized"]
    assert "KeepAlive" not in agent  # quitting the tray is the user's choice


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("script", ["build-pkg.sh", "scripts/preinstall", "scripts/postinstall"])
def test_scripts_are_valid_bash_and_executable(script: str) -> None:
    path = MACOS / script
    assert path.stat().st_mode & 0o111
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
