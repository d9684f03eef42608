"""The Windows service's logic, on any OS: the supervisor with a stand-in child process and
IPC, and the pywin32 service class built on stand-in pywin32 modules."""

from __future__ import annotations

import subprocess
import threading
from types import SimpleNamespace
from typing import Any

import pytest

from app.service import windows_service
from app.service.windows_service import (
    WorkerExited,
    WorkerSupervisor,
    build_service_class,
    instance_from_service_name,
)

JOIN_TIMEOUT_S = 10.0


class FakeChild:
    """A child process whose exit the test controls; wait() blocks like the real one."""

    pid = 4242

    def __init__(self) -> None:
        self.returncode: int | None = None
        self._exited = threading.Event()
        self.events: list[str] = []

    def exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired("wats-station", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def terminate(self) -> None:
        self.events.append("terminate")
        self.exit(1)

    def kill(self) -> None:
        self.events.append("kill")
        self.exit(-9)


class FakeWorkerIpc:
    """The worker's socket: answers once `ready`, stops the child when asked."""

    def __init__(self, child: FakeChild, *, ready: bool = True, obeys: bool = True) -> None:
        self.child = child
        self.ready = ready
        self.obeys = obeys
        self.asked = 0
        self.answering_before_spawn = False

    def ask_to_stop(self, _instance: str) -> bool:
        self.asked += 1
        if self.answering_before_spawn:
            self.answering_before_spawn = False
            return True
        if not self.ready:
            self.ready = True  # the worker finished starting: the next attempt gets through
            return False
        if self.obeys:
            self.child.exit(0)
        return True

    def answers(self, _instance: str) -> bool:
        return self.answering_before_spawn


def _supervisor(child: FakeChild, ipc: FakeWorkerIpc) -> WorkerSupervisor:
    return WorkerSupervisor(
        "line2",
        spawn=lambda _instance: child,
        ask_to_stop=ipc.ask_to_stop,
        worker_answers=ipc.answers,
        poll_interval=0.01,
    )


def _run_in_thread(supervisor: WorkerSupervisor) -> tuple[threading.Thread, list[int]]:
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(supervisor.run()), daemon=True)
    thread.start()
    return thread, result


def _wait_for_child(supervisor: WorkerSupervisor) -> None:
    deadline = threading.Event()
    for _ in range(1000):
        if supervisor.child is not None:
            return
        deadline.wait(0.01)
    raise AssertionError("the supervisor never started the worker")


@pytest.mark.parametrize(
    ("name", "instance"),
    [
        ("wats-station-default", "default"),
        ("wats-station-line2", "line2"),
        ("WATS-Station-Line_3", "Line_3"),
        ("something-else", "default"),
        ("wats-station-bad name", "default"),
    ],
)
def test_instance_comes_from_the_service_name(name: str, instance: str) -> None:
    assert instance_from_service_name(name) == instance


def test_stop_asks_the_worker_over_ipc_and_waits_for_it() -> None:
    child = FakeChild()
    ipc = FakeWorkerIpc(child)
    supervisor = _supervisor(child, ipc)
    thread, result = _run_in_thread(supervisor)
    _wait_for_child(supervisor)
    supervisor.request_stop(timeout=5)
    thread.join(JOIN_TIMEOUT_S)
    assert result == [0]
    assert ipc.asked == 1
    assert child.events == []  # never terminated
    assert supervisor.stop_requested


def test_a_worker_that_is_still_starting_is_asked_again() -> None:
    child = FakeChild()
    ipc = FakeWorkerIpc(child, ready=False)
    supervisor = _supervisor(child, ipc)
    thread, result = _run_in_thread(supervisor)
    _wait_for_child(supervisor)
    supervisor.request_stop(timeout=5)
    thread.join(JOIN_TIMEOUT_S)
    assert result == [0]
    assert ipc.asked == 2


