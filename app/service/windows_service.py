"""The Windows service that runs the worker (`wats-station --windows-service`).

The service process does not run the worker in itself: it starts `wats-station --service
--instance NAME` as a child and watches it. When the service manager asks it to stop (or the
machine shuts down) it asks the worker to stop over IPC (`service.stop`: finish the upload in
flight, close the queue) and waits; only a worker that does not stop in time is terminated. A
worker that exits by itself with an error makes the service fail, so the recovery actions
registered by `wats-station service install --system` restart it.

`WorkerSupervisor` holds all of that logic and needs no pywin32, so it is tested on every OS.
`WatsStationService` is the thin pywin32 `ServiceFramework` around it; it exists only where
pywin32 is installed (Windows). The instance comes from the service name
(`wats-station-<instance>`), which works for both hosts: the frozen executable and pywin32's
pythonservice.exe (source installs, which load this class by name).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from app.core.paths import DEFAULT_INSTANCE, InstanceNameError, validate_instance_name

log = logging.getLogger("wats.service.windows")

SERVICE_PREFIX = "wats-station-"
# How long the worker gets to stop after being asked (the SCM is told to wait this long).
STOP_TIMEOUT_S = 25.0
# At shutdown Windows waits only a little for services: ask, wait briefly, then terminate.
SHUTDOWN_TIMEOUT_S = 10.0
_TERMINATE_WAIT_S = 5.0
_POLL_S = 0.5
ERROR_FAILED_SERVICE_CONTROLLER_CONNECT = 1063


class ChildProcess(Protocol):
    """The part of subprocess.Popen the supervisor uses."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class WorkerExited(RuntimeError):
    """The worker ended without being asked to: the service must report a failure."""

    def __init__(self, code: int) -> None:
        super().__init__(f"the WATS Station worker exited with code {code}")
        self.code = code


def instance_from_service_name(name: str) -> str:
    """`wats-station-line2` -> `line2`; anything else falls back to the default instance."""
    if name.lower().startswith(SERVICE_PREFIX):
        candidate = name[len(SERVICE_PREFIX) :]
        with contextlib.suppress(InstanceNameError):
            return validate_instance_name(candidate)
    return DEFAULT_INSTANCE


def _spawn_worker(instance: str) -> ChildProcess:
    from app.core.launcher import spawn_worker

    return spawn_worker(instance, detached=False)


def _ask_worker_to_stop(instance: str) -> bool:
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import IpcError

    try:
        with BlockingIpcClient(instance, timeout=5.0) as client:
            client.call("service.stop")
    except IpcError:
        return False
    return True


def _worker_answers(instance: str) -> bool:
    from app.ipc.blocking import worker_answers

    return worker_answers(instance)


class WorkerSupervisor:
    """Run the worker as a child process until it exits or `request_stop()` is called."""

    def __init__(
        self,
        instance: str,
        *,
        spawn: Callable[[str], ChildProcess] = _spawn_worker,
        ask_to_stop: Callable[[str], bool] = _ask_worker_to_stop,
        worker_answers: Callable[[str], bool] = _worker_answers,
        poll_interval: float = _POLL_S,
    ) -> None:
        self.instance = instance
        self._spawn = spawn
        self._ask_to_stop = ask_to_stop
        self._worker_answers = worker_answers
        self._poll = poll_interval
        self._stop = threading.Event()
        self._stop_timeout = STOP_TIMEOUT_S
        self.child: ChildProcess | None = None

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Called from the service manager's thread; `run()` does the stopping."""
        self._stop_timeout = timeout
        self._stop.set()

    def run(self) -> int:
        """Start the worker and wait. Returns its exit code: after a requested stop, whatever
        it exited with; otherwise it ended by itself (crash, bad config)."""
        self._take_over()
        if self._stop.is_set():
            return 0
        child = self.child = self._spawn(self.instance)
        log.info("started the worker for instance %r (pid %s)", self.instance, child.pid)
        while not self._stop.wait(self._poll):
            code = child.poll()
            if code is not None:
                log.error("the worker exited by itself with code %s", code)
                return code
        return self._stop_child(child)

    def _take_over(self) -> None:
        """A worker left over from a killed service host would keep the socket and make ours
        refuse to start: ask it to stop first."""
        if not self._worker_answers(self.instance):
            return
        log.info("another worker answers for instance %r: asking it to stop", self.instance)
        self._ask_to_stop(self.instance)
        deadline = time.monotonic() + self._stop_timeout
        while self._worker_answers(self.instance) and time.monotonic() < deadline:
            if self._stop.wait(self._poll):
                return

    def _stop_child(self, child: ChildProcess) -> int:
        deadline = time.monotonic() + self._stop_timeout
        asked = False
        while child.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._terminate(child)
            if not asked:
                # Fails while the worker is still starting (no socket yet): ask again.
                asked = self._ask_to_stop(self.instance)
                if asked:
                    log.info("asked the worker to stop")
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=min(self._poll, remaining))
        return child.poll() or 0

    def _terminate(self, child: ChildProcess) -> int:
        log.warning("the worker did not stop within %g s: terminating it", self._stop_timeout)
        child.terminate()
        try:
            return child.wait(timeout=_TERMINATE_WAIT_S)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()


