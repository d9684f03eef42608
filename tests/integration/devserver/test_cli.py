"""`wats-station devserver` as a real subprocess: URL line, options, faults, clean stop."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.devserver import DEFAULT_TOKEN
from tests.fixtures.devserver import (
    REPO_ROOT,
    STOP_TIMEOUT_S,
    DevServerProcess,
    start_devserver_process,
)
from tests.integration.devserver.conftest import uut


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "devserver", *args],
        check=False,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def auth(server: DevServerProcess) -> dict[str, str]:
    return {"Authorization": f"Basic {server.token}"}


def test_prints_url_then_token_and_serves(devserver: DevServerProcess) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", devserver.url)
    assert devserver.process.stdout is not None
    assert DEFAULT_TOKEN in devserver.process.stdout.readline()
    report = uut()
    response = httpx.post(devserver.url + "/api/Report/WSJF", json=report, headers=auth(devserver))
    assert response.json()[0]["ID"] == report["id"]
    assert devserver.stats()["receive_counts"] == {report["id"]: 1}


def test_fixture_controls_faults_over_http(devserver: DevServerProcess) -> None:
    devserver.set_faults(outage="503")
    url = devserver.url + "/api/App/Version"
    assert httpx.get(url, headers=auth(devserver)).status_code == 503
    devserver.set_faults(outage=None)
    assert httpx.get(url, headers=auth(devserver)).status_code == 200
    devserver.reset()
    assert devserver.stats()["requests"] == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signal(tmp_path: Path, sig: signal.Signals) -> None:
    server = start_devserver_process(stderr_path=tmp_path / "stderr.txt")
    try:
        server.process.send_signal(sig)
        assert server.process.wait(STOP_TIMEOUT_S) == 0
    finally:
        server.close()
    assert "stopped" in (tmp_path / "stderr.txt").read_text()
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20"])
def test_refuses_a_non_loopback_host(host: str) -> None:
    result = run_cli("--host", host, "--port", "0")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--allow-remote" in result.stderr
    assert "Traceback" not in result.stderr


def test_custom_token_and_cli_faults() -> None:
    server = start_devserver_process(
        "--rate-limit", "1", "--throttle-retry-after", "4", token="Y2k6Y2k="
    )
    try:
        assert server.token == "Y2k6Y2k="
        headers = auth(server)
        codes = [httpx.get(server.url + "/api/App/Version", headers=headers) for _ in range(4)]
        limited = [r for r in codes if r.status_code == 429]
        assert limited
        assert limited[0].headers["Retry-After"] == "4"
        assert server.set_faults()["rate_limit"] == 1
    finally:
        server.close()


def test_outage_option() -> None:
    server = start_devserver_process("--outage")
    try:
        response = httpx.get(server.url + "/api/App/Version", headers=auth(server))
        assert response.status_code == 503
        assert server.set_faults()["outage"] == "503"
    finally:
        server.close()


def test_seed_processes_and_clock_skew(tmp_path: Path) -> None:
    seed = tmp_path / "processes.json"
    seed.write_text(json.dumps([{"code": 7777, "name": "Flash", "isTestOperation": True}]))
    server = start_devserver_process("--seed-processes", str(seed), "--clock-skew-s", "3600")
    try:
        headers = auth(server)
        processes = httpx.get(server.url + "/api/App/Processes", headers=headers).json()
        assert [(p["code"], p["name"]) for p in processes] == [(7777, "Flash")]
        ok = httpx.post(
            server.url + "/api/Report/WSJF", json=uut(processCode=7777), headers=headers
        )
        assert ok.status_code == 200
        refused = httpx.post(server.url + "/api/Report/WSJF", json=uut(), headers=headers)
        assert refused.status_code == 400
        ping = httpx.get(server.url + "/api/internal/Client/Ping", headers=headers).json()
        skew = datetime.fromisoformat(ping["ServerTime"]) - datetime.now().astimezone()
        assert timedelta(seconds=3590) < skew < timedelta(seconds=3610)
    finally:
        server.close()


def test_bad_seed_file_is_reported_plainly(tmp_path: Path) -> None:
    seed = tmp_path / "processes.json"
    seed.write_text("{not json")
    result = run_cli("--port", "0", "--seed-processes", str(seed))
    assert result.returncode == 3
    assert "not valid JSON" in result.stderr
    missing = run_cli("--port", "0", "--seed-processes", str(tmp_path / "none.json"))
    assert missing.returncode == 3
    assert "cannot read" in missing.stderr
    assert "Traceback" not in result.stderr + missing.stderr


def test_bad_fault_option_is_a_usage_error() -> None:
    result = run_cli("--port", "0", "--fail-rate", "2")
    assert result.returncode == 2
    assert "fail_rate" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_reported_plainly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port))
    assert result.returncode == 1
    assert "cannot listen" in result.stderr
    assert "--port 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_does_not_import_aiohttp() -> None:
    code = (
        "import argparse, sys; import app.commands.devserver as d; "
        "d.register(argparse.ArgumentParser().add_subparsers()); "
        "print('aiohttp' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    help_text = run_cli("--help").stdout
    assert "--outage" in help_text
    assert "--allow-remote" in help_text
