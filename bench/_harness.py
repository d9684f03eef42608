"""Shared pieces of the benchmarks: a local server subprocess, a configured instance and its
worker process, /proc readings. Benchmarks print JSON; nothing here asserts timings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from app.core.config import ConverterConfig, ServerConfig, StationConfig, StationInfo
from app.core.config_store import ConfigStore
from app.core.paths import InstancePaths
from app.core.secrets import set_token
from app.devserver import DEFAULT_TOKEN

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class LocalServer:
    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "devserver", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        self.url = line.rsplit(" ", 1)[-1]
        self.token = DEFAULT_TOKEN

    def _request(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST" if data else "GET")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as response:
            return json.loads(response.read())

    def stats(self, times: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = self._request("/_dev/stats" + ("?times=1" if times else ""))
        return result

    def distinct(self) -> int:
        """How many reports the server holds (a cheap poll: no per-id lists)."""
        return int(self._request("/_dev/stats?ids=0")["distinct_ids"])

    def set_faults(self, **faults: Any) -> None:
        self._request("/_dev/faults", faults)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class Station:
    def __init__(self, home: Path, server: LocalServer | None, folder: Path, **sections: Any):
        self.env = dict(os.environ)
        self.env.update(WATS_STATION_HOME=str(home), WATS_STATION_SECRET_STORE="file")
        self.paths = InstancePaths.for_instance("default", environ=self.env).ensure()
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        config = StationConfig(
            server=ServerConfig(url=server.url if server else None),
            station=StationInfo(name="BENCH-STATION"),
            converters=[ConverterConfig(name="bench", converter="wsjf", watch_folder=folder)],
            secret_store="file",
            **sections,
        )
        ConfigStore(self.paths).save(config)
        if server is not None:
            set_token(self.paths, config, server.token, environ=self.env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "--service"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._client: Any = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.call("ping")
                return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("the worker did not start")

    def call(self, method: str, params: Any = None) -> Any:
        from app.ipc.blocking import BlockingIpcClient
        from app.ipc.names import socket_address

        if self._client is None:
            saved = os.environ.get("WATS_STATION_HOME")
            os.environ["WATS_STATION_HOME"] = self.env["WATS_STATION_HOME"]
            try:
                address = socket_address("default")
            finally:
                if saved is None:
                    os.environ.pop("WATS_STATION_HOME")
                else:
                    os.environ["WATS_STATION_HOME"] = saved
            client = BlockingIpcClient("default", timeout=30, address=address)
            client.call("ping")
            self._client = client
        return self._client.call(method, params)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        self.process.terminate()
        self.process.wait(60)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process in MB (VmHWM is the peak) from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def children_of(pid: int) -> list[int]:
    """Child processes of every thread of `pid` (the conversion pool spawns from threads)."""
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        path = task / "children"
        if path.exists():
            kids += [int(p) for p in path.read_text().split()]
    return kids


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def build_queue(db: Path, rows: int, *, rejected: int = 0) -> None:
    """A queue of `rows` small reports, 10 per source file, written directly (no worker);
    the first `rejected` of them are parked as rejected by the server."""
    import uuid

    from app.service.queue import ReportQueue
    from app.service.queue_models import QueuedReport, SourceBatch

    per_file, per_commit = 10, 1000

    def report(index: int) -> QueuedReport:
        doc = {
            "type": "T",
            "id": str(uuid.uuid4()),
            "pn": f"PCBA-{index % 40:04d}",
            "sn": f"SN-{index:08d}",
            "rev": "A",
            "processCode": 50,
            "result": "F" if index % 17 == 0 else "P",
            "machineName": "EOL-3",
            "start": f"2026-11-{1 + index % 28:02d}T08:00:00+01:00",
            "uut": {"user": f"op{index % 7}"},
            "root": {"id": 0, "name": "MainSequence Callback", "status": "P"},
        }
        return QueuedReport.from_payload(json.dumps(doc).encode())

    with ReportQueue.open(db) as queue:
        for first in range(0, rows, per_commit):
            batches = []
            for file_start in range(first, min(rows, first + per_commit), per_file):
                reports = [report(i) for i in range(file_start, min(rows, file_start + per_file))]
                sha = f"{file_start:064x}"
                batches.append(SourceBatch("bench", f"/in/{file_start}.json", sha, reports))
            queue.enqueue_files(batches)
        if rejected:
            now = time.time()
            for claimed in queue.claim_due(now + 1, min(rejected, rows)):
                queue.mark_rejected(claimed.id, now, "processCode: 50 is not a known process")
