"""macOS registration: plist content and the exact launchctl calls (recorded)."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest

from app.service import registration
from app.service.registration import macos
from app.service.registration.model import FileArtefact, RegistrationError
from app.service.registration.os_calls import CommandResult
from tests.unit.service.registration_support import RecordingCalls, files_under, make_target

AGENT = "home/Library/LaunchAgents/com.wats.station.default.plist"
TRAY = "home/Library/LaunchAgents/com.wats.station.default.tray.plist"


def _plist(reg: registration.Registration, role: str) -> tuple[Path, dict[str, object]]:
    artefact = reg.artefact(role)  # type: ignore[arg-type]
    assert isinstance(artefact, FileArtefact)
    return artefact.path, plistlib.loads(artefact.content)


def test_launch_agent_runs_the_worker_and_restarts_it_after_a_crash(tmp_path: Path) -> None:
    target = make_target(
        tmp_path, platform="macos", environment=(("WATS_STATION_HOME", "/Users/t/wats"),)
    )
    path, job = _plist(registration.plan(target), "worker")
    assert path == tmp_path / AGENT
    log_dir = tmp_path / "home/logs/default"
    assert job == {
        "Label": "com.wats.station.default",
        "ProgramArguments": [target.program[0], "--service", "--instance", "default"],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 5,
        "StandardOutPath": str(log_dir / "launchd-stdout.log"),
        "StandardErrorPath": str(log_dir / "launchd-stderr.log"),
        "EnvironmentVariables": {"WATS_STATION_HOME": "/Users/t/wats"},
    }


def test_tray_agent_starts_the_gui_minimised_in_the_login_session(tmp_path: Path) -> None:
    target = make_target(tmp_path, platform="macos", instance="line2")
    path, job = _plist(registration.plan(target), "tray")
    assert path.name == "com.wats.station.line2.tray.plist"
    assert job == {
        "Label": "com.wats.station.line2.tray",
        "ProgramArguments": [target.program[0], "--minimized", "--instance", "line2"],
        "RunAtLoad": True,
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }


def test_launch_daemon_names_the_user(tmp_path: Path) -> None:
    target = make_target(tmp_path, platform="macos", scope="system", run_as="tester")
    reg = registration.plan(target)
    assert [a.role for a in reg.artefacts] == ["worker"]
    path, job = _plist(reg, "worker")
    assert path == Path("/Library/LaunchDaemons/com.wats.station.default.plist")
    assert job["UserName"] == "tester"
    assert reg.manager.job == "system/com.wats.station.default"
    assert reg.needs_admin


def test_install_writes_plists_and_bootstraps_the_agent(tmp_path: Path) -> None:
    calls = RecordingCalls(worker_running=True)
    reg = registration.plan(make_target(tmp_path, platform="macos"))
    outcome = registration.install(reg, calls)
    assert outcome.ok, outcome.errors
    assert files_under(tmp_path / "home") == [
        "Library/LaunchAgents/com.wats.station.default.plist",
        "Library/LaunchAgents/com.wats.station.default.tray.plist",
    ]
    assert (tmp_path / "home/logs/default").is_dir()  # launchd needs the log folder
    service = "gui/501/com.wats.station.default"
    assert calls.calls == [
        ("run", "launchctl", "bootout", service),
        ("ask_worker_to_stop", "default"),
        ("run", "launchctl", "enable", service),
        ("run", "launchctl", "bootstrap", "gui/501", str(tmp_path / AGENT)),
    ]


def test_install_tolerates_a_job_that_was_not_loaded(tmp_path: Path) -> None:
    bootout = ("launchctl", "bootout", "gui/501/com.wats.station.default")
    calls = RecordingCalls(results={bootout: CommandResult(bootout, 3, "", "No such process")})
    outcome = registration.install(
        registration.plan(make_target(tmp_path, platform="macos")), calls
    )
    assert outcome.ok
    assert f"ran {' '.join(bootout)}: nothing to do (No such process)" in outcome.done


def test_install_twice_then_uninstall_leaves_nothing(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path, platform="macos"))
    registration.install(reg, RecordingCalls())
    before = {p: (tmp_path / p).read_bytes() for p in (AGENT, TRAY)}
    registration.install(reg, RecordingCalls())
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
    calls = RecordingCalls()
    assert registration.uninstall(reg, calls).ok
    # The tray job is not booted out: that would close a GUI the user has open.
    assert calls.ran() == [("launchctl", "bootout", "gui/501/com.wats.station.default")]
    assert files_under(tmp_path / "home/Library") == []


def test_status_reads_launchctl_print(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path, platform="macos"))
    registration.install(reg, RecordingCalls())
    printed = ("launchctl", "print", "gui/501/com.wats.station.default")
    output = "gui/501/com.wats.station.default = {\n\tstate = running\n\tpid = 4242\n}\n"
    state = registration.status(
        reg, RecordingCalls(results={printed: CommandResult(printed, 0, output)})
    )
    assert state.current
    assert state.manager_state == "loaded, running (pid 4242)"
    assert state.registered_command == reg.worker_command
    missing = registration.status(
        reg, RecordingCalls(results={printed: CommandResult(printed, 113, "", "not found")})
    )
    assert missing.manager_state == "not loaded"


def test_daemon_needs_root_and_gives_its_log_folder_to_the_user(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path, platform="macos", scope="system"))
    with pytest.raises(RegistrationError, match="needs root"):
        registration.install(reg, RecordingCalls(admin=False))
    assert reg.folders[0].owner == "station"


def test_plist_command_of_garbage_is_none() -> None:
    assert macos.plist_command(b"not a plist") is None
    assert macos.plist_command(plistlib.dumps({"Label": "x"})) is None
