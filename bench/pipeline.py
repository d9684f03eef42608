"""Pipeline benchmark (issue 3): files dropped into a watch folder → reports on the local server.

Prints ONE JSON object:
- e2e_files_per_s: N small WSJF files written as fast as possible, from the first file
  closed to the last report acknowledged by the server;
- e2e_p50_ms / e2e_p99_ms: per file, close → first receipt at the server, in that run;
- single_p50_ms / single_p99_ms: one file at a time into an idle worker (written and closed
  in place, as testers do), close → acknowledgement;
- backlog_reports_per_s: `--backlog` reports already queued (uploads paused), then resumed;
- backlog_50ms_reports_per_s (+ backlog_50ms_share_of_limit): the same with 50 ms added
  server latency; the limit is concurrency / latency;
- worker_peak_rss_mb (VmHWM of the worker process over the N-file run) and
  worker_rss_samples_mb (start, 25/50/75 %, end: flat means no growth), children_rss_mb;
- worker_cpu_s / children_cpu_s over the N-file run;
- idle_cpu_s_per_min: worker CPU seconds over `--idle-s` seconds with nothing to do.

Usage: python bench/pipeline.py [--files 10000] [--backlog 10000] [--backlog-50ms 2000]
                                [--single 50] [--idle-s 60]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.config import UploadsConfig
from app.core.report_ids import deterministic_report_id
from app.samples.generate import generated_uut_bytes
from bench._harness import (
    LocalServer,
    Station,
    children_of,
    cpu_s,
    percentile,
    rss_mb,
)


def expected_id(data: bytes) -> str:
    import hashlib

    return str(deterministic_report_id("wsjf", hashlib.sha256(data).hexdigest(), 0))


def drop_atomic(folder: Path, name: str, data: bytes) -> float:
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return time.time()


def wait_distinct(server: LocalServer, count: int, timeout: float, on_poll=None) -> None:
    deadline = time.monotonic() + timeout
    while server.distinct() < count:
        if on_poll is not None:
            on_poll()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {server.distinct()} of {count} arrived")
        time.sleep(0.2)


def e2e(server: LocalServer, station: Station, files: int, seed: int) -> dict[str, object]:
    pid = station.process.pid
    closes: dict[str, float] = {}
    samples: list[float] = [rss_mb(pid)]
    cpu0 = cpu_s(pid)
    kids = children_of(pid)
    kids_cpu0 = sum(cpu_s(k) for k in kids)
    start = time.time()
    for index in range(files):
        data = generated_uut_bytes(index, seed=seed)
        closes[expected_id(data)] = drop_atomic(station.folder, f"f{index:06d}.json", data)
        if index % 500 == 0:
            samples.append(rss_mb(pid))
    wait_distinct(server, files, 900, on_poll=lambda: samples.append(rss_mb(pid)))
    received = server.stats(times=True)["first_received_at"]
    last = max(received[i] for i in closes)
    latencies = [(received[i] - closes[i]) * 1000 for i in closes]
    kids = children_of(pid)
    marks = [samples[round(f * (len(samples) - 1))] for f in (0, 0.25, 0.5, 0.75, 1)]
    return {
        "e2e_files_per_s": round(files / (last - start), 1),
        "e2e_p50_ms": round(percentile(latencies, 50), 1),
        "e2e_p99_ms": round(percentile(latencies, 99), 1),
        "worker_peak_rss_mb": round(rss_mb(pid, "VmHWM"), 1),
        "worker_rss_samples_mb": [round(m, 1) for m in marks],
        "children_rss_mb": [round(rss_mb(k), 1) for k in kids],
        "worker_cpu_s": round(cpu_s(pid) - cpu0, 2),
        "children_cpu_s": round(sum(cpu_s(k) for k in kids) - kids_cpu0, 2),
    }


def single(server: LocalServer, station: Station, count: int, seed: int) -> dict[str, float]:
    latencies = []
    base = server.distinct()
    for index in range(count):
        data = generated_uut_bytes(index, seed=seed)
        rid = expected_id(data)
        path = station.folder / f"single{index:04d}.json"
        with path.open("wb") as handle:  # written in place and closed: as testers do
            handle.write(data)
        closed = time.time()
        wait_distinct(server, base + index + 1, 60)
        latencies.append((server.stats(times=True)["first_received_at"][rid] - closed) * 1000)
        time.sleep(0.3)  # let the worker go idle again: this case is about one lone file
    return {
        "single_p50_ms": round(percentile(latencies, 50), 1),
        "single_p99_ms": round(percentile(latencies, 99), 1),
    }


def backlog(server: LocalServer, station: Station, count: int, seed: int) -> float:
    station.call("uploads.pause")
    base = server.distinct()
    for index in range(count):
        drop_atomic(
            station.folder, f"b{seed}-{index:06d}.json", generated_uut_bytes(index, seed=seed)
        )
    deadline = time.monotonic() + 900
    while station.call("status")["queue"]["queued"] < count:
        if time.monotonic() > deadline:
            raise TimeoutError("the backlog was not queued")
        time.sleep(0.2)
    started = time.time()
    station.call("uploads.resume")
    wait_distinct(server, base + count, 900)
    received = server.stats(times=True)["first_received_at"]
    last = max(received.values())
    return count / (last - started)


def idle(station: Station, seconds: float) -> float:
    pid = station.process.pid
    time.sleep(5)  # let the last wave of work finish
    before = cpu_s(pid)
    time.sleep(seconds)
    return (cpu_s(pid) - before) * 60 / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--backlog", type=int, default=10_000)
    parser.add_argument("--backlog-50ms", type=int, default=2_000)
    parser.add_argument("--single", type=int, default=50)
    parser.add_argument("--idle-s", type=float, default=60.0)
    args = parser.parse_args()
    result: dict[str, object] = {"files": args.files, "backlog": args.backlog}
    with tempfile.TemporaryDirectory(prefix="wats-bench-") as tmp:
        root = Path(tmp)
        server = LocalServer("--accept-unknown-process")
        station = Station(root / "home", server, root / "drop")
        try:
            result.update(e2e(server, station, args.files, seed=1))
            result.update(single(server, station, args.single, seed=2))
            result["backlog_reports_per_s"] = round(
                backlog(server, station, args.backlog, seed=3), 1
            )
            server.set_faults(latency_ms=50)
            rate = backlog(server, station, args.backlog_50ms, seed=4)
            limit = UploadsConfig().concurrency / 0.050
            result["backlog_50ms_reports_per_s"] = round(rate, 1)
            result["backlog_50ms_share_of_limit"] = round(rate / limit, 3)
            server.set_faults(reset=True)
            result["idle_cpu_s_per_min"] = round(idle(station, args.idle_s), 4)
        finally:
            station.stop()
            server.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
