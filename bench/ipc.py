"""IPC benchmark: a real IpcServer in its own process (QCoreApplication + qasync, as in the
worker), measured from a client over the real local socket.

Prints one JSON object:
- status_p50_ms / status_p99_ms: round trip of a `status`-like request returning ~2 KB,
  one request at a time (target p50 <= 2 ms);
- requests_per_s: `ping` requests on one connection, pipelined (target >= 5,000/s);
- queue_list_first_page_ms: `queue.list` (first page of 100, newest first) answered by a real
  worker (`wats-station --service`) whose queue holds 100,000 reports (target <= 50 ms);
  also the first page of rejected reports and of a search, for comparison.

Run: `.venv/bin/python bench/ipc.py [--calls N] [--pipelined N] [--queue-rows N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

INSTANCE = "bench"
QUEUE_INSTANCE = "bench-queue"
REJECTED_ROWS = 1000

# `python bench/ipc.py` puts bench/ first on sys.path, where bench/queue_db.py would shadow the
# standard library's queue module (which qasync and concurrent.futures import).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._harness import build_queue  # noqa: E402


def status_payload() -> dict[str, Any]:
    """About 2 KB, shaped like the worker's status reply."""
    return {
        "state": "ok",
        "uploads_paused": False,
        "server": {"url": "https://wats.example.com", "reachable": True, "latency_ms": 41.5},
        "queue": {"queued": 12, "uploading": 2, "rejected": 0, "uploaded_today": 1234},
        "converters": [
            {
                "name": f"line-{i}",
                "converter": "wsjf",
                "enabled": True,
                "watch_folder": f"C:/TestData/line-{i}/out",
                "files_done": 1000 + i,
                "files_failed": i,
                "last_file": f"C:/TestData/line-{i}/out/UUT-{i:05d}.json",
            }
            for i in range(10)
        ],
        "alarms": [],
    }


def serve() -> int:
    """The server process."""
    import qasync
    from PySide6.QtCore import QCoreApplication

    from app.ipc.protocol import NoParams
    from app.service.ipc_server import IpcServer

    app = QCoreApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    server = IpcServer(INSTANCE)

    async def status(_params: NoParams) -> dict[str, Any]:
        return status_payload()

    def stop() -> None:
        server.close()
        loop.stop()

    async def shutdown(_params: NoParams) -> bool:
        loop.call_later(0.05, stop)
        return True

    server.register("status", status)
    server.register("shutdown", shutdown)
    server.start()
    print("READY", flush=True)
    with loop:
        loop.run_forever()
    return 0


def wait_ready(process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = process.stdout.readline()
    if line.strip() != "READY" or time.monotonic() > deadline:
        raise SystemExit(f"the benchmark server did not start: {line!r}")


def measure_status(calls: int) -> tuple[float, float, int]:
    from app.ipc.blocking import BlockingIpcClient

    with BlockingIpcClient(INSTANCE, timeout=10) as client:
        reply_bytes = len(json.dumps(client.call("status"), separators=(",", ":")))
        for _ in range(200):  # warm-up
            client.call("status")
        samples: list[float] = []
        for _ in range(calls):
            start = time.perf_counter()
            client.call("status")
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99, reply_bytes


def measure_pipelined(total: int, window: int = 1000) -> float:
    """Requests/s with up to `window` requests in flight on one connection."""
    from app.ipc.blocking import LineConnection
    from app.ipc.names import socket_address
    from app.ipc.protocol import encode_request

    lines = [encode_request(i, "ping") for i in range(total)]
    seen: set[int] = set()
    with LineConnection.open(socket_address(INSTANCE), timeout=10) as connection:
        start = time.perf_counter()
        sent = 0
        while len(seen) < total:
            if sent < total and sent - len(seen) < window // 2:
                batch = lines[sent : sent + window // 2]
                connection.send(b"".join(batch), timeout=30)
                sent += len(batch)
            reply = json.loads(connection.receive(timeout=30))
            if "result" not in reply:
                raise SystemExit(f"unexpected reply: {reply}")
            seen.add(reply["id"])
        elapsed = time.perf_counter() - start
    return total / elapsed


def measure_queue_list(rows: int, calls: int) -> dict[str, float]:
    """Median ms of queue.list first pages from a real worker holding `rows` reports."""
    from app.core.paths import InstancePaths
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import IpcError

    paths = InstancePaths.for_instance(QUEUE_INSTANCE).ensure()
    build_queue(paths.queue_db, rows, rejected=REJECTED_ROWS)
    # No server, uploads paused: the benchmark must not send 100,000 reports anywhere.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("WATS_STATION_") or k == "WATS_STATION_HOME"
    }
    env["WATS_STATION_UPLOADS_PAUSED"] = "true"
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "--service", "--instance", QUEUE_INSTANCE],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with BlockingIpcClient(QUEUE_INSTANCE, timeout=2) as probe:
                    probe.call("ping")
                break
            except IpcError:
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the benchmark worker did not start") from None
                time.sleep(0.05)
        results: dict[str, float] = {}
        pages = {
            "queue_list_first_page_ms": {"limit": 100},
            "queue_list_rejected_first_page_ms": {"state": "rejected", "limit": 100},
            "queue_list_search_first_page_ms": {"search": "SN-0004", "limit": 100},
        }
        with BlockingIpcClient(QUEUE_INSTANCE, timeout=30) as client:
            if client.call("queue.list", {"limit": 1})["total"] != rows:
                raise SystemExit("the benchmark queue does not hold the expected rows")
            for key, params in pages.items():
                client.call("queue.list", params)  # warm-up
                samples = []
                for _ in range(calls):
                    start = time.perf_counter()
                    client.call("queue.list", params)
                    samples.append((time.perf_counter() - start) * 1000)
                results[key] = round(statistics.median(samples), 2)
            client.call("service.stop")
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--pipelined", type=int, default=30000)
    parser.add_argument("--queue-rows", type=int, default=100_000)
    parser.add_argument("--queue-calls", type=int, default=50)
    args = parser.parse_args()
    if args.serve:
        return serve()
    with tempfile.TemporaryDirectory(prefix="wats-ipc-bench-") as home:
        os.environ["WATS_STATION_HOME"] = home
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve"],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ.copy(),
        )
        try:
            wait_ready(server)
            p50, p99, reply_bytes = measure_status(args.calls)
            rate = measure_pipelined(args.pipelined)
            from app.ipc.blocking import BlockingIpcClient

            with BlockingIpcClient(INSTANCE) as client:
                client.call("shutdown")
            server.wait(timeout=10)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
        queue_list = measure_queue_list(args.queue_rows, args.queue_calls)
    print(
        json.dumps(
            {
                "status_p50_ms": round(p50, 3),
                "status_p99_ms": round(p99, 3),
                "requests_per_s": round(rate),
                **queue_list,
                "queue_rows": args.queue_rows,
                "status_reply_bytes": reply_bytes,
                "status_calls": args.calls,
                "pipelined_requests": args.pipelined,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
