"""Yield benchmark (issue 7): prints ONE JSON object.

- query_1m_rows_ms: a day's figures per process (`2025-…-DD..DD`, by process) over
  1,000,000 header rows held by the engine's index; median of 7 runs, in process.
- query_all_rows_ms: the same over the whole history (every unit of 100 days).
- load_1m_rows_ms / index_mb: reading the 1,000,000 rows from the queue database into the
  index, and the resident memory it added.
- worker_ready_s / worker_rss_mb: a real worker started on that database, until its first
  `yield.query` answers; its memory then.
- ipc_query_1m_rows_ms: the day query over IPC from that worker (median of 7).
- arrival_to_dashboard_ms (median) / arrival_to_dashboard_max_ms: a result file renamed
  into the watch folder (settle_ms 0) → converted → queued → `yield` event → the dashboard
  (real widget, offscreen) shows the new unit; one at a time, `--arrivals` times, on top of
  the 1,000,000-row history.

History: 100 days x 10,000 reports (four processes, 30 products, six stations, 20 operators,
~8 % first-run failures with retests), rows inserted straight into a queue database made
by ReportQueue (the search-index triggers are dropped first: they are not what is measured).

Usage: python bench/yield.py [--rows 1000000] [--days 100] [--arrivals 20]
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import PipelineConfig
from app.core.paths import InstancePaths
from bench._harness import Station, rss_mb

PROCESSES = {10: "SW Debug", 50: "PCBA test", 90: "Burn In test", 100: "End of line test"}
STEPS = [("Idle current", "Main/Power/Idle current"), ("Supply 5V", "Main/Power/Supply 5V")]
STEPS += [(f"Check {n}", f"Main/Checks/Check {n}") for n in range(12)]
QUERY_RUNS = 7


def history_rows(count: int, days: int, end: datetime) -> list[tuple[Any, ...]]:
    rng = random.Random(7)
    start = end - timedelta(days=days)
    step_s = days * 86400 / count
    rows: list[tuple[Any, ...]] = []
    now = time.time()
    moment = start.timestamp()
    serial = 0
    pending: list[tuple[float, str, str, int]] = []  # retests to come: (when, sn, pn, code)
    while len(rows) < count:
        moment += step_s
        if pending and pending[0][0] <= moment:
            when, sn, pn, code = heapq.heappop(pending)
        else:
            serial += 1
            code = rng.choice((10, 50, 50, 90, 100, 100))
            pn = f"PN-{rng.randrange(30):03d}"
            sn = f"SN{serial:09d}"
            when = moment
        failed = rng.random() < 0.08
        if failed and len(pending) < 1000:
            heapq.heappush(pending, (when + rng.uniform(300, 3600), sn, pn, code))
        step = rng.choice(STEPS) if failed else (None, None)
        iso = datetime.fromtimestamp(when, UTC).isoformat()
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "uploaded",
                0,
                now,
                now,
                now,
                0,
                "T",
                pn,
                "A",
                sn,
                code,
                PROCESSES[code],
                "F" if failed else "P",
                iso,
                when,
                f"ST-{rng.randrange(6)}",
                f"op{rng.randrange(20)}",
                f"FX-{rng.randrange(4)}",
                step[0],
                step[1],
            )
        )
    return rows


def build_database(path: Path, rows: list[tuple[Any, ...]]) -> None:
    from app.service.queue import ReportQueue

    ReportQueue.open(path).close()
    conn = sqlite3.connect(path)
    for trigger in ("reports_search_insert", "reports_search_delete", "reports_search_update"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    conn.executemany(
        "INSERT INTO reports (id, state, attempts, next_attempt_at, created_at, updated_at, "
        "payload_size, type, pn, rev, sn, process_code, process_name, result, start, "
        "start_utc, station, operator, fixture_id, failing_step_name, failing_step_path) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()


def in_process(db: Path, day: str) -> dict[str, float]:
    from app.core.yield_engine import YieldQuery, run_query
    from app.core.yield_index import YieldIndex
    from app.core.yield_periods import SystemTimezone, parse_period
    from app.core.yield_settings import YieldSettings
    from app.service.yield_store import YieldStore

    gc.collect()
    before = rss_mb(os.getpid())
    started = time.perf_counter()
    index = YieldIndex()
    store = YieldStore(db)
    for chunk in store.load():
        index.load(chunk)
    store.close()
    load_ms = (time.perf_counter() - started) * 1000
    gc.collect()
    index_mb = rss_mb(os.getpid()) - before
    settings = YieldSettings()
    now = datetime.now(SystemTimezone())
    day_query = YieldQuery(parse_period(f"{day}..{day}"), by=("process",))
    times = []
    for _ in range(QUERY_RUNS):
        t0 = time.perf_counter()
        view = run_query(index, day_query, now, settings)
        times.append((time.perf_counter() - t0) * 1000)
    assert view.total.stats.unit_count > 0
    t0 = time.perf_counter()
    everything = run_query(index, YieldQuery(parse_period("last:1000000")), now, settings)
    all_ms = (time.perf_counter() - t0) * 1000
    return {
        "rows": index.live_runs,
        "day_units": view.total.stats.unit_count,
        "all_units": everything.total.stats.unit_count,
        "load_1m_rows_ms": round(load_ms),
        "index_mb": round(index_mb, 1),
        "query_1m_rows_ms": round(statistics.median(times), 1),
        "query_all_rows_ms": round(all_ms),
    }


def report_file(number: int) -> bytes:
    start = datetime.now(UTC)
    doc = {
        "type": "T",
        "id": str(uuid.uuid4()),
        "pn": "PN-ARRIVAL",
        "rev": "A",
        "sn": f"ARR-{number:05d}",
        "processCode": 50,
        "processName": "PCBA test",
        "result": "P",
        "machineName": "BENCH-STATION",
        "start": start.isoformat(),
        "uut": {"user": "bench"},
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "P",
            "steps": [],
        },
    }
    return json.dumps(doc).encode()


def arrivals(station: Station, count: int) -> list[float]:
    """File renamed into the watch folder → the dashboard shows it (real widget, offscreen)."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    from app.gui.worker_link import WorkerLink
    from app.gui.yield_dashboard import YieldDashboard

    app = QApplication.instance() or QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    results: list[float] = []

    async def wait(condition: Any, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the dashboard did not show the new unit")
            await asyncio.sleep(0.002)

    async def run() -> None:
        link = WorkerLink("default")
        assert await link.start(spawn=False), "no worker"
        board = YieldDashboard(link)
        board.resize(1240, 700)
        board.show()
        board.activate()
        await wait(lambda: board.figures is not None, 60)

        def units() -> int:
            return int(board.figures["total"]["units"]) if board.figures else 0

        for number in range(count):
            before = units()
            data = report_file(number)
            tmp = station.folder / f".arrival-{number}.part"
            tmp.write_bytes(data)
            started = time.perf_counter()
            os.replace(tmp, station.folder / f"arrival-{number}.json")
            await wait(lambda b=before: units() > b, 30)
            results.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.3)  # one arrival at a time, as a line produces them
        board.deactivate()
        link.close()

    with loop:
        loop.run_until_complete(run())
    return results


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--arrivals", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    home = Path(tempfile.mkdtemp(prefix="wats-yield-bench-"))
    env = dict(os.environ, WATS_STATION_HOME=str(home))
    db = InstancePaths.for_instance("default", environ=env).ensure().queue_db
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    build_database(db, history_rows(args.rows, args.days, end))
    build_s = time.perf_counter() - started
    day = (end - timedelta(days=args.days // 2)).date().isoformat()
    result: dict[str, Any] = in_process(db, day)
    result["build_db_s"] = round(build_s, 1)

    os.environ["WATS_STATION_HOME"] = str(home)
    os.environ["WATS_STATION_SECRET_STORE"] = "file"
    t0 = time.perf_counter()
    station = Station(home, None, home / "drop", pipeline=PipelineConfig(settle_ms=0))
    try:
        station.call("yield.query", {"period": "today"})
        result["worker_ready_s"] = round(time.perf_counter() - t0, 2)
        result["worker_rss_mb"] = round(rss_mb(station.process.pid), 1)
        params = {"period": f"{day}..{day}", "by": ["process"]}
        times = []
        for _ in range(QUERY_RUNS):
            t1 = time.perf_counter()
            station.call("yield.query", params)
            times.append((time.perf_counter() - t1) * 1000)
        result["ipc_query_1m_rows_ms"] = round(statistics.median(times), 1)
        latencies = arrivals(station, args.arrivals)
        result["arrival_to_dashboard_ms"] = round(statistics.median(latencies))
        result["arrival_to_dashboard_max_ms"] = round(max(latencies))
        result["arrivals"] = len(latencies)
    finally:
        station.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
