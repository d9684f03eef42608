"""`wats-station service ...` in-process: output, exit codes, --dry-run, --json.

Every test puts registrations under a registration root in its temp folder, so the real
service manager and the real ~/.config and /etc are never touched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.commands.exitcodes import Exit
from app.service.registration.target import ROOT_ENV
from tests.unit.service.registration_support import files_under


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "root"
    monkeypatch.setenv(ROOT_ENV, str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", "/xdg")
    return folder


def test_dry_run_prints_the_plan_and_creates_nothing(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service", "install", "--dry-run", "--instance", "line2"]) == Exit.OK
    out = capsys.readouterr().out
    assert "Would register the WATS Station worker" in out
    assert '(instance "line2", per user, at login, Linux)' in out
    assert "/xdg/systemd/user/wats-station-line2.service" in out
    assert "ExecStart=" in out
    assert "--service --instance line2" in out
    assert not root.exists()


def test_install_status_uninstall_round_trip(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service", "status"]) == Exit.FAILED
    assert "registered:  no" in capsys.readouterr().out

    assert main(["service", "install"]) == Exit.OK
    out = capsys.readouterr().out
    assert "wrote systemd user unit" in out
    assert "note: files written under the registration root" in out
    assert files_under(root) == [
        "xdg/autostart/wats-station.desktop",
        "xdg/systemd/user/wats-station-default.service",
    ]

    assert main(["service", "status"]) == Exit.OK
    out = capsys.readouterr().out
    assert "registered:  yes" in out
    assert "matches this executable:  yes" in out
    assert "worker running:  no" in out

    assert main(["service", "status", "--json"]) == Exit.OK
    report = json.loads(capsys.readouterr().out)
    assert report["registered"] is True
    assert report["current"] is True
    assert report["command_matches"] is True
    assert report["worker_running"] is False
    assert report["registered_command"][1:] == ["--service", "--instance", "default"]
    assert [a["role"] for a in report["artefacts"]] == ["worker", "tray"]

    assert main(["service", "uninstall"]) == Exit.OK
    assert "removed the WATS Station worker registration" in capsys.readouterr().out
    assert files_under(root) == []
    assert main(["service", "uninstall"]) == Exit.OK  # nothing there: still fine


def test_system_dry_run_names_the_user(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["service", "install", "--system", "--user", "root", "--dry-run"]) == Exit.OK
    out = capsys.readouterr().out
    assert f"{root}/etc/systemd/system/wats-station-default.service" in out
    assert "User=root" in out
    assert "systemctl daemon-reload" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["service", "install", "--instance", "a b"], "may only contain letters"),
        (["service", "install", "--user", "root"], "--user only applies"),
        (["service", "install", "--system", "--user", "no-such-user-xyz"], "no user"),
    ],
)
def test_invalid_input_exits_3_in_plain_words(
    root: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == Exit.INVALID_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_service_without_an_action_prints_usage(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["service"]) == Exit.USAGE
    assert "install" in capsys.readouterr().err


def test_registration_and_the_command_import_no_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, app.service.registration, app.service.windows_service, "
        "app.commands.service\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
