"""WatsClient and `wats-station server check` against the real local WATS server (loopback)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.samples import sample_path
from app.wats import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TransientError,
    WatsClient,
    basic_token,
)
from tests.fixtures.devserver import start_devserver_process

REPO_ROOT = Path(__file__).resolve().parents[2]
MAC = "4C:5F:70:D6:2F:F4"


def sample_report(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(sample_path("wsjf-uut-minimal.json").read_text("utf-8"))
    report["id"] = str(uuid.uuid4())
    report.update(changes)
    return report


async def test_server_facts(devserver):
    async with WatsClient(devserver.url, devserver.token) as client:
        version = await client.version()
        info = await client.server_info()
        before = datetime.now(UTC)
        ping = await client.ping()
        after = datetime.now(UTC)
        modules = await client.module_versions()
    assert version.count(".") == 3
    assert info["Version"] == version
    assert ping.server_name
    assert before - timedelta(seconds=1) <= ping.server_time <= after + timedelta(seconds=1)
    assert modules
    assert all({"Module", "Name", "Version"} <= set(module) for module in modules)


async def test_register_then_work_as_the_registered_station(devserver):
    async with WatsClient(devserver.url, devserver.token) as admin:
        passcode = await admin.register(MAC, "Station 7", location="Line 3", utc_offset_h=1)
    assert passcode
    station_token = basic_token("4C5F70D62FF4", passcode)
    async with WatsClient(devserver.url, station_token) as station:
        assert "Version" in await station.server_info()
        record = await station.update_client("Station 7b", timedelta(hours=1), "<misc x='1'/>")
        await station.upload_log(MAC, "started\nuploaded 3 reports\n")
    assert record["Name"] == "Station 7b"
    assert record["UTCOffset"] == "01:00:00"
    assert record["MiscInfo"] == "<misc x='1'/>"
    async with httpx.AsyncClient(base_url=devserver.url) as raw:
        log = await raw.get(
            "/api/SystemManager/ClientLog/4C5F70D62FF4",
            headers={"Authorization": f"Basic {devserver.token}"},
        )
    assert log.text == "started\nuploaded 3 reports\n"
    async with WatsClient(devserver.url, basic_token("4C5F70D62FF4", "wrong")) as impostor:
        with pytest.raises(AuthenticationError, match="401 Unauthorized"):
            await impostor.server_info()


async def test_processes(devserver):
    async with WatsClient(devserver.url, devserver.token) as client:
        everything = await client.processes(include_wip=True, include_inactive=True)
        tests_only = await client.processes(include_repair=False)
    codes = {process.code for process in everything}
    assert len(codes) == len(everything) > 10
    assert any(process.is_repair_operation for process in everything)
    assert tests_only
    assert not any(p.is_repair_operation and not p.is_test_operation for p in tests_only)
    assert {p.code for p in tests_only} < codes


async def test_submit_read_back_and_upsert_by_id(devserver):
    report = sample_report(sn="SN-INT-1")
    async with WatsClient(devserver.url, devserver.token) as client:
        first = await client.submit_wsjf(report)
        again = await client.submit_wsjf(json.dumps(report).encode())
        stored = await client.get_wsjf(report["id"])
        headers = await client.query_headers("serialNumber eq 'SN-INT-1'", orderby="start desc")
        with pytest.raises(NotFoundError):
            await client.get_wsjf(str(uuid.uuid4()))
    assert first.id.lower() == again.id.lower() == report["id"]
    assert stored["sn"] == "SN-INT-1"
    assert stored["pn"] == report["pn"]
    assert len(headers) == 1
    assert headers[0]["uuid"].lower() == report["id"]
    assert headers[0]["receiveCount"] == 2
    assert devserver.stats()["distinct_ids"] == 1


async def test_query_headers_pages(devserver):
    async with WatsClient(devserver.url, devserver.token) as client:
        for n in range(3):
            await client.submit_wsjf(sample_report(sn=f"SN-PAGE-{n}"))
        first = await client.query_headers("startswith(serialNumber, 'SN-PAGE')", top=2)
        rest = await client.query_headers("startswith(serialNumber, 'SN-PAGE')", top=2, skip=2)
    assert len(first) == 2
    assert len(rest) == 1
    assert {row["serialNumber"] for row in first + rest} == {"SN-PAGE-0", "SN-PAGE-1", "SN-PAGE-2"}


async def test_dynamic_yield(devserver):
    async with WatsClient(devserver.url, devserver.token) as client:
        await client.submit_wsjf(sample_report(pn="PN-Y", sn="A", result="P"))
        await client.submit_wsjf(sample_report(pn="PN-Y", sn="B", result="F"))
        rows = await client.dynamic_yield(
            {"partNumber": "PN-Y", "dateFrom": "2000-01-01T00:00:00Z"}, "partNumber"
        )
    assert [row["partNumber"] for row in rows] == ["PN-Y"]
    assert rows[0]["unitCount"] == 2
    assert rows[0]["fpCount"] == 1


async def test_error_classes_from_the_real_server(devserver):
    async with WatsClient(devserver.url, devserver.token) as client:
        with pytest.raises(RejectedError) as rejected:
            await client.submit_wsjf(sample_report(pn=None))
        devserver.set_faults(throttle_retry_after=7)
        with pytest.raises(RateLimitedError) as limited:
            await client.version()
        devserver.set_faults(throttle_retry_after=None, fail_rate=1.0, fail_status=503)
        with pytest.raises(TransientError) as failing:
            await client.version()
        devserver.set_faults(fail_rate=0.0, outage="drop")
        with pytest.raises(TransientError) as dropped:
            await client.version()
        devserver.set_faults(outage=None)
        assert await client.version()
    assert rejected.value.status == 400
    assert "pn" in rejected.value.server_message
    assert limited.value.retry_after == 7
    assert failing.value.status == 503
    assert dropped.value.status is None
    assert "broke during GET api/App/Version" in str(dropped.value)


# ---------------------------------------------------------------- server check, as a program


def server_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "server", "check", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def markers(output: str) -> list[str]:
    return [line.split("]")[0] + "]" for line in output.splitlines() if line.startswith("[")]


def test_server_check_ok(devserver):
    done = server_check("--server", devserver.url, "--token", devserver.token)
    assert done.returncode == 0, done.stdout + done.stderr
    assert markers(done.stdout) == ["[ok]"] * 5
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"checking the WATS server at {devserver.url}/")
    assert any(line.startswith("[ok]   auth: the server accepted the token") for line in lines)
    assert lines[-1] == "this station can use the WATS server"
    assert done.stderr == ""


def test_server_check_takes_the_token_from_the_environment(devserver, monkeypatch):
    monkeypatch.setenv("WATS_STATION_TOKEN", devserver.token)
    done = server_check("--server", devserver.url)
    assert done.returncode == 0, done.stdout + done.stderr


def test_server_check_wrong_token_exits_5(devserver):
    done = server_check("--server", devserver.url, "--token", basic_token("station", "nope"))
    assert done.returncode == 5, done.stdout + done.stderr
    assert markers(done.stdout) == ["[ok]", "[ok]", "[FAIL]", "[skip]", "[skip]"]
    assert "authentication failed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_server_check_unreachable_exits_4_and_names_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = server_check("--server", f"http://127.0.0.1:{port}", "--token", "x")
    assert done.returncode == 4, done.stdout + done.stderr
    assert markers(done.stdout)[0] == "[FAIL]"
    assert f"cannot reach the WATS server at http://127.0.0.1:{port}/" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_server_check_warns_about_clock_skew(tmp_path):
    server = start_devserver_process("--clock-skew-s", "600", stderr_path=tmp_path / "err.txt")
    try:
        done = server_check("--server", server.url, "--token", server.token)
    finally:
        server.close()
    assert done.returncode == 0, done.stdout + done.stderr
    clock = next(line for line in done.stdout.splitlines() if " clock: " in line)
    assert clock.startswith("[warn] clock: the server's clock is 10 min")
    assert "ahead of this station's" in clock
    assert done.stdout.splitlines()[-1] == "this station can use the WATS server (1 warning)"


def test_server_check_without_server_checks_the_configured_one(devserver):
    init = subprocess.run(
        [
            *(sys.executable, "-m", "app", "config", "init", "--server", devserver.url),
            *("--token", devserver.token, "--station", "S1", "--secret-store", "file"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    done = server_check()  # the URL and the stored token of the default instance
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"checking the WATS server at {devserver.url}/"
    assert markers(done.stdout) == ["[ok]"] * 5


def test_server_check_with_no_server_anywhere_says_how_to_set_one():
    done = server_check()
    assert done.returncode == 2
    assert "no WATS server given: pass --server URL, or configure one with" in done.stderr
    assert done.stdout == ""


def test_server_check_bad_arguments_exit_2():
    done = server_check("--server", "ftp://host/")
    assert done.returncode == 2
    assert "must start with https:// or http://" in done.stderr
    assert "Traceback" not in done.stderr