def build_service_class(
    win32serviceutil: Any,
    win32service: Any,
    servicemanager: Any,
    supervisor_factory: Callable[[str], WorkerSupervisor] = WorkerSupervisor,
) -> type:
    """The ServiceFramework subclass for the given pywin32 modules (tests pass stand-ins)."""

    class WatsStationService(win32serviceutil.ServiceFramework):  # type: ignore[misc]
        _svc_name_ = f"{SERVICE_PREFIX}{DEFAULT_INSTANCE}"
        _svc_display_name_ = f"WATS Station worker ({DEFAULT_INSTANCE})"
        _svc_description_ = "Converts tester result files to WATS reports and uploads them."

        def __init__(self, args: Sequence[str]) -> None:
            # The real service name, so the event log and the instance follow it.
            if args:
                self._svc_name_ = args[0]
            super().__init__(args)
            self.instance = instance_from_service_name(self._svc_name_)
            self.supervisor = supervisor_factory(self.instance)

        def SvcDoRun(self) -> None:
            servicemanager.LogInfoMsg(f"{self._svc_name_}: starting the worker")
            code = self.supervisor.run()
            if not self.supervisor.stop_requested:
                servicemanager.LogErrorMsg(
                    f"{self._svc_name_}: the worker exited by itself with code {code}"
                )
                # An exception makes pywin32 report SERVICE_STOPPED with an error, which
                # triggers the recovery actions (restart).
                raise WorkerExited(code)
            servicemanager.LogInfoMsg(f"{self._svc_name_}: the worker stopped (code {code})")

        def _stop(self, timeout: float) -> None:
            wait_hint_ms = int((timeout + _TERMINATE_WAIT_S) * 1000)
            self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING, waitHint=wait_hint_ms)
            self.supervisor.request_stop(timeout)

        def SvcStop(self) -> None:
            self._stop(STOP_TIMEOUT_S)

        def SvcShutdown(self) -> None:
            self._stop(SHUTDOWN_TIMEOUT_S)

    return WatsStationService


def _load_pywin32() -> tuple[Any, Any, Any] | None:
    try:
        return (
            importlib.import_module("win32serviceutil"),
            importlib.import_module("win32service"),
            importlib.import_module("servicemanager"),
        )
    except ImportError:
        return None


_MODULES = _load_pywin32()
# The class pythonservice.exe loads by name (app.service.windows_service.WatsStationService).
WatsStationService: type | None = build_service_class(*_MODULES) if _MODULES else None


def main(argv: Sequence[str] | None = None) -> int:
    """`wats-station --windows-service`: hand this process to the Windows service manager."""
    del argv  # the service manager passes the service name; the instance comes from it
    if _MODULES is None or WatsStationService is None:
        print(
            "wats-station: --windows-service runs only on Windows with pywin32 installed",
            file=sys.stderr,
        )
        return 1
    servicemanager = _MODULES[2]
    servicemanager.Initialize()
    servicemanager.PrepareToHostSingle(WatsStationService)
    try:
        servicemanager.StartServiceCtrlDispatcher()
    except Exception as exc:
        if getattr(exc, "winerror", None) != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT:
            raise
        print(
            "wats-station: --windows-service is started by the Windows service manager; "
            "register it with `wats-station service install --system`",
            file=sys.stderr,
        )
        return 1
    return 0
