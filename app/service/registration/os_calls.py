"""The one boundary between registration and the operating system's service managers.

Every call into systemctl, launchctl, schtasks, sc.exe, the Windows registry, the Windows
service manager (pywin32) and the worker's IPC socket goes through an object with the
`OsCalls` interface (plus `WindowsCalls` on Windows). Files are not behind it: they are
plain files, written for real (under a registration root in tests).

- `SystemCalls` is the real thing on Linux and macOS; `WindowsSystemCalls` adds the registry
  (winreg), scheduled tasks (schtasks.exe) and services (pywin32) on Windows. Their Windows
  modules are loaded lazily or injected, so this module imports on every OS.
- Tests substitute a recorder that implements the same methods and asserts the exact calls.

Failures of processes come back as a `CommandResult` (a missing program is return code 127);
registry and service failures raise `OsCallError` with a readable message.
"""

from __future__ import annotations

import ctypes
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from app.service.registration.model import Hive, WindowsService

MISSING_PROGRAM = 127
TIMED_OUT = 124
CANNOT_RUN = 126
# winerror codes the service calls treat as answers rather than failures.
ERROR_SERVICE_DOES_NOT_EXIST = 1060
ERROR_SERVICE_NOT_ACTIVE = 1062


class OsCallError(Exception):
    """A registry or service-manager call failed; the message says what and why."""


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def message(self) -> str:
        """The first meaningful line the program printed, for error messages."""
        for text in (self.stderr, self.stdout):
            for line in text.splitlines():
                if line.strip():
                    return line.strip()
        return f"exit code {self.returncode}"


@dataclass(frozen=True)
class ServiceInfo:
    """A Windows service as the service manager reports it."""

    binary_path: str
    state: str  # "running", "stopped", "start pending", ...
    start_type: str  # "auto", "demand", "disabled", ...


class OsCalls(Protocol):
    def run(self, argv: Sequence[str], timeout: float = 60.0) -> CommandResult:
        """Run a service-manager program and wait for it."""
        ...

    def which(self, program: str) -> str | None: ...

    def is_admin(self) -> bool:
        """root on POSIX; an elevated administrator on Windows."""
        ...

    def worker_answers(self, instance: str) -> bool:
        """Does a worker answer on this user's socket for the instance?"""
        ...

    def ask_worker_to_stop(self, instance: str) -> bool:
        """Send `service.stop` over IPC; False when no worker answered."""
        ...


