"""Linux registration: unit and desktop-entry content, and the exact systemctl calls."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from app.service import registration
from app.service.registration import desktop_entry, engine, linux, unitfile
from app.service.registration.model import FileArtefact, RegistrationError
from app.service.registration.os_calls import CommandResult
from tests.unit.service.registration_support import RecordingCalls, files_under, make_target

USER_UNIT = "home/.config/systemd/user/wats-station-default.service"
AUTOSTART = "home/.config/autostart/wats-station.desktop"


def _file(reg: registration.Registration, role: str) -> FileArtefact:
    artefact = reg.artefact(role)  # type: ignore[arg-type]
    assert isinstance(artefact, FileArtefact)
    return artefact


def test_user_unit_runs_the_worker_with_restart_on_failure(tmp_path: Path) -> None:
    target = make_target(tmp_path, environment=(("WATS_STATION_HOME", "/srv/wats home"),))
    reg = registration.plan(target)
    unit = _file(reg, "worker")
    assert unit.path == tmp_path / USER_UNIT
    assert unit.mode == 0o644
    parsed = unitfile.parse_unit(unit.content.decode())
    program = target.program[0]
    assert parsed.value("Service", "ExecStart") == f"{program} --service --instance default"
    assert parsed.value("Service", "Restart") == "on-failure"
    assert parsed.value("Service", "RestartSec") == "5"
    assert parsed.values("Service", "Environment") == ['"WATS_STATION_HOME=/srv/wats home"']
    assert parsed.value("Service", "User") is None
    assert parsed.value("Install", "WantedBy") == "default.target"
    assert unitfile.check_service_unit(unit.content.decode()) == []
    assert unitfile.exec_start(unit.content.decode()) == (
        program,
        "--service",
        "--instance",
        "default",
    )


def test_autostart_entry_starts_the_tray_minimised_with_the_same_home(tmp_path: Path) -> None:
    target = make_target(tmp_path, environment=(("WATS_STATION_HOME", "/srv/wats home"),))
    entry = _file(registration.plan(target), "tray")
    assert entry.path == tmp_path / AUTOSTART
    keys = desktop_entry.parse_entry(entry.content.decode())
    assert keys["Type"] == "Application"
    assert keys["X-GNOME-Autostart-enabled"] == "true"
    assert desktop_entry.split_exec(keys["Exec"]) == (
        "env",
        "WATS_STATION_HOME=/srv/wats home",
        target.program[0],
        "--minimized",
    )


def test_other_instances_get_their_own_unit_and_entry(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path, instance="line2"))
    assert [Path(a.where).name for a in reg.artefacts] == [
        "wats-station-line2.service",
        "wats-station-line2.desktop",
    ]
    assert reg.tray_command is not None
    assert reg.tray_command[1:] == ("--minimized", "--instance", "line2")


def test_system_unit_names_the_user_and_waits_for_the_network(tmp_path: Path) -> None:
    target = make_target(tmp_path, scope="system", run_as="tester", root=tmp_path / "root")
    reg = registration.plan(target)
    assert [a.role for a in reg.artefacts] == ["worker"]
    unit = _file(reg, "worker")
    assert unit.path == tmp_path / "root/etc/systemd/system/wats-station-default.service"
    parsed = unitfile.parse_unit(unit.content.decode())
    assert parsed.value("Service", "User") == "tester"
    assert parsed.value("Unit", "After") == "network-online.target"
    assert parsed.value("Install", "WantedBy") == "multi-user.target"
    assert reg.needs_admin
    assert reg.install_steps[0].argv == ("systemctl", "daemon-reload")  # type: ignore[union-attr]


def test_install_writes_files_and_runs_systemctl_in_order(tmp_path: Path) -> None:
    calls = RecordingCalls(worker_running=True)
    reg = registration.plan(make_target(tmp_path))
    outcome = registration.install(reg, calls, stop_timeout=1)
    assert outcome.ok, outcome.errors
    assert files_under(tmp_path / "home") == [
        ".config/autostart/wats-station.desktop",
        ".config/systemd/user/wats-station-default.service",
    ]
    assert (tmp_path / USER_UNIT).read_bytes() == _file(reg, "worker").content
    assert stat.S_IMODE((tmp_path / USER_UNIT).stat().st_mode) == 0o644
    unit = "wats-station-default.service"
    assert calls.calls == [
        ("run", "systemctl", "--user", "show-environment"),
        ("run", "systemctl", "--user", "daemon-reload"),
        ("run", "systemctl", "--user", "enable", unit),
        ("run", "systemctl", "--user", "stop", unit),
        ("ask_worker_to_stop", "default"),
        ("run", "systemctl", "--user", "start", unit),
    ]
    assert "stopped the worker that was running" in outcome.done


def test_install_twice_leaves_the_same_files(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path))
    registration.install(reg, RecordingCalls())
    first = {p: (tmp_path / p).read_bytes() for p in (USER_UNIT, AUTOSTART)}
    mtimes = {p: (tmp_path / p).stat().st_mtime_ns for p in first}
    outcome = registration.install(reg, RecordingCalls())
    assert outcome.ok
    assert {p: (tmp_path / p).read_bytes() for p in first} == first
    assert {p: (tmp_path / p).stat().st_mtime_ns for p in first} == mtimes
    assert sum("already up to date" in line for line in outcome.done) == 2


def test_install_repairs_a_changed_unit(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path))
    registration.install(reg, RecordingCalls())
    (tmp_path / USER_UNIT).write_text("[Unit]\nDescription=edited by hand\n")
    outcome = registration.install(reg, RecordingCalls())
    assert f"wrote systemd user unit: {tmp_path / USER_UNIT}" in outcome.done
    assert (tmp_path / USER_UNIT).read_bytes() == _file(reg, "worker").content


def test_without_a_systemd_session_files_are_written_and_the_user_is_told(
    tmp_path: Path,
) -> None:
    probe = ("systemctl", "--user", "show-environment")
    calls = RecordingCalls(results={probe: CommandResult(probe, 1, "", "Failed to connect to bus")})
    reg = registration.plan(make_target(tmp_path))
    outcome = registration.install(reg, calls)
    assert outcome.ok
    assert calls.ran() == [probe]
    assert (tmp_path / USER_UNIT).is_file()
    command = " ".join(reg.worker_command)
    assert outcome.notes == [
        "written, but systemd is not available in this session (Failed to connect to bus): "
        f"start the worker with `{command}`"
    ]


def test_without_systemctl_nothing_is_run(tmp_path: Path) -> None:
    calls = RecordingCalls(programs=set())
    outcome = registration.install(registration.plan(make_target(tmp_path)), calls)
    assert outcome.ok
    assert calls.calls == []
    assert "systemctl is not installed" in outcome.notes[0]


def test_a_failing_systemctl_step_stops_install_with_its_message(tmp_path: Path) -> None:
    enable = ("systemctl", "--user", "enable", "wats-station-default.service")
    calls = RecordingCalls(results={enable: CommandResult(enable, 1, "", "Access denied")})
    outcome = registration.install(registration.plan(make_target(tmp_path)), calls)
    assert outcome.errors == [
        "`systemctl --user enable wats-station-default.service` failed: Access denied"
    ]
    assert calls.ran()[-1] == enable  # nothing after the failure


def test_a_worker_that_does_not_stop_fails_install(tmp_path: Path) -> None:
    calls = RecordingCalls(worker_running=True, worker_ignores_stop=True)
    outcome = registration.install(
        registration.plan(make_target(tmp_path)), calls, stop_timeout=0.2
    )
    assert outcome.errors == [
        "the running worker did not stop within 0.2 s; stop it (or end the process) and run "
        "install again"
    ]
    assert (
        "run",
        "systemctl",
        "--user",
        "start",
        "wats-station-default.service",
    ) not in calls.calls


def test_system_scope_needs_root(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path, scope="system"))
    with pytest.raises(RegistrationError, match="needs root: run it with sudo"):
        registration.install(reg, RecordingCalls(admin=False))
    with pytest.raises(RegistrationError, match="needs root"):
        registration.uninstall(reg, RecordingCalls(admin=False))


def test_system_scope_as_root_runs_system_systemctl(tmp_path: Path) -> None:
    target = make_target(tmp_path, scope="system")
    # Write under a root but pretend it is the real one, to see the calls.
    reg = registration.plan(target.with_root(tmp_path / "root"))
    real = dataclasses.replace(reg, root=None)
    calls = RecordingCalls(admin=True)
    assert registration.install(real, calls).ok
    assert calls.ran()[0] == ("systemctl", "show-environment")
    assert calls.ran()[-1] == ("systemctl", "start", "wats-station-default.service")


def test_a_registration_root_never_calls_the_service_manager(tmp_path: Path) -> None:
    root = tmp_path / "root"
    reg = registration.plan(make_target(tmp_path, scope="system", root=root))
    calls = RecordingCalls(admin=False)
    outcome = registration.install(reg, calls)
    assert outcome.ok
    assert calls.calls == []
    assert files_under(root) == ["etc/systemd/system/wats-station-default.service"]
    assert outcome.notes == [
        f"files written under the registration root {root}; systemd was not told"
    ]
    assert registration.uninstall(reg, calls).ok
    assert files_under(root) == []
    assert calls.calls == []


def test_uninstall_disables_removes_and_reloads(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path))
    registration.install(reg, RecordingCalls())
    (tmp_path / "home/.config/autostart/other.desktop").write_text("[Desktop Entry]\n")
    calls = RecordingCalls()
    outcome = registration.uninstall(reg, calls)
    assert outcome.ok
    unit = "wats-station-default.service"
    assert calls.ran() == [
        ("systemctl", "--user", "show-environment"),
        ("systemctl", "--user", "disable", "--now", unit),
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "reset-failed", unit),
    ]
    # Only what install created is gone.
    assert files_under(tmp_path / "home") == [".config/autostart/other.desktop"]


def test_uninstall_when_nothing_is_installed_is_fine(tmp_path: Path) -> None:
    disable = ("systemctl", "--user", "disable", "--now", "wats-station-default.service")
    reset = ("systemctl", "--user", "reset-failed", "wats-station-default.service")
    calls = RecordingCalls(
        results={
            disable: CommandResult(disable, 1, "", "Unit file does not exist."),
            reset: CommandResult(reset, 1, "", "Unit not loaded."),
        }
    )
    outcome = registration.uninstall(registration.plan(make_target(tmp_path)), calls)
    assert outcome.ok, outcome.errors
    assert sum("was not there" in line for line in outcome.done) == 2
    assert any("nothing to do (Unit file does not exist.)" in line for line in outcome.done)


def test_status_reports_files_systemd_state_and_worker(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path))
    registration.install(reg, RecordingCalls())
    unit = "wats-station-default.service"
    enabled = ("systemctl", "--user", "is-enabled", unit)
    active = ("systemctl", "--user", "is-active", unit)
    calls = RecordingCalls(
        worker_running=True,
        results={
            enabled: CommandResult(enabled, 0, "enabled\n"),
            active: CommandResult(active, 0, "active\n"),
        },
    )
    state = registration.status(reg, calls)
    assert state.registered
    assert state.current
    assert state.registered_command == reg.worker_command
    assert state.command_matches is True
    assert state.executable_exists is True
    assert state.manager_state == "enabled, active"
    assert state.worker_running is True


def test_status_sees_a_stale_registration_after_the_program_moved(tmp_path: Path) -> None:
    old = make_target(tmp_path)
    registration.install(registration.plan(old), RecordingCalls(programs=set()))
    moved = tmp_path / "new" / "wats-station"
    moved.parent.mkdir()
    Path(old.program[0]).rename(moved)
    now = registration.plan(make_target(tmp_path, program=(str(moved),)))
    state = registration.status(now, RecordingCalls(programs=set()))
    assert state.registered
    assert not state.current
    assert state.registered_command == (old.program[0], "--service", "--instance", "default")
    assert state.command_matches is False
    assert state.executable_exists is False
    assert state.manager_state == "not available in this session (systemctl is not installed)"


def test_status_of_nothing(tmp_path: Path) -> None:
    state = registration.status(registration.plan(make_target(tmp_path)), RecordingCalls())
    assert not state.registered
    assert not state.partly_registered
    assert state.registered_command is None
    assert state.command_matches is None
    assert [a.present for a in state.artefacts] == [False, False]


def test_install_refuses_a_unit_whose_program_does_not_exist(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path, program=("/nowhere/wats-station",)))
    with pytest.raises(RegistrationError, match="program /nowhere/wats-station does not exist"):
        registration.install(reg, RecordingCalls())
    assert not (tmp_path / USER_UNIT).exists()


def test_dry_run_description_lists_files_and_commands(tmp_path: Path) -> None:
    from app.service.registration.describe import describe_install, describe_uninstall

    reg = registration.plan(make_target(tmp_path))
    text = "\n".join(describe_install(reg))
    assert f"write {tmp_path / USER_UNIT} (systemd user unit, mode 0644):" in text
    assert "      Restart=on-failure" in text
    assert "  systemctl --user enable wats-station-default.service" in text
    assert "ask a running worker to stop over IPC" in text
    removal = "\n".join(describe_uninstall(reg))
    assert "systemctl --user disable --now wats-station-default.service" in removal
    assert f"remove {tmp_path / AUTOSTART}" in removal
    assert not (tmp_path / "home").exists()  # describing touches nothing


def test_manager_state_of_a_disabled_unit(tmp_path: Path) -> None:
    reg = registration.plan(make_target(tmp_path))
    unit = "wats-station-default.service"
    enabled = ("systemctl", "--user", "is-enabled", unit)
    active = ("systemctl", "--user", "is-active", unit)
    calls = RecordingCalls(
        results={
            enabled: CommandResult(enabled, 1, "disabled\n"),
            active: CommandResult(active, 3, "inactive\n"),
        }
    )
    assert linux.manager_state(reg, calls) == "disabled, inactive"
    assert engine.manager_problem(reg, RecordingCalls(programs=set())) == (
        "systemctl is not installed"
    )
