"""The commands that drive the worker, run as a new user would: `python -m app ...` processes,
with and without a running worker, checking the words they print and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.commands.exitcodes import Exit
from tests.fixtures.worker import Station, wait_for
from tests.integration.worker_ipc.support import fill_queue, make_failed_file

REPO = Path(__file__).resolve().parents[2]

WORKER_COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["queue", "list"],
    ["queue", "show", "0123abcd"],
    ["queue", "retry", "--rejected"],
    ["queue", "resubmit", "0123abcd", "--set", "pn=X"],
    ["queue", "delete", "0123abcd", "--yes"],
    ["failed", "list"],
    ["failed", "retry", "--all"],
    ["pause"],
    ["resume"],
    ["logs"],
    ["logs", "-f"],
    ["stop"],
    ["restart"],
]


@pytest.fixture
def station(tmp_path: Path):
    st = Station(tmp_path / "home")
    st.env.pop("INVOCATION_ID", None)
    st.env.pop("XPC_SERVICE_NAME", None)
    yield st
    try:
        st.stop()
    except Exception:
        st.kill()


def run(station: Station, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        check=False,
        capture_output=True,
        text=True,
        env=station.env,
        cwd=REPO,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("args", WORKER_COMMANDS, ids=" ".join)
def test_without_a_worker_every_command_says_how_to_start_it(
    station: Station, args: list[str]
) -> None:
    result = run(station, *args)
    assert result.returncode == Exit.NO_WORKER, result.stderr
    assert "error: The WATS Station worker for instance 'default' is not running." in (
        result.stderr
    )
    assert "wats-station --service" in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_worker_the_hint_names_the_instance(station: Station) -> None:
    result = run(station, "queue", "--instance", "line2", "list")
    assert result.returncode == Exit.NO_WORKER
    assert "instance 'line2'" in result.stderr
    assert "wats-station --service --instance line2" in result.stderr
    json_result = run(station, "status", "--json", "--instance", "line2")
    assert json.loads(json_result.stdout) == {"instance": "line2", "worker_state": "not_running"}


def test_config_commands_work_without_a_worker(station: Station) -> None:
    assert run(station, "config", "set", "station.name", "EOL-1").returncode == 0
    shown = run(station, "config", "get", "station.name")
    assert shown.returncode == 0
    assert shown.stdout.strip() == "EOL-1"


@pytest.mark.parametrize("command", ["status", "queue", "failed", "pause", "logs", "restart"])
def test_help_documents_the_no_worker_exit_code(station: Station, command: str) -> None:
    result = run(station, command, "--help")
    assert result.returncode == 0
    assert "7  no worker is running" in result.stdout


def test_bad_instance_name_is_a_usage_error(station: Station) -> None:
    result = run(station, "status", "--instance", "no/slash")
    assert result.returncode == Exit.USAGE
    assert "instance name" in result.stderr


def test_status_is_one_readable_screen(station: Station, tmp_path: Path) -> None:
    fill_queue(station, 12, rejected=2)
    station.configure(folders={"Line 1": tmp_path / "drop"})
    station.start()
    wait_for(
        lambda: (s := station.status())["alarms"] and s["converters"][0]["state"] == "watching",
        10,
        what="the rejected alarm and the folder watched",
    )
    result = run(station, "status")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"instance default, pid {station.process.pid}: running" in out
    assert "Server      not configured" in out
    assert "Queue       10 queued, 0 uploading, 0 uploaded, 2 rejected" in out
    assert "Line 1  wsjf" in out
    assert "watching" in out
    assert "[!] reports_rejected: 2 report(s) rejected" in out
    assert len(out.splitlines()) < 25

    as_json = json.loads(run(station, "status", "--json").stdout)
    assert as_json["queue"]["rejected"] == 2
    assert as_json["pid"] == station.process.pid


def test_queue_commands(station: Station) -> None:
    ids = fill_queue(station, 12, rejected=2)
    station.configure()
    station.start()

    listing = run(station, "queue", "list", "--limit", "5")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == [
        "ID",
        "STATE",
        "CREATED",
        "PN",
        "SN",
        "RESULT",
        "TRIES",
        "LAST",
        "ERROR",
    ]
    assert lines[1].startswith(ids[-1][:8])
    assert "1-5 of 12 reports (newest first); next page: --offset 5" in listing.stdout

    rejected = run(station, "queue", "list", "--state", "rejected")
    assert "4242 is not a known process" in rejected.stdout
    assert "1-2 of 2 rejected reports" in rejected.stdout
    page = json.loads(run(station, "queue", "list", "--json", "--limit", "3").stdout)
    assert page["total"] == 12
    assert len(page["rows"]) == 3

    shown = run(station, "queue", "show", ids[0][:8])
    assert shown.returncode == 0, shown.stderr
    assert f"Report:       {ids[0]}" in shown.stdout
    assert "State:        rejected (1 upload attempt)" in shown.stdout
    assert "queue resubmit" in shown.stdout
    report = json.loads(run(station, "queue", "show", ids[0], "--report").stdout)
    assert report["id"] == ids[0]

    fixed = run(station, "queue", "resubmit", ids[0][:8], "--set", "processCode=10")
    assert fixed.returncode == 0, fixed.stderr
    assert f"Report {ids[0]} resubmitted with 1 change" in fixed.stdout
    assert json.loads(run(station, "queue", "show", ids[0], "--json").stdout)["process_code"] == 10

    not_rejected = run(station, "queue", "resubmit", ids[0])
    assert not_rejected.returncode == Exit.FAILED
    assert "only a rejected report can be resubmitted" in not_rejected.stderr
    bad_number = run(station, "queue", "resubmit", ids[1], "--set", "processCode=ten")
    assert bad_number.returncode == Exit.INVALID_INPUT

    retried = run(station, "queue", "retry", "--rejected")
    assert retried.returncode == 0, retried.stderr
    assert "1 report queued for upload now." in retried.stdout

    unknown = run(station, "queue", "show", "ffffffff")
    assert unknown.returncode == Exit.INVALID_INPUT
    assert "no report id starts with 'ffffffff'" in unknown.stderr
    not_an_id = run(station, "queue", "show", "SN-1")
    assert not_an_id.returncode == Exit.INVALID_INPUT

    no_confirm = run(station, "queue", "delete", ids[5])
    assert no_confirm.returncode == Exit.USAGE
    assert "--yes" in no_confirm.stderr
    deleted = run(station, "queue", "delete", ids[5], ids[6][:10], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert "Deleted 2 reports." in deleted.stdout
    assert station.call("queue.stats")["queued"] == 10


def test_failed_commands(station: Station, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    config = station.configure(folders={"Line 1": folder})
    station.store.save(
        config.model_copy(
            update={"converters": [config.converters[0].model_copy(update={"enabled": False})]}
        )
    )
    _key, error_file = make_failed_file(station, "Line 1", folder, "broken.json", b"{ broken")
    station.start()

    listing = run(station, "failed", "list")
    assert listing.returncode == 0, listing.stderr
    assert "broken.json" in listing.stdout
    assert "not valid JSON: line 1" in listing.stdout
    assert "1 failed file." in listing.stdout
    short = listing.stdout.splitlines()[1].split()[0]

    retried = run(station, "failed", "retry", short)
    assert retried.returncode == 0, retried.stderr
    assert "1 file moved back to be converted again." in retried.stdout
    assert (folder / "broken.json").exists()
    assert not error_file.exists()
    assert run(station, "failed", "list").stdout.strip() == "No failed files."
    nothing = run(station, "failed", "retry", "broken.json")
    assert nothing.returncode == Exit.INVALID_INPUT


def test_pause_resume_logs_restart_and_stop(station: Station) -> None:
    station.configure()
    process = station.start()

    paused = run(station, "pause")
    assert paused.returncode == 0
    assert paused.stdout.startswith("Uploads paused.")
    assert run(station, "resume").stdout.strip() == "Uploads resumed."

    logs = run(station, "logs", "-n", "3")
    assert logs.returncode == 0
    assert len(logs.stdout.splitlines()) == 3
    assert "INFO" in logs.stdout

    follow = subprocess.Popen(
        [sys.executable, "-m", "app", "logs", "-f", "-n", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=station.env,
        cwd=REPO,
    )
    try:
        assert follow.stdout is not None
        assert follow.stdout.readline()  # the tail came
        restarted = run(station, "restart")
        assert restarted.returncode == 0, restarted.stderr
        assert f"Worker restarted (pid {process.pid} -> " in restarted.stdout
        out, err = follow.communicate(timeout=30)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait()
    assert follow.returncode == 0, err
    assert "restart requested" in out or "stop requested" in out
    assert out.rstrip().endswith("-- the worker stopped --")

    stopped = run(station, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.splitlines()[-1] == "Worker stopped."
    assert run(station, "status").returncode == Exit.NO_WORKER
