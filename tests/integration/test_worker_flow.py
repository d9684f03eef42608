"""The worker process end to end: real files, real worker, real local WATS server."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from app.core.config import UploadsConfig
from app.core.secrets import set_token
from tests.fixtures.worker import wait_for
from tests.integration.worker_support import (
    drop,
    drop_generated,
    expected_id,
    files_in,
    queue_rows,
    rejected_report,
)

FAST_BACKOFF = UploadsConfig(backoff_base_s=0.2, backoff_cap_s=1.0)


def server_ids(devserver) -> set[str]:
    return set(devserver.stats()["receive_counts"])


def test_files_are_converted_queued_uploaded_and_moved_to_done(station, devserver, tmp_path):
    folder = tmp_path / "drop"
    station.configure(server=devserver, folders={"Line 1": folder})
    station.start()
    ids = drop_generated(folder, 50)
    wait_for(lambda: server_ids(devserver) == set(ids), 60, what="all 50 reports on the server")
    wait_for(lambda: len(files_in(folder / "Done")) == 50, 20, what="50 files in Done")
    assert files_in(folder) == set()
    # The file is in Done a moment before the worker counts it: wait for the counts.
    status = wait_for(
        lambda: (
            (s := station.status())["queue"]["uploaded"] == 50
            and s["converters"][0]["files_done_today"] == 50
            and s
        ),
        10,
        what="counts",
    )
    assert status["server_state"] == "online"
    assert status["converters"][0]["name"] == "Line 1"
    assert devserver.stats()["received"] == 50  # each exactly once


def test_rejected_report_is_parked_with_server_message_while_others_flow(
    station, devserver, tmp_path
):
    folder = tmp_path / "drop"
    station.configure(server=devserver, folders={"Line 1": folder})
    station.start()
    bad = json.dumps(rejected_report(999)).encode()
    drop(folder, "bad-process.json", bad)
    ids = drop_generated(folder, 10)
    wait_for(lambda: set(ids) <= server_ids(devserver), 60, what="the good reports")
    rejected = wait_for(lambda: queue_rows(station.paths.queue_db, "rejected"), 20)
    assert [row["id"] for row in rejected] == [expected_id(bad)]
    assert "processCode" in rejected[0]["last_error"]
    status = wait_for(lambda: (s := station.status())["alarms"] and s, 10, what="an alarm")
    assert {a["kind"] for a in status["alarms"]} == {"reports_rejected"}
    assert status["queue"]["rejected"] == 1


def test_auth_failure_pauses_uploads_and_a_fixed_token_resumes_without_restart(
    station, devserver, tmp_path
):
    folder = tmp_path / "drop"
    config = station.configure(server=devserver, folders={"Line 1": folder})
    set_token(station.paths, config, "d3Jvbmc6dG9rZW4=", environ=station.env)
    station.start()
    pid = station.process.pid
    ids = drop_generated(folder, 5)
    status = wait_for(
        lambda: (s := station.status())["uploads"] == "auth_failed" and s, 30, what="auth_failed"
    )
    assert any(a["kind"] == "auth_failed" for a in status["alarms"])
    # Converted and waiting, not lost.
    wait_for(lambda: station.status()["queue"]["queued"] == 5, 10, what="5 queued")
    assert server_ids(devserver) == set()
    # The user fixes the token with the CLI; the worker applies it live.
    subprocess.run(
        [sys.executable, "-m", "app", "config", "set", "token", "--value", devserver.token],
        env=station.env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    wait_for(lambda: server_ids(devserver) == set(ids), 30, what="uploads after the fix")
    wait_for(lambda: not station.status()["alarms"], 10, what="the alarm cleared")
    assert station.process.pid == pid
    assert station.process.poll() is None


def test_everything_arrives_through_5xx_429_and_an_outage(station, devserver, tmp_path):
    folder = tmp_path / "drop"
    station.configure(server=devserver, folders={"Line 1": folder}, uploads=FAST_BACKOFF)
    devserver.set_faults(fail_rate=0.3)
    station.start()
    ids = drop_generated(folder, 60)
    wait_for(lambda: len(server_ids(devserver)) >= 15, 60, what="some uploads")
    devserver.set_faults(outage="503")
    more = drop_generated(folder, 40, start=60)
    wait_for(
        lambda: (
            station.status()["server_state"] == "offline"
            or station.status()["uploads"] == "backing_off"
        ),
        30,
        what="the outage noticed",
    )
    devserver.set_faults(reset=True, rate_limit=5, throttle_retry_after=1)
    wait_for(lambda: len(server_ids(devserver)) >= 70, 60, what="uploads under throttling")
    devserver.set_faults(reset=True)
    wait_for(lambda: server_ids(devserver) == set(ids + more), 90, what="all 100 reports")
    stats = devserver.stats()
    assert stats["distinct_ids"] == 100
    assert stats["by_status"].get("429", 0) + stats["by_status"].get("503", 0) > 0


def test_adding_a_converter_while_running_starts_watching_within_2s(station, devserver, tmp_path):
    first, second = tmp_path / "line1", tmp_path / "line2"
    config = station.configure(server=devserver, folders={"Line 1": first})
    station.start()
    second.mkdir()
    added = config.model_copy(deep=True)
    added.converters.append(
        added.converters[0].model_copy(update={"name": "Line 2", "watch_folder": second})
    )
    saved_at = time.monotonic()
    station.store.save(added)

    def watching() -> bool:
        convs = {c["name"]: c for c in station.status()["converters"]}
        return "Line 2" in convs and convs["Line 2"]["state"] == "watching"

    wait_for(watching, 2.0, interval=0.02, what="Line 2 watched within 2 s")
    assert time.monotonic() - saved_at < 2.0
    ids = drop_generated(second, 3)
    wait_for(lambda: set(ids) <= server_ids(devserver), 30, what="Line 2's reports")


def test_sigterm_stops_gracefully_and_the_next_start_resumes(station, devserver, tmp_path):
    folder = tmp_path / "drop"
    station.configure(server=devserver, folders={"Line 1": folder})
    devserver.set_faults(latency_ms=300)
    station.start()
    ids = drop_generated(folder, 20)
    wait_for(lambda: len(server_ids(devserver)) >= 2, 30, what="uploads in flight")
    assert station.stop(timeout=30) == 0
    assert "worker stopped" in station.log()
    states = {row["state"] for row in queue_rows(station.paths.queue_db)}
    assert "uploading" not in states  # in-flight uploads were finished or put back
    devserver.set_faults(reset=True)
    station.start()
    wait_for(lambda: server_ids(devserver) == set(ids), 60, what="the rest after restart")


def test_worker_without_a_server_converts_and_queues(station, tmp_path):
    folder = tmp_path / "drop"
    station.configure(folders={"Line 1": folder})
    station.start()
    drop_generated(folder, 5)
    status = wait_for(lambda: (s := station.status())["queue"]["queued"] == 5 and s, 30)
    assert status["server_state"] == "not_configured"
    assert len(files_in(folder / "Done")) == 5


def test_a_second_worker_refuses_to_start(station, tmp_path):
    station.configure()
    station.start()
    second = subprocess.run(
        [sys.executable, "-m", "app", "--service"],
        env=station.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert second.returncode == 73  # EXIT_ALREADY_RUNNING: not a crash to restart
    assert "already running" in second.stderr
    assert station.process.poll() is None
