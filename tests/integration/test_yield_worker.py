"""The worker's yield monitor end to end: real files, a real worker process, real IPC, and
the local WATS server for the cross-check of FPY against its DynamicYield."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.ipc.blocking import BlockingIpcClient
from tests.fixtures.worker import Station, wait_for
from tests.integration.yield_support import drop_reports, history, uut


@pytest.fixture
def line(station: Station, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Station:
    monkeypatch.setenv("WATS_STATION_HOME", str(station.home))
    station.folder = tmp_path / "drop"  # type: ignore[attr-defined]
    return station


def figures(station: Station, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = station.call("yield.query", {"period": "hours:3", **params})
    return result


def test_figures_follow_reports_as_they_arrive(line: Station) -> None:
    line.configure(folders={"Line 1": line.folder})
    line.start()
    empty = figures(line)
    assert empty["total"]["units"] == 0
    base = datetime.now(UTC) - timedelta(hours=1)
    with BlockingIpcClient(line.instance) as subscriber:
        events = subscriber.iter_events(["yield"], idle_timeout=30)
        drop_reports(line.folder, history(base))
        total = wait_for(
            lambda: (t := figures(line)["total"])["reports"] == 9 and t, 30, what="9 reports"
        )
        event = next(events)[1]
    assert event["added"] >= 1
    assert 50 in event["processes"]
    assert total["units"] == 4
    assert (total["fpy"], total["spy"], total["tpy"], total["lpy"]) == (0.25, 0.5, 0.75, 0.75)
    assert (total["retests"], total["retested_units"]) == (5, 3)
    assert total["report_yield"] == pytest.approx(3 / 9)
    view = figures(line, by=["station"])
    assert [g["label"] for g in view["groups"]] == ["TEST-STATION"]
    pareto = view["pareto"]
    assert pareto["failed_runs"] == 6
    assert [(r["step"], r["count"]) for r in pareto["by_name"]] == [
        ("Idle current", 3),
        ("Supply 5V", 2),
        ("Firmware check", 1),
    ]
    assert pareto["by_path"][0]["path"] == "MainSequence Callback/Idle current"


def test_bad_queries_get_plain_errors(line: Station) -> None:
    from app.ipc.protocol import IpcError

    line.configure(folders={"Line 1": line.folder})
    line.start()
    with pytest.raises(IpcError, match="is not a period"):
        line.call("yield.query", {"period": "fortnight"})
    with pytest.raises(IpcError, match="by"):
        line.call("yield.query", {"by": ["colour"]})
    with pytest.raises(IpcError, match="overlap"):
        line.call(
            "yield.targets.set",
            {
                "shifts": [
                    {"name": "A", "start": "06:00", "end": "15:00"},
                    {"name": "B", "start": "14:00", "end": "22:00"},
                ]
            },
        )
    with pytest.raises(IpcError, match="no WATS server is configured"):
        line.call("yield.server", {})


def test_a_run_of_failures_raises_one_alarm_and_recovery_clears_it(line: Station) -> None:
    line.configure(folders={"Line 1": line.folder})
    line.start()
    # Only the run-of-failures rule: all failures here are at one step, which would also warn.
    rules = {"consecutive_failures": 3, "step_recent_failures": 0}
    saved = line.call("yield.targets.set", {"alarms": rules})
    assert saved["alarms"]["consecutive_failures"] == 3
    assert line.call("yield.targets.get")["alarms"]["consecutive_failures"] == 3
    base = datetime.now(UTC) - timedelta(minutes=30)
    with BlockingIpcClient(line.instance) as subscriber:
        events = subscriber.iter_events(["alarm"], idle_timeout=30)
        drop_reports(
            line.folder, [uut(f"F{i}", "F", base + timedelta(minutes=i)) for i in range(3)]
        )
        topic, raised = next(events)
        assert raised["raised"] is True
        assert raised["kind"] == "yield_failures"
        assert "The last 3 units of 50" in raised["message"]
        # Two more failures: the alarm holds, nothing new is raised.
        drop_reports(
            line.folder,
            [uut(f"G{i}", "F", base + timedelta(minutes=5 + i)) for i in range(2)],
            prefix="more",
        )
        wait_for(lambda: figures(line)["total"]["units"] == 5, 30, what="5 units")
        drop_reports(line.folder, [uut("OK", "P", base + timedelta(minutes=9))], prefix="ok")
        topic, cleared = next(events)
    assert (topic, cleared["raised"], cleared["kind"]) == ("alarm", False, "yield_failures")
    status = line.status()
    assert not [a for a in status["alarms"] if a["kind"].startswith("yield")]
    log = line.log()
    assert log.count("alarm raised: yield_failures") == 1
    assert "alarm cleared: yield_failures" in log


def test_the_index_is_rebuilt_from_the_queue_after_a_restart(line: Station) -> None:
    line.configure(folders={"Line 1": line.folder})
    line.start()
    drop_reports(line.folder, history(datetime.now(UTC) - timedelta(hours=1)))
    before = wait_for(
        lambda: (v := figures(line, by=["pn"]))["total"]["reports"] == 9 and v, 30, what="9"
    )
    assert line.stop() == 0
    line.start()
    after = wait_for(lambda: (v := figures(line, by=["pn"]))["total"]["reports"] == 9 and v, 30)
    for part in ("total", "groups", "pareto"):
        assert _without_times(after[part]) == _without_times(before[part])


def _without_times(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_times(v) for k, v in data.items() if k != "units_per_hour"}
    if isinstance(data, list):
        return [_without_times(v) for v in data]
    return data


def _cross_check_history(base: datetime) -> list[dict[str, Any]]:
    """Two processes, two products, retests, a unit whose retest is dropped first."""
    rnd = random.Random(11)
    docs: list[dict[str, Any]] = []
    minute = 0
    for n in range(24):
        pn = "PN-A" if n % 3 else "PN-B"
        process = 50 if n % 4 else 100
        runs = rnd.choice([["P"], ["F", "P"], ["F", "F", "P"], ["F", "F", "F"], ["E", "P"]])
        for result in runs:
            minute += 1
            docs.append(
                uut(f"U{n}", result, base + timedelta(minutes=minute), pn=pn, process=process)
            )
    # Out of order: the second half arrives before the first.
    return docs[len(docs) // 2 :] + docs[: len(docs) // 2]


def test_local_fpy_equals_the_local_servers_dynamic_yield(line: Station, devserver) -> None:
    line.configure(server=devserver, folders={"Line 1": line.folder})
    line.start()
    base = datetime.now(UTC) - timedelta(hours=2)
    docs = _cross_check_history(base)
    ids = drop_reports(line.folder, docs)
    wait_for(
        lambda: set(ids) <= set(devserver.stats()["receive_counts"]),
        60,
        what="every report on the local server",
    )
    local = figures(line, by=["process", "pn"])
    assert local["total"]["reports"] == len(docs)
    local_rows = {
        (g["key"]["process_code"], g["key"]["pn"]): (g["units"], g["fpy"], g["spy"], g["lpy"])
        for g in local["groups"]
    }
    start = datetime.fromtimestamp(local["period"]["start"], UTC)
    body = {
        "dateFrom": start.isoformat(),
        "dateTo": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
        "dimensions": "processCode;partNumber",
    }
    response = httpx.post(
        f"{devserver.url}/api/App/DynamicYield",
        json=body,
        headers={"Authorization": f"Basic {devserver.token}"},
        timeout=10,
    )
    response.raise_for_status()
    server_rows = {
        (r["processCode"], r["partNumber"]): (r["unitCount"], r["fpy"], r["spy"], r["lpy"])
        for r in response.json()
    }
    assert local_rows == server_rows
    assert len(local_rows) == 4
    # The dashboard's server view asks the same and labels it as server data.
    server_view = wait_for(
        lambda: _server_view(line), 30, what="the worker to be online for the server view"
    )
    assert server_view["source"] == "server"
    server_groups = {
        (g["key"]["process_code"], g["key"]["pn"]): (g["units"], g["fpy"], g["spy"], g["lpy"])
        for g in server_view["groups"]
    }
    assert server_groups == local_rows
    assert server_view["total"]["units"] == local["total"]["units"]
    assert server_view["total"]["fpy"] == pytest.approx(local["total"]["fpy"])


def _server_view(line: Station) -> dict[str, Any] | None:
    from app.ipc.protocol import IpcError

    try:
        result: dict[str, Any] = line.call(
            "yield.server", {"period": "hours:3", "by": ["process", "pn"]}
        )
    except IpcError as exc:
        if "offline" in exc.message or "cannot be reached" in exc.message:
            return None
        raise
    return result


def test_the_cli_prints_the_same_figures(line: Station) -> None:
    import json
    import re
    import subprocess
    import sys

    line.configure(folders={"Line 1": line.folder})
    line.start()
    line.call(
        "yield.targets.set",
        {"targets": [{"process_code": 50, "fpy_warning": 0.9}], "alarms": {"min_units": 2}},
    )
    drop_reports(line.folder, history(datetime.now(UTC) - timedelta(hours=1)))
    query = wait_for(lambda: (v := figures(line))["total"]["reports"] == 9 and v, 30)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "yield", "--period", "hours:3", *args],
            env=line.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    as_json = cli("--json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    for kpi in ("units", "fpy", "spy", "tpy", "lpy", "reports", "report_yield", "retests"):
        assert document["total"][kpi] == query["total"][kpi]
    text = cli("--by", "pn", "--process", "PCBA%")
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert re.search(r"FPY\s+25%\s+BELOW TARGET 90%", out), out
    assert re.search(r"Units\s+4\s+9 reports, 5 retests \(3 units tested again\)", out), out
    assert "SPY 50%   TPY 75%   LPY 75%" in out
    assert "Only: process PCBA%" in out
    assert re.search(r"PN-1\s+4\s+25% !\s+50%\s+75%\s+75%\s+9\s+33.3%", out), out
    assert re.search(r"Idle current\s+3\s+50%\s+50%", out), out
    assert "WARNING FPY of 50 PCBA test is 25% over the last 4 units" in out
    server = cli("--server")
    assert server.returncode == 0
    assert "Server figures: not available (no WATS server is configured" in server.stdout
    bad = cli("--by", "colour")
    assert bad.returncode == 2
    assert "--by colour: use process, pn" in bad.stderr