def test_a_worker_that_does_not_stop_is_terminated() -> None:
    child = FakeChild()
    ipc = FakeWorkerIpc(child, obeys=False)
    supervisor = _supervisor(child, ipc)
    thread, result = _run_in_thread(supervisor)
    _wait_for_child(supervisor)
    supervisor.request_stop(timeout=0.2)
    thread.join(JOIN_TIMEOUT_S)
    assert result == [1]
    assert child.events == ["terminate"]


def test_a_worker_that_exits_by_itself_ends_run_with_its_code() -> None:
    child = FakeChild()
    supervisor = _supervisor(child, FakeWorkerIpc(child))
    thread, result = _run_in_thread(supervisor)
    _wait_for_child(supervisor)
    child.exit(3)
    thread.join(JOIN_TIMEOUT_S)
    assert result == [3]
    assert not supervisor.stop_requested


def test_a_leftover_worker_is_asked_to_stop_before_ours_starts() -> None:
    child = FakeChild()
    ipc = FakeWorkerIpc(child)
    ipc.answering_before_spawn = True
    supervisor = _supervisor(child, ipc)
    thread, _result = _run_in_thread(supervisor)
    _wait_for_child(supervisor)
    assert ipc.asked == 1
    supervisor.request_stop(timeout=5)
    thread.join(JOIN_TIMEOUT_S)
    assert ipc.asked == 2


# ------------------------------------------------------------------ the pywin32 class


class FakeFramework:
    """What win32serviceutil.ServiceFramework provides to subclasses."""

    def __init__(self, args: list[str]) -> None:
        self.args = args
        self.reported: list[tuple[int, int]] = []

    def ReportServiceStatus(self, status: int, waitHint: int = 5000) -> None:
        self.reported.append((status, waitHint))


class StubSupervisor:
    def __init__(self, instance: str, code: int = 0, stopped: bool = True) -> None:
        self.instance = instance
        self.code = code
        self.stop_requested = stopped
        self.stop_timeouts: list[float] = []

    def run(self) -> int:
        return self.code

    def request_stop(self, timeout: float) -> None:
        self.stop_timeouts.append(timeout)


def _service_class(supervisor: dict[str, StubSupervisor], messages: list[str], **kw: Any) -> Any:
    def factory(instance: str) -> Any:
        supervisor["made"] = StubSupervisor(instance, **kw)
        return supervisor["made"]

    return build_service_class(
        SimpleNamespace(ServiceFramework=FakeFramework),
        SimpleNamespace(SERVICE_STOP_PENDING=3),
        SimpleNamespace(LogInfoMsg=messages.append, LogErrorMsg=messages.append),
        factory,
    )


def test_service_takes_its_instance_from_the_service_manager_and_stops_cleanly() -> None:
    made: dict[str, StubSupervisor] = {}
    messages: list[str] = []
    service = _service_class(made, messages)(["wats-station-line2"])
    assert service.instance == "line2"
    assert service._svc_name_ == "wats-station-line2"
    service.SvcStop()
    assert service.reported == [(3, 30_000)]
    assert made["made"].stop_timeouts == [windows_service.STOP_TIMEOUT_S]
    service.SvcShutdown()
    assert made["made"].stop_timeouts[-1] == windows_service.SHUTDOWN_TIMEOUT_S
    service.SvcDoRun()
    assert messages == [
        "wats-station-line2: starting the worker",
        "wats-station-line2: the worker stopped (code 0)",
    ]


def test_service_fails_when_the_worker_dies_so_recovery_restarts_it() -> None:
    made: dict[str, StubSupervisor] = {}
    messages: list[str] = []
    service = _service_class(made, messages, code=2, stopped=False)(["wats-station-default"])
    with pytest.raises(WorkerExited, match="exited with code 2"):
        service.SvcDoRun()
    assert messages[-1] == "wats-station-default: the worker exited by itself with code 2"


def test_windows_service_entry_explains_itself_without_pywin32(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if windows_service.WatsStationService is not None:
        pytest.skip("pywin32 is installed here")
    assert windows_service.main([]) == 1
    assert "runs only on Windows with pywin32" in capsys.readouterr().err