@runtime_checkable
class WindowsCalls(OsCalls, Protocol):
    def registry_get(self, hive: Hive, key: str, name: str) -> str | tuple[str, ...] | None: ...

    def registry_set(
        self, hive: Hive, key: str, name: str, data: str | tuple[str, ...]
    ) -> None: ...

    def registry_delete(self, hive: Hive, key: str, name: str) -> bool:
        """True if the value existed."""
        ...

    def task_create(self, name: str, xml: str) -> CommandResult:
        """Create or replace a scheduled task from its XML definition."""
        ...

    def task_query(self, name: str) -> str | None:
        """The task's XML definition, None if there is no such task."""
        ...

    def task_delete(self, name: str) -> CommandResult: ...

    def service_query(self, name: str) -> ServiceInfo | None: ...

    def service_create(self, service: WindowsService) -> None: ...

    def service_update(self, service: WindowsService) -> None: ...

    def service_start(self, name: str) -> None: ...

    def service_stop(self, name: str, timeout: float) -> None:
        """Stop and wait until stopped; not running is fine."""
        ...

    def service_remove(self, name: str) -> None: ...


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class SystemCalls:
    """The real boundary for Linux and macOS: processes and the worker's IPC socket."""

    def __init__(self, runner: Runner = subprocess.run) -> None:
        self._runner = runner

    def run(self, argv: Sequence[str], timeout: float = 60.0) -> CommandResult:
        args = tuple(argv)
        try:
            done = self._runner(
                list(args),
                capture_output=True,
                text=True,
                errors="replace",
                stdin=subprocess.DEVNULL,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            return CommandResult(args, MISSING_PROGRAM, "", f"{args[0]} is not installed")
        except subprocess.TimeoutExpired:
            return CommandResult(
                args, TIMED_OUT, "", f"{args[0]} did not finish within {timeout:g} s"
            )
        except OSError as exc:
            return CommandResult(args, CANNOT_RUN, "", f"cannot run {args[0]}: {exc}")
        return CommandResult(args, done.returncode, done.stdout or "", done.stderr or "")

    def which(self, program: str) -> str | None:
        return shutil.which(program)

    def is_admin(self) -> bool:
        return os.geteuid() == 0

    def worker_answers(self, instance: str) -> bool:
        from app.ipc.blocking import worker_answers

        return worker_answers(instance)

    def ask_worker_to_stop(self, instance: str) -> bool:
        from app.ipc.blocking import BlockingIpcClient
        from app.ipc.protocol import IpcError, WorkerNotRunning

        try:
            with BlockingIpcClient(instance, timeout=5.0) as client:
                client.call("service.stop")
        except WorkerNotRunning:
            return False
        except IpcError:
            return True
        return True


_SERVICE_STATES = {
    1: "stopped",
    2: "start pending",
    3: "stop pending",
    4: "running",
    5: "continue pending",
    6: "pause pending",
    7: "paused",
}
_START_TYPES = {0: "boot", 1: "system", 2: "auto", 3: "demand", 4: "disabled"}


class WindowsSystemCalls(SystemCalls):
    """The real boundary on Windows. `winreg`, `win32serviceutil`, `win32service` and
    `pywintypes` are imported on first use unless given (tests pass stand-ins)."""

    def __init__(
        self,
        runner: Runner = subprocess.run,
        *,
        winreg: Any = None,
        win32serviceutil: Any = None,
        win32service: Any = None,
        pywintypes: Any = None,
    ) -> None:
        super().__init__(runner)
        self._modules: dict[str, Any] = {
            "winreg": winreg,
            "win32serviceutil": win32serviceutil,
            "win32service": win32service,
            "pywintypes": pywintypes,
        }

    def _module(self, name: str) -> Any:
        module = self._modules[name]
        if module is None:
            try:
                module = importlib.import_module(name)
            except ImportError:
                raise OsCallError(
                    f"{name} is missing: install pywin32 (pip install pywin32)"
                ) from None
            self._modules[name] = module
        return module

    def is_admin(self) -> bool:
        windll = getattr(ctypes, "windll", None)
        if windll is None:
            return False
        try:
            return bool(windll.shell32.IsUserAnAdmin())
        except OSError:
            return False

    # -------------------------------------------------------------- registry

    def _hive(self, hive: Hive) -> Any:
        winreg = self._module("winreg")
        return winreg.HKEY_CURRENT_USER if hive == "HKCU" else winreg.HKEY_LOCAL_MACHINE

    def registry_get(self, hive: Hive, key: str, name: str) -> str | tuple[str, ...] | None:
        winreg = self._module("winreg")
        try:
            with winreg.OpenKey(self._hive(hive), key) as handle:
                value, kind = winreg.QueryValueEx(handle, name)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise OsCallError(f"cannot read {hive}\\{key} value {name!r}: {exc}") from None
        if kind == winreg.REG_MULTI_SZ:
            return tuple(str(v) for v in value)
        return str(value)

    def registry_set(self, hive: Hive, key: str, name: str, data: str | tuple[str, ...]) -> None:
        winreg = self._module("winreg")
        try:
            with winreg.CreateKeyEx(self._hive(hive), key, 0, winreg.KEY_SET_VALUE) as handle:
                if isinstance(data, tuple):
                    winreg.SetValueEx(handle, name, 0, winreg.REG_MULTI_SZ, list(data))
                else:
                    winreg.SetValueEx(handle, name, 0, winreg.REG_SZ, data)
        except OSError as exc:
            raise OsCallError(f"cannot write {hive}\\{key} value {name!r}: {exc}") from None

    def registry_delete(self, hive: Hive, key: str, name: str) -> bool:
        winreg = self._module("winreg")
        try:
            with winreg.OpenKey(self._hive(hive), key, 0, winreg.KEY_SET_VALUE) as handle:
                winreg.DeleteValue(handle, name)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise OsCallError(f"cannot remove {hive}\\{key} value {name!r}: {exc}") from None
        return True

    # -------------------------------------------------------------- scheduled tasks

    def task_create(self, name: str, xml: str) -> CommandResult:
        # schtasks reads the definition from a file; UTF-16 is what it writes and expects.
        with tempfile.TemporaryDirectory(prefix="wats-station-task-") as folder:
            path = Path(folder) / "task.xml"
            path.write_text(xml, encoding="utf-16")
            return self.run(["schtasks", "/Create", "/TN", name, "/XML", str(path), "/F"])

    def task_query(self, name: str) -> str | None:
        result = self.run(["schtasks", "/Query", "/TN", name, "/XML"])
        return result.stdout if result.ok else None

    def task_delete(self, name: str) -> CommandResult:
        return self.run(["schtasks", "/Delete", "/TN", name, "/F"])

    # -------------------------------------------------------------- services

    def _service_error(self, action: str, name: str, exc: Any) -> OsCallError:
        detail = getattr(exc, "strerror", None) or str(exc)
        return OsCallError(f"cannot {action} the Windows service {name!r}: {detail}")

    def service_query(self, name: str) -> ServiceInfo | None:
        svc = self._module("win32service")
        error = self._module("pywintypes").error
        try:
            manager = svc.OpenSCManager(None, None, svc.SC_MANAGER_CONNECT)
            try:
                handle = svc.OpenService(
                    manager, name, svc.SERVICE_QUERY_CONFIG | svc.SERVICE_QUERY_STATUS
                )
                try:
                    config = svc.QueryServiceConfig(handle)
                    status = svc.QueryServiceStatus(handle)
                finally:
                    svc.CloseServiceHandle(handle)
            finally:
                svc.CloseServiceHandle(manager)
        except error as exc:
            if getattr(exc, "winerror", None) == ERROR_SERVICE_DOES_NOT_EXIST:
                return None
            raise self._service_error("query", name, exc) from None
        return ServiceInfo(
            binary_path=str(config[3]),
            state=_SERVICE_STATES.get(int(status[1]), f"state {status[1]}"),
            start_type=_START_TYPES.get(int(config[1]), f"start type {config[1]}"),
        )

    def service_create(self, service: WindowsService) -> None:
        util = self._module("win32serviceutil")
        svc = self._module("win32service")
        try:
            util.InstallService(
                service.python_class,
                service.name,
                service.display_name,
                startType=svc.SERVICE_AUTO_START,
                exeName=service.exe_name,
                exeArgs=service.exe_args,
                description=service.service_description,
            )
        except self._module("pywintypes").error as exc:
            raise self._service_error("create", service.name, exc) from None

    def service_update(self, service: WindowsService) -> None:
        util = self._module("win32serviceutil")
        svc = self._module("win32service")
        try:
            util.ChangeServiceConfig(
                service.python_class,
                service.name,
                startType=svc.SERVICE_AUTO_START,
                exeName=service.exe_name,
                displayName=service.display_name,
                exeArgs=service.exe_args,
                description=service.service_description,
            )
        except self._module("pywintypes").error as exc:
            raise self._service_error("update", service.name, exc) from None

    def service_start(self, name: str) -> None:
        util = self._module("win32serviceutil")
        try:
            util.StartService(name)
        except self._module("pywintypes").error as exc:
            raise self._service_error("start", name, exc) from None

    def service_stop(self, name: str, timeout: float) -> None:
        util = self._module("win32serviceutil")
        svc = self._module("win32service")
        error = self._module("pywintypes").error
        try:
            util.StopService(name)
        except error as exc:
            if getattr(exc, "winerror", None) == ERROR_SERVICE_NOT_ACTIVE:
                return
            raise self._service_error("stop", name, exc) from None
        try:
            util.WaitForServiceStatus(name, svc.SERVICE_STOPPED, max(1, int(timeout)))
        except error as exc:
            raise self._service_error("stop", name, exc) from None

    def service_remove(self, name: str) -> None:
        util = self._module("win32serviceutil")
        try:
            util.RemoveService(name)
        except self._module("pywintypes").error as exc:
            raise self._service_error("remove", name, exc) from None


def system_calls() -> OsCalls:
    """The real boundary for this OS."""
    if sys.platform == "win32":
        return WindowsSystemCalls()
    return SystemCalls()
