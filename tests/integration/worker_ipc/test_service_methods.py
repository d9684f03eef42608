"""status, uploads.pause/resume, logs.tail, service.stop and service.restart."""

from __future__ import annotations

import json
import os
import signal

import pytest

from app.ipc.protocol import ErrorCode, IpcError
from tests.fixtures.worker import Station, wait_for
from tests.integration.worker_ipc.support import error_of

STATUS_KEYS = {
    "instance", "pid", "version", "worker_state", "server_state", "server_url",
    "server_version", "clock_skew_s", "last_ping_at", "uploads", "backoff_until", "queue",
    "uploaded_session", "converters", "last_error", "alarms", "started_at",
}  # fmt: skip


def test_status_has_every_contract_field(station: Station, tmp_path) -> None:
    station.configure(folders={"Line 1": tmp_path / "drop"})
    station.start()
    # A converter is "idle" until its folder is watched, a moment after the worker starts.
    status = wait_for(
        lambda: (
            (s := station.status())["converters"]
            and s["converters"][0]["state"] == "watching"
            and s
        ),
        10,
        what="the converter watching",
    )
    assert set(status) >= STATUS_KEYS
    assert status["pid"] == station.process.pid
    assert status["worker_state"] == "running"
    assert status["server_state"] == "not_configured"
    assert set(status["queue"]) == {"queued", "uploading", "uploaded", "rejected"}
    assert status["converters"][0]["name"] == "Line 1"


def test_methods_without_params_refuse_params(station: Station) -> None:
    station.configure()
    station.start()
    for method in ("status", "queue.stats", "config.get", "converters.list", "uploads.pause"):
        error = error_of(station, method, {"unexpected": 1})
        assert error.code == ErrorCode.INVALID_PARAMS, method
        assert "params.unexpected" in error.message


def test_pause_and_resume_are_saved(station: Station, devserver) -> None:
    station.configure(server=devserver)
    station.start()
    assert station.call("uploads.pause") == {"paused": True}
    assert json.loads(station.paths.config_file.read_text())["uploads"]["paused"] is True
    wait_for(lambda: station.status()["uploads"] == "paused", 5, what="uploads paused")
    assert station.call("uploads.resume") == {"paused": False}
    assert json.loads(station.paths.config_file.read_text())["uploads"]["paused"] is False
    wait_for(lambda: station.status()["uploads"] != "paused", 5, what="uploads resumed")


def test_logs_tail_filters_by_level(station: Station, tmp_path) -> None:
    station.configure(folders={"Line 1": tmp_path / "drop"})
    station.start()
    (tmp_path / "drop" / "bad.json").write_text("nope")
    wait_for(lambda: any("bad.json" in e["message"] for e in station.call("logs.tail")), 10)
    lines = station.call("logs.tail", {"lines": 500})
    assert any("started" in entry["message"] for entry in lines)
    assert set(lines[0]) == {"time", "level", "logger", "message"}
    warnings = station.call("logs.tail", {"level": "WARNING"})
    assert warnings
    assert {entry["level"] for entry in warnings} <= {"WARNING", "ERROR", "CRITICAL"}
    assert len(station.call("logs.tail", {"lines": 2})) == 2
    assert error_of(station, "logs.tail", {"level": "loud"}).code == ErrorCode.INVALID_PARAMS


def test_service_stop_answers_then_stops(station: Station) -> None:
    station.configure()
    process = station.start()
    assert station.call("service.stop") == {"stopping": True}
    assert process.wait(30) == 0


def test_service_restart_starts_a_new_worker_that_takes_the_socket(station: Station) -> None:
    station.configure()
    process = station.start()
    old_pid = process.pid
    assert station.call("service.restart") == {"restarting": True}
    assert process.wait(30) == 0

    def new_pid() -> int | None:
        try:
            pid = station.call("ping", timeout=2)["pid"]
        except IpcError:
            return None
        return pid if pid != old_pid else None

    pid = wait_for(new_pid, 30, 0.05, "the new worker to answer")
    try:
        assert station.status()["worker_state"] in ("starting", "running")
        station.call("service.stop")
    finally:
        wait_for(lambda: _gone(pid), 30, 0.05, "the new worker to stop")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie of the detached worker counts as gone: its parent (the old worker) exited.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] == "Z"
    except OSError:
        return True


@pytest.fixture(autouse=True)
def _no_stray_worker(station: Station):
    """If a restart test fails midway, do not leave its detached worker running."""
    yield
    try:
        pid = station.call("ping", timeout=1)["pid"]
    except IpcError:
        return
    if station.process is None or pid != station.process.pid:
        os.kill(pid, signal.SIGTERM)
