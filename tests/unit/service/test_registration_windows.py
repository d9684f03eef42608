"""Windows registration, checked on any OS: the task definition, registry values, service
record and the exact calls through the boundary; and the real boundary's own calls into
schtasks, winreg and pywin32 (with stand-in modules)."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.service import registration
from app.service.registration import windows
from app.service.registration.model import (
    RegistrationError,
    RegistryValue,
    ScheduledTask,
    WindowsService,
)
from app.service.registration.os_calls import (
    CommandResult,
    OsCallError,
    ServiceInfo,
    WindowsSystemCalls,
)
from tests.unit.service.registration_support import RecordingCalls, make_target

EXE = r"C:\Program Files\WATS Station\wats-station.exe"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
NS = {"t": windows.TASK_NS}


def _target(tmp_path: Path, **kwargs: Any) -> registration.Target:
    return make_target(tmp_path, platform="windows", program=(EXE,), **kwargs)


def _task(reg: registration.Registration) -> ScheduledTask:
    task = reg.artefact("worker")
    assert isinstance(task, ScheduledTask)
    return task


def test_logon_task_definition(tmp_path: Path) -> None:
    task = _task(registration.plan(_target(tmp_path)))
    assert task.name == "WATS Station\\default"
    root = ET.fromstring(task.xml.split("?>", 1)[1])

    def text(path: str) -> str | None:
        found = root.find(path, NS)
        return None if found is None else found.text

    assert text("t:Triggers/t:LogonTrigger/t:UserId") == "PLANT\\tester"
    assert text("t:Principals/t:Principal/t:RunLevel") == "LeastPrivilege"
    assert text("t:Principals/t:Principal/t:LogonType") == "InteractiveToken"
    # A worker runs for months: no time limit, not stopped on battery, restarted on failure.
    assert text("t:Settings/t:ExecutionTimeLimit") == "PT0S"
    assert text("t:Settings/t:DisallowStartIfOnBatteries") == "false"
    assert text("t:Settings/t:StopIfGoingOnBatteries") == "false"
    assert text("t:Settings/t:MultipleInstancesPolicy") == "IgnoreNew"
    assert text("t:Settings/t:RestartOnFailure/t:Interval") == "PT1M"
    assert text("t:Actions/t:Exec/t:Command") == EXE
    assert text("t:Actions/t:Exec/t:Arguments") == "--service --instance default"
    assert windows.task_command(task.xml) == (EXE, "--service", "--instance", "default")


def test_user_plan_values_and_steps(tmp_path: Path) -> None:
    reg = registration.plan(
        _target(tmp_path, instance="line2", environment=(("WATS_STATION_HOME", r"D:\wats"),))
    )
    tray, home = reg.artefacts[1:]
    assert tray == RegistryValue(
        hive="HKCU",
        key=RUN_KEY,
        name="WATS Station (line2)",
        data=f'"{EXE}" --minimized --instance line2',
        role="tray",
        description="Run value for the tray",
    )
    assert isinstance(home, RegistryValue)
    assert (home.hive, home.key, home.name, home.data) == (
        "HKCU",
        "Environment",
        "WATS_STATION_HOME",
        r"D:\wats",
    )
    assert not reg.needs_admin


def test_user_install_creates_task_and_run_value_then_starts(tmp_path: Path) -> None:
    calls = RecordingCalls(worker_running=True)
    reg = registration.plan(_target(tmp_path))
    outcome = registration.install(reg, calls)
    assert outcome.ok, outcome.errors
    assert calls.calls == [
        ("task_create", "WATS Station\\default", _task(reg).xml),
        ("registry_set", "HKCU", RUN_KEY, "WATS Station", f'"{EXE}" --minimized'),
        ("ask_worker_to_stop", "default"),
        ("run", "schtasks", "/Run", "/TN", "WATS Station\\default"),
    ]
    assert (
        outcome.done[0]
        == "created logon task for the worker: Task Scheduler task \\WATS Station\\default"
    )


def test_user_install_twice_creates_no_second_entry(tmp_path: Path) -> None:
    calls = RecordingCalls()
    reg = registration.plan(_target(tmp_path))
    registration.install(reg, calls)
    calls.calls.clear()
    outcome = registration.install(reg, calls)
    assert calls.calls == [
        ("ask_worker_to_stop", "default"),
        ("run", "schtasks", "/Run", "/TN", "WATS Station\\default"),
    ]
    assert len(calls.tasks) == 1
    assert len(calls.registry) == 1
    assert sum("already up to date" in line for line in outcome.done) == 2


def test_moved_program_replaces_the_task_in_place(tmp_path: Path) -> None:
    calls = RecordingCalls()
    registration.install(registration.plan(_target(tmp_path)), calls)
    moved = make_target(tmp_path, platform="windows", program=(r"D:\Apps\wats-station.exe",))
    moved_reg = registration.plan(moved)
    stale = registration.status(moved_reg, calls)
    assert stale.registered
    assert not stale.current
    assert stale.command_matches is False
    outcome = registration.install(moved_reg, calls)
    assert "replaced logon task for the worker" in outcome.done[0]
    assert list(calls.tasks) == ["WATS Station\\default"]
    assert registration.status(moved_reg, calls).current


def test_user_uninstall_ends_deletes_and_forgets_the_run_value(tmp_path: Path) -> None:
    reg = registration.plan(_target(tmp_path, environment=(("WATS_STATION_HOME", r"D:\w"),)))
    calls = RecordingCalls()
    registration.install(reg, calls)
    calls.registry[("HKCU", RUN_KEY, "Other App")] = "other.exe"
    calls.calls.clear()
    assert registration.uninstall(reg, calls).ok
    assert calls.calls == [
        ("run", "schtasks", "/End", "/TN", "WATS Station\\default"),
        ("registry_delete", "HKCU", "Environment", "WATS_STATION_HOME"),
        ("registry_delete", "HKCU", RUN_KEY, "WATS Station"),
        ("task_delete", "WATS Station\\default"),
    ]
    assert calls.tasks == {}
    assert calls.registry == {("HKCU", RUN_KEY, "Other App"): "other.exe"}
    again = registration.uninstall(reg, calls)
    assert again.ok
    assert sum("was not there" in line for line in again.done) == 3


def test_user_status_reads_the_task_state(tmp_path: Path) -> None:
    reg = registration.plan(_target(tmp_path))
    calls = RecordingCalls()
    registration.install(reg, calls)
    calls.worker_running = True
    query = ("schtasks", "/Query", "/TN", "WATS Station\\default", "/FO", "CSV", "/NH")
    calls.results[query] = CommandResult(query, 0, '"\\WATS Station\\default","N/A","Running"\n')
    state = registration.status(reg, calls)
    assert state.current
    assert state.manager_state == "task running"
    assert state.registered_command == (EXE, "--service", "--instance", "default")
    assert [a.command for a in state.artefacts] == [
        (EXE, "--service", "--instance", "default"),
        (EXE, "--minimized"),
    ]
    assert state.worker_running


def test_frozen_service_runs_the_executable_with_the_service_entry(tmp_path: Path) -> None:
    reg = registration.plan(
        _target(
            tmp_path,
            scope="system",
            frozen=True,
            environment=(("WATS_STATION_HOME", r"C:\ProgramData\WATS"),),
        )
    )
    service, env = reg.artefacts
    assert isinstance(service, WindowsService)
    assert service.name == "wats-station-default"
    assert service.exe_name == EXE
    assert service.exe_args == "--windows-service --instance default"
    assert service.python_class is None
    assert service.binary_path == f'"{EXE}" --windows-service --instance default'
    assert reg.worker_command == (EXE, "--windows-service", "--instance", "default")
    assert env == RegistryValue(
        hive="HKLM",
        key=r"SYSTEM\CurrentControlSet\Services\wats-station-default",
        name="Environment",
        data=(r"WATS_STATION_HOME=C:\ProgramData\WATS",),
        role="setting",
        description="the service's environment",
    )


def test_source_install_service_is_hosted_by_pythonservice(tmp_path: Path) -> None:
    service = registration.plan(_target(tmp_path, scope="system")).artefacts[0]
    assert isinstance(service, WindowsService)
    assert service.exe_name is None
    assert service.python_class == "app.service.windows_service.WatsStationService"
    assert service.binary_path.endswith('pythonservice.exe"')


def test_system_install_needs_an_administrator(tmp_path: Path) -> None:
    reg = registration.plan(_target(tmp_path, scope="system"))
    with pytest.raises(RegistrationError, match="elevated prompt"):
        registration.install(reg, RecordingCalls(admin=False))


def test_system_install_creates_configures_and_starts_the_service(tmp_path: Path) -> None:
    reg = registration.plan(_target(tmp_path, scope="system", frozen=True))
    service = reg.artefacts[0]
    assert isinstance(service, WindowsService)
    calls = RecordingCalls(admin=True)
    assert registration.install(reg, calls).ok
    assert calls.calls == [
        ("service_create", service),
        (
            "run",
            "sc.exe",
            "failure",
            "wats-station-default",
            "reset=",
            "86400",
            "actions=",
            "restart/5000/restart/5000/restart/60000",
        ),
        ("run", "sc.exe", "failureflag", "wats-station-default", "1"),
        ("service_stop", "wats-station-default"),
        ("service_start", "wats-station-default"),
    ]
    state = registration.status(reg, calls)
    assert state.current
    assert state.manager_state == "auto start, running"
    assert state.running_checked_as is not None  # the service runs as LocalSystem

    calls.services["wats-station-default"] = ServiceInfo(service.binary_path, "running", "disabled")
    calls.calls.clear()
    registration.install(reg, calls)
    assert calls.calls[0] == ("service_update", service)


def test_system_uninstall_stops_and_removes_the_service(tmp_path: Path) -> None:
    reg = registration.plan(_target(tmp_path, scope="system", frozen=True))
    calls = RecordingCalls(admin=True)
    registration.install(reg, calls)
    calls.calls.clear()
    assert registration.uninstall(reg, calls).ok
    assert calls.calls == [
        ("service_stop", "wats-station-default"),
        ("service_remove", "wats-station-default"),
    ]
    assert calls.services == {}


def test_windows_plans_need_the_windows_boundary(tmp_path: Path) -> None:
    from app.service.registration.os_calls import SystemCalls

    class PosixCalls(SystemCalls):
        def which(self, program: str) -> str | None:
            return f"/usr/bin/{program}"

    reg = registration.plan(_target(tmp_path))
    with pytest.raises(RegistrationError, match="not available here"):
        registration.install(reg, PosixCalls(runner=_never_run))


def _never_run(*_args: Any, **_kwargs: Any) -> subprocess.CompletedProcess[str]:
    raise AssertionError("nothing may run")


# ------------------------------------------------------------------ the real boundary


class FakeRunner:
    def __init__(self, stdout: str = "", returncode: int = 0) -> None:
        self.argv: list[list[str]] = []
        self.files: list[str] = []
        self.stdout = stdout
        self.returncode = returncode

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.argv.append(argv)
        assert kwargs["capture_output"] is True
        assert kwargs["check"] is False
        if "/XML" in argv and argv[1] == "/Create":
            self.files.append(Path(argv[argv.index("/XML") + 1]).read_text(encoding="utf-16"))
        return subprocess.CompletedProcess(argv, self.returncode, self.stdout, "")


def test_real_boundary_schtasks_command_lines() -> None:
    runner = FakeRunner(stdout="<Task/>")
    calls = WindowsSystemCalls(runner)
    assert calls.task_create("WATS Station\\default", "<Task>é</Task>").ok
    assert calls.task_query("WATS Station\\default") == "<Task/>"
    calls.task_delete("WATS Station\\default")
    create = runner.argv[0]
    assert create[:5] == ["schtasks", "/Create", "/TN", "WATS Station\\default", "/XML"]
    assert create[6:] == ["/F"]
    assert runner.files == ["<Task>é</Task>"]
    assert not Path(create[5]).exists()  # the definition file is cleaned up
    assert runner.argv[1:] == [
        ["schtasks", "/Query", "/TN", "WATS Station\\default", "/XML"],
        ["schtasks", "/Delete", "/TN", "WATS Station\\default", "/F"],
    ]


def test_real_boundary_reports_a_missing_program() -> None:
    def missing(argv: list[str], **_kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(argv[0])

    result = WindowsSystemCalls(missing).run(["schtasks", "/Query"])
    assert (result.returncode, result.message) == (127, "schtasks is not installed")


class FakeKey:
    def __init__(
        self,
        store: dict[tuple[int, str], dict[str, tuple[Any, int]]],
        hive: int,
        key: str,
        create: bool,
    ) -> None:
        if (hive, key) not in store:
            if not create:
                raise FileNotFoundError(key)
            store[(hive, key)] = {}
        self.values = store[(hive, key)]

    def __enter__(self) -> FakeKey:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def fake_winreg() -> SimpleNamespace:
    store: dict[tuple[int, str], dict[str, tuple[Any, int]]] = {}

    def query(key: FakeKey, name: str) -> tuple[Any, int]:
        if name not in key.values:
            raise FileNotFoundError(name)
        return key.values[name]

    def set_value(key: FakeKey, name: str, _reserved: int, kind: int, value: Any) -> None:
        key.values[name] = (value, kind)

    def delete(key: FakeKey, name: str) -> None:
        if name not in key.values:
            raise FileNotFoundError(name)
        del key.values[name]

    return SimpleNamespace(
        store=store,
        HKEY_CURRENT_USER=1,
        HKEY_LOCAL_MACHINE=2,
        KEY_SET_VALUE=2,
        REG_SZ=1,
        REG_MULTI_SZ=7,
        OpenKey=lambda hive, key, *_a: FakeKey(store, hive, key, create=False),
        CreateKeyEx=lambda hive, key, *_a: FakeKey(store, hive, key, create=True),
        QueryValueEx=query,
        SetValueEx=set_value,
        DeleteValue=delete,
    )


def test_real_boundary_registry_calls() -> None:
    winreg = fake_winreg()
    calls = WindowsSystemCalls(winreg=winreg)
    assert calls.registry_get("HKCU", RUN_KEY, "WATS Station") is None
    calls.registry_set("HKCU", RUN_KEY, "WATS Station", '"x.exe" --minimized')
    calls.registry_set("HKLM", "SYSTEM\\S", "Environment", ("A=1", "B=2"))
    assert winreg.store[(1, RUN_KEY)] == {"WATS Station": ('"x.exe" --minimized', 1)}
    assert winreg.store[(2, "SYSTEM\\S")] == {"Environment": (["A=1", "B=2"], 7)}
    assert calls.registry_get("HKLM", "SYSTEM\\S", "Environment") == ("A=1", "B=2")
    assert calls.registry_delete("HKCU", RUN_KEY, "WATS Station") is True
    assert calls.registry_delete("HKCU", RUN_KEY, "WATS Station") is False
    assert calls.registry_delete("HKCU", "Software\\Nothing", "x") is False


class FakePyWinError(Exception):
    def __init__(self, winerror: int, strerror: str) -> None:
        super().__init__(strerror)
        self.winerror = winerror
        self.strerror = strerror


def fake_pywin32(log: list[tuple[Any, ...]]) -> dict[str, Any]:
    def record(name: str) -> Any:
        return lambda *args, **kwargs: log.append((name, args, kwargs))

    def stop(name: str) -> None:
        log.append(("StopService", (name,), {}))
        raise FakePyWinError(1062, "The service has not been started.")

    def open_service(_manager: Any, name: str, _access: int) -> str:
        if name != "wats-station-default":
            raise FakePyWinError(1060, "The specified service does not exist.")
        return name

    util = SimpleNamespace(
        InstallService=record("InstallService"),
        ChangeServiceConfig=record("ChangeServiceConfig"),
        StartService=record("StartService"),
        StopService=stop,
        WaitForServiceStatus=record("WaitForServiceStatus"),
        RemoveService=record("RemoveService"),
    )
    service = SimpleNamespace(
        SERVICE_AUTO_START=2,
        SERVICE_STOPPED=1,
        SC_MANAGER_CONNECT=1,
        SERVICE_QUERY_CONFIG=1,
        SERVICE_QUERY_STATUS=4,
        OpenSCManager=lambda *_a: "scm",
        OpenService=open_service,
        QueryServiceConfig=lambda _h: (
            16,
            2,
            1,
            '"C:\\w.exe" --windows-service',
            "",
            0,
            [],
            "LocalSystem",
            "W",
        ),
        QueryServiceStatus=lambda _h: (16, 4, 0, 0, 0, 0, 0),
        CloseServiceHandle=lambda _h: None,
    )
    return {
        "win32serviceutil": util,
        "win32service": service,
        "pywintypes": SimpleNamespace(error=FakePyWinError),
    }


def test_real_boundary_service_calls(tmp_path: Path) -> None:
    log: list[tuple[Any, ...]] = []
    calls = WindowsSystemCalls(**fake_pywin32(log))
    reg = registration.plan(_target(tmp_path, scope="system", frozen=True))
    service = reg.artefacts[0]
    assert isinstance(service, WindowsService)
    calls.service_create(service)
    assert log[-1] == (
        "InstallService",
        (None, "wats-station-default", "WATS Station worker (default)"),
        {
            "startType": 2,
            "exeName": EXE,
            "exeArgs": "--windows-service --instance default",
            "description": service.service_description,
        },
    )
    calls.service_update(service)
    update = log[-1]
    assert update[0] == "ChangeServiceConfig"
    assert update[2]["exeArgs"] == "--windows-service --instance default"
    assert calls.service_query("wats-station-default") == ServiceInfo(
        '"C:\\w.exe" --windows-service', "running", "auto"
    )
    assert calls.service_query("wats-station-other") is None
    calls.service_stop("wats-station-default", 30)  # not running: fine, nothing to wait for
    calls.service_start("wats-station-default")
    calls.service_remove("wats-station-default")
    assert [entry[0] for entry in log[-3:]] == ["StopService", "StartService", "RemoveService"]


def test_real_boundary_turns_pywin32_errors_into_plain_words() -> None:
    modules = fake_pywin32([])

    def denied(*_args: Any, **_kwargs: Any) -> None:
        raise FakePyWinError(5, "Access is denied.")

    modules["win32serviceutil"].StartService = denied
    with pytest.raises(
        OsCallError, match=r"cannot start the Windows service 'x': Access is denied\."
    ):
        WindowsSystemCalls(**modules).service_start("x")


@pytest.mark.skipif(sys.platform == "win32", reason="pywin32 is installed on Windows")
def test_real_boundary_says_when_pywin32_is_missing() -> None:
    with pytest.raises(OsCallError, match=r"win32serviceutil is missing: install pywin32"):
        WindowsSystemCalls().service_start("x")
