"""Fixtures for the IPC tests: a real test worker process per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.ipc.support import Worker, spawn_worker

INSTANCE = "ipctest"


@pytest.fixture
def worker(tmp_path: Path, _isolated_home: Path) -> Iterator[Worker]:
    """A running test worker (IpcServer on QCoreApplication + qasync) for this test's home."""
    process = spawn_worker(INSTANCE, tmp_path / "worker-logs")
    yield process
    process.stop()
