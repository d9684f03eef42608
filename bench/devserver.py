"""Benchmark: small-report submits per second to the local WATS server over loopback.

Starts `python -m app devserver --port 0` in a subprocess, then drives it from this process
with an aiohttp client that keeps CONCURRENCY requests in flight over keep-alive
connections, each submitting small UUT reports with distinct ids. Prints one JSON object.

    .venv/bin/python bench/devserver.py [--reports 20000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.devserver import DEFAULT_TOKEN  # noqa: E402

START_TIMEOUT_S = 20.0


def small_report(index: int) -> dict[str, Any]:
    return {
        "type": "T",
        "id": str(uuid.uuid4()),
        "pn": "BENCH-PN",
        "sn": f"SN-{index:06d}",
        "rev": "A",
        "processCode": 100,
        "result": "P" if index % 10 else "F",
        "machineName": "BENCH-STATION",
        "location": "Lab",
        "purpose": "Bench",
        "start": "2025-03-01T08:00:00+01:00",
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "P",
            "steps": [
                {
                    "id": 1,
                    "group": "M",
                    "stepType": "ET_NLT",
                    "name": "Voltage",
                    "status": "P",
                    "numericMeas": [
                        {"compOp": "GELE", "value": 5.01, "lowLimit": 4.9, "highLimit": 5.1}
                    ],
                }
            ],
        },
        "uut": {"user": "bench"},
    }


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "devserver", "--port", "0", "--token", DEFAULT_TOKEN],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    # Read the first line in a thread so a server that hangs cannot hang the benchmark.
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT_S)
    prefix = "WATS local server listening on "
    if not lines or not lines[0].startswith(prefix):
        process.kill()
        raise SystemExit(f"the server did not start: {lines!r}")
    return process, lines[0][len(prefix) :].strip()


async def drive(
    url: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float], int, dict[str, Any]]:
    headers = {"Authorization": f"Basic {DEFAULT_TOKEN}", "Content-Type": "application/json"}
    latencies: list[float] = []
    errors = 0
    next_index = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(url, connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal next_index, errors
            while next_index < len(bodies):
                body = bodies[next_index]
                next_index += 1
                started = time.perf_counter()
                async with session.post("/api/Report/WSJF", data=body) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        # Warm up the connections so the timing measures steady state.
        async with session.get("/api/App/Version") as response:
            await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        async with session.get("/_dev/stats") as response:
            stats = await response.json()
    return elapsed, latencies, errors, stats


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    bodies = [orjson.dumps(small_report(i)) for i in range(args.reports)]
    process, url = start_server()
    try:
        elapsed, latencies, errors, stats = asyncio.run(drive(url, bodies, args.concurrency))
    finally:
        process.terminate()
        process.wait(10)
    result = {
        "benchmark": "devserver_wsjf_submit",
        "reports": args.reports,
        "concurrency": args.concurrency,
        "report_bytes": len(bodies[0]),
        "elapsed_s": round(elapsed, 3),
        "submits_per_s": round(args.reports / elapsed, 1),
        "latency_ms_p50": round(statistics.median(latencies) * 1000, 2),
        "latency_ms_p99": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
        "server_distinct_ids": stats["distinct_ids"],
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result))
    return 0 if errors == 0 and stats["distinct_ids"] == args.reports else 1


if __name__ == "__main__":
    raise SystemExit(main())
