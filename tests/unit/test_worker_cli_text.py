"""What the worker commands print, from given replies (no worker needed)."""

from __future__ import annotations

import argparse
import time

import pytest

from app.commands.exitcodes import Exit
from app.commands.failed import resolve
from app.commands.queue import parse_changes, render_list
from app.commands.status import render
from app.commands.worker_client import CommandFailed, not_running_message
from app.commands.worker_output import duration, one_line, table
from app.service.restart import RESTART_EXIT_CODE, restart, supervised

NOW = 1_800_000_000.0


def snapshot(**changes: object) -> dict[str, object]:
    status: dict[str, object] = {
        "instance": "default",
        "pid": 4242,
        "version": "0.1.0",
        "worker_state": "running",
        "server_state": "online",
        "server_url": "https://acme.wats.com",
        "server_version": "2024.1",
        "clock_skew_s": 0.4,
        "last_ping_at": NOW - 60,
        "uploads": "idle",
        "backoff_until": None,
        "queue": {"queued": 1200, "uploading": 2, "uploaded": 15000, "rejected": 0},
        "uploaded_session": 31,
        "converters": [
            {
                "name": "ICT 1",
                "converter": "teradyne_i3070",
                "folder": "/data/ict",
                "enabled": True,
                "state": "watching",
                "files_done_today": 120,
                "files_failed_today": 2,
                "last_file": "/data/ict/board7.log",
                "last_file_at": NOW - 30,
                "last_error": None,
            }
        ],
        "last_error": None,
        "alarms": [],
        "started_at": NOW - 7500,
    }
    status.update(changes)
    return status


def test_status_screen() -> None:
    lines = render(snapshot(), NOW)
    text = "\n".join(lines)
    assert lines[0].startswith("WATS Station worker 0.1.0 - instance default, pid 4242: running")
    assert lines[0].endswith("(2 h 5 min)")
    assert "Server      https://acme.wats.com: online, version 2024.1" in text
    assert "Uploads     idle (nothing due); 31 reports uploaded since start" in text
    assert "Queue       1,200 queued, 2 uploading, 15,000 uploaded, 0 rejected" in text
    assert "  ICT 1  teradyne_i3070  watching    /data/ict  (today 120 done, 2 failed)" in text
    assert "Alarms      none" in text
    assert text.isascii()


def test_status_screen_shows_trouble() -> None:
    alarms = [{"kind": "auth_failed", "message": "the server refused the token", "since": NOW}]
    lines = render(
        snapshot(
            uploads="backing_off",
            backoff_until=NOW + 125,
            clock_skew_s=-600.0,
            alarms=alarms,
            last_error="HTTP 503\nfrom the server",
            queue={"queued": 1, "uploading": 0, "uploaded": 0, "rejected": 3},
        ),
        NOW,
    )
    text = "\n".join(lines)
    assert "waiting for 2 min 5 s before trying the server again" in text
    assert "this clock is 10 min ahead of the server's" in text
    assert "3 rejected (`wats-station queue list --state rejected`)" in text
    assert "Last error  HTTP 503 / from the server" in text
    assert "Alarms      1" in text
    assert "  [!] auth_failed: the server refused the token" in text


def test_unconfigured_server() -> None:
    text = "\n".join(render(snapshot(server_state="not_configured", server_url=None), NOW))
    assert "Server      not configured: reports wait in the queue" in text


def test_table_cuts_only_the_last_column() -> None:
    lines = table(["ID", "MESSAGE"], [["a1", "x" * 200], ["b22", "short"]], width=40)
    assert lines[0] == "ID   MESSAGE"
    assert lines[1] == "a1   " + "x" * 31 + "..."
    assert lines[2] == "b22  short"
    assert table(["A"], []) == []


def test_small_texts() -> None:
    assert duration(42) == "42 s"
    assert duration(3 * 86400) == "3 days"
    assert one_line("a\n\n b ", 100) == "a / b"
    assert one_line(None) == "-"


def test_queue_list_footer() -> None:
    args = argparse.Namespace(state="rejected", search=None, sort="created_desc", offset=0)
    assert render_list({"rows": [], "total": 0}, args) == ["No rejected reports."]
    row = {"id": "0123456789", "state": "rejected", "created_at": NOW, "attempts": 1}
    lines = render_list({"rows": [row], "total": 3}, args)
    assert lines[1].startswith("01234567  rejected")
    assert lines[-1] == "1-1 of 3 rejected reports (newest first); next page: --offset 1"


def test_resubmit_changes_from_the_command_line() -> None:
    assert parse_changes(["pn=PCB-1", "processCode=10", "location=", "sn=00123"]) == {
        "pn": "PCB-1",
        "processCode": 10,
        "location": None,
        "sn": "00123",
    }
    with pytest.raises(CommandFailed) as bad:
        parse_changes(["processCode=ten"])
    assert bad.value.code == Exit.INVALID_INPUT
    with pytest.raises(CommandFailed):
        parse_changes(["no-equals-sign"])


def test_failed_files_are_named_many_ways() -> None:
    failed = [
        {"key": "L:aa11:/in/a.json", "sha256": "aa11" * 16, "path": "/in/a.json",
         "error_file": "/in/Error/a.json"},
        {"key": "L:bb22:/in/x/a.json", "sha256": "bb22" * 16, "path": "/in/x/a.json",
         "error_file": "/in/Error/a (2).json"},
    ]  # fmt: skip
    assert resolve(failed, "bb22bb22") is failed[1]
    assert resolve(failed, "/in/a.json") is failed[0]
    assert resolve(failed, "a (2).json") is failed[1]
    with pytest.raises(CommandFailed, match="names 2 failed files"):
        resolve(failed, "a.json")
    with pytest.raises(CommandFailed, match="no failed file matches"):
        resolve(failed, "zz.json")


def test_not_running_message_says_how_to_start() -> None:
    assert "wats-station --service\n" in not_running_message("default") + "\n"
    assert "wats-station --service --instance line2" in not_running_message("line2")


def test_restart_is_left_to_a_supervising_service_manager() -> None:
    assert supervised({}) is None
    assert supervised({"XPC_SERVICE_NAME": "0"}) is None
    assert supervised({"INVOCATION_ID": "abc"}) == "systemd"
    assert supervised({"XPC_SERVICE_NAME": "com.wats.station.default"}) == "launchd"
    assert restart("default", {"INVOCATION_ID": "abc"}) == RESTART_EXIT_CODE


def test_time_is_shown_in_local_time() -> None:
    from app.commands.worker_output import local_time

    assert local_time(NOW) == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(NOW))
    assert local_time(None) == "-"
