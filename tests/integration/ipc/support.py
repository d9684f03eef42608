"""Helpers for the IPC integration tests: start/stop the test worker process, wait on
conditions (never sleep and hope)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.ipc.blocking import BlockingIpcClient
from app.ipc.protocol import IpcError

WORKER_SCRIPT = Path(__file__).with_name("worker_main.py")
START_TIMEOUT_S = 30.0


def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.01)


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    instance: str
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Until the worker answers ping with its own pid (or fail with its stderr)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"test worker exited with {self.process.returncode}: {self.stderr()}"
                )
            try:
                with BlockingIpcClient(self.instance, timeout=1.0) as client:
                    if client.call("ping")["pid"] == self.pid:
                        return
            except IpcError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"test worker not answering: {self.stderr()}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn_worker(instance: str, log_dir: Path, *, ready: bool = True) -> Worker:
    """Start tests/integration/ipc/worker_main.py; WATS_STATION_HOME comes from os.environ."""
    log_dir.mkdir(parents=True, exist_ok=True)
    stderr_path = log_dir / f"worker-{time.monotonic_ns()}.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT), "--instance", instance],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    worker = Worker(process, instance, stderr_path)
    if ready:
        try:
            worker.wait_ready()
        except BaseException:
            worker.stop()
            raise
    return worker
