"""The Windows service's supervisor with a real worker process and real IPC (any OS): what
the service does when the service manager says stop, minus the pywin32 shell around it."""

from __future__ import annotations

import threading
import time

from app.core.paths import InstancePaths
from app.service.registration.os_calls import SystemCalls
from app.service.windows_service import WorkerSupervisor
from tests.integration.ipc.support import wait_until

INSTANCE = "svc-test"
WORKER_START_S = 30.0


def test_stop_reaches_the_real_worker_over_ipc_and_it_exits_cleanly() -> None:
    supervisor = WorkerSupervisor(INSTANCE, poll_interval=0.05)
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(supervisor.run()), daemon=True)
    runner.start()
    calls = SystemCalls()
    try:
        wait_until(lambda: calls.worker_answers(INSTANCE), WORKER_START_S, "the worker answering")
        child = supervisor.child
        assert child is not None
        started = time.monotonic()
        supervisor.request_stop(timeout=20)
        runner.join(30)
        assert result == [0]
        assert child.poll() == 0  # exited by itself after service.stop, not terminated
        assert time.monotonic() - started < 20
        assert not calls.worker_answers(INSTANCE)
    finally:
        if supervisor.child is not None and supervisor.child.poll() is None:
            supervisor.child.kill()
            supervisor.child.wait(10)


def test_a_worker_that_cannot_start_makes_the_service_fail() -> None:
    config = InstancePaths.for_instance(INSTANCE).config_file
    config.parent.mkdir(parents=True)
    config.write_text("{ this is not JSON", encoding="utf-8")
    supervisor = WorkerSupervisor(INSTANCE, poll_interval=0.05)
    assert supervisor.run() == 1  # "cannot start the worker": the service reports a failure
    assert not supervisor.stop_requested
