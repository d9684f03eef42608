"""`wats-station demo`: the whole station against the local WATS server, on a throw-away instance.

Starts the local server on a free loopback port, configures a throw-away instance that watches
a drop folder, starts a real worker process, drops sample result files (the bundled samples
plus generated ones, one malformed file and one the server rejects), shows progress and ends
with a summary. Nothing outside the demo folder is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.commands.exitcodes import Exit

INSTANCE = "demo"
WAIT_S = 120.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run the station against the built-in local WATS server (no setup needed)",
        description=(
            "Start the local WATS server and a worker on a throw-away instance, drop sample "
            "result files into its watch folder, show progress, and print a summary."
        ),
    )
    parser.add_argument("--files", type=int, default=40, help="generated files (default 40)")
    parser.add_argument("--dir", type=Path, help="keep the demo here instead of a temp folder")
    parser.add_argument("--keep", action="store_true", help="keep the demo folder afterwards")
    parser.set_defaults(handler=run)


@dataclass
class Dropped:
    converter: str
    folder: Path
    names: list[str] = field(default_factory=list)


def run(args: argparse.Namespace) -> int:
    from app.devserver import run_in_thread

    if args.files < 0 or args.files > 100_000:
        print("--files must be between 0 and 100000", file=sys.stderr)
        return int(Exit.USAGE)
    root = args.dir or Path(tempfile.mkdtemp(prefix="wats-station-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    keep = args.keep or args.dir is not None
    print(f"Demo folder: {root}")
    try:
        with run_in_thread(port=0) as server:
            print(f"Local WATS server: {server.url}")
            return _run_demo(root, server, args.files)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def _configure(root: Path, server_url: str, token: str) -> tuple[dict[str, str], list[Dropped]]:
    from app.core.config import ConverterConfig, ServerConfig, StationConfig, StationInfo
    from app.core.config_store import ConfigStore
    from app.core.paths import InstancePaths
    from app.core.secrets import set_token

    env = dict(os.environ)
    env["WATS_STATION_HOME"] = str(root / "home")
    env["WATS_STATION_SECRET_STORE"] = "file"  # a throw-away instance needs no keyring
    for key in ("WATS_STATION_SERVER_URL", "WATS_STATION_TOKEN"):
        env.pop(key, None)
    paths = InstancePaths.for_instance(INSTANCE, environ=env).ensure()
    drop = root / "drop"
    converters = [Dropped(name, drop / name) for name in ("wsjf", "wsxf", "wstf", "atml")]
    for item in converters:
        item.folder.mkdir(parents=True, exist_ok=True)
    config = StationConfig(
        server=ServerConfig(url=server_url),
        station=StationInfo(name="DEMO-STATION", location="Demo line", purpose="Demo"),
        converters=[
            ConverterConfig(
                name=f"Demo {c.converter.upper()}", converter=c.converter, watch_folder=c.folder
            )
            for c in converters
        ],
        secret_store="file",
    )
    ConfigStore(paths).save(config)
    set_token(paths, config, token, environ=env)
    return env, converters


def _drop_files(converters: list[Dropped], count: int) -> int:
    from app.samples import sample_path
    from app.samples.generate import generated_uut, generated_uut_bytes

    samples = {
        "wsjf": ("wsjf-uut-minimal.json", "wsjf-uur.json"),
        "wsxf": ("wsxf-uut.xml", "wsxf-uur.xml"),
        "wstf": ("wstf-example.txt",),
        "atml": ("atml-2.02.xml", "atml-5.00.xml"),
    }
    for conv in converters:
        for name in samples[conv.converter]:
            shutil.copyfile(sample_path(name), conv.folder / name)
            conv.names.append(name)
    wsjf = converters[0]
    for index in range(count):
        name = f"board-{index:05d}.json"
        _write_atomically(wsjf.folder / name, generated_uut_bytes(index, station="DEMO-STATION"))
        wsjf.names.append(name)
    # One file a converter cannot read, and one report the server will refuse.
    _write_atomically(wsjf.folder / "truncated-by-tester.json", b'{"type": "T", "pn": "X"')
    wsjf.names.append("truncated-by-tester.json")
    rejected = generated_uut(count + 1, station="DEMO-STATION", process_code=4242)
    _write_atomically(wsjf.folder / "unknown-process.json", json.dumps(rejected).encode())
    wsjf.names.append("unknown-process.json")
    return sum(len(c.names) for c in converters)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _run_demo(root: Path, server: Any, count: int) -> int:
    from app.core.launcher import spawn_worker
    from app.ipc.protocol import IpcError

    env, converters = _configure(root, server.url, server.token)
    worker = spawn_worker(INSTANCE, env=env, detached=False)
    old_home = os.environ.get("WATS_STATION_HOME")
    os.environ["WATS_STATION_HOME"] = env["WATS_STATION_HOME"]  # so the IPC client finds it
    try:
        client = _wait_for_worker(worker)
        if client is None:
            return int(Exit.FAILED)
        print(f"Worker started (pid {worker.pid}); dropping files into {root / 'drop'}")
        total = _drop_files(converters, count)
        print(f"Dropped {total} files.")
        status = _follow(client, converters, total)
        _summary(status, server, converters)
        with contextlib.suppress(IpcError):
            client.call("service.stop")
        worker.wait(30)
        return int(Exit.OK if status is not None else Exit.FAILED)
    finally:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(30)
        if old_home is None:
            os.environ.pop("WATS_STATION_HOME", None)
        else:
            os.environ["WATS_STATION_HOME"] = old_home


def _wait_for_worker(worker: Any) -> Any:
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import IpcError

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            print(f"the worker exited at start (exit code {worker.returncode})", file=sys.stderr)
            return None
        try:
            client = BlockingIpcClient(INSTANCE, timeout=5)
            client.call("ping")
            return client
        except IpcError:
            time.sleep(0.1)
    print("the worker did not answer within 30 s", file=sys.stderr)
    return None


def _files_in(folder: Path, converters: list[Dropped]) -> int:
    return sum(1 for c in converters for name in c.names if (c.folder / folder / name).exists())


def _follow(client: Any, converters: list[Dropped], total: int) -> dict[str, Any] | None:
    deadline = time.monotonic() + WAIT_S
    last = ""
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = client.call("status")
        done = _files_in(Path("Done"), converters)
        failed = _files_in(Path("Error"), converters)
        queue = status["queue"]
        line = (
            f"  files {done + failed}/{total} (done {done}, failed {failed})   "
            f"reports: queued {queue['queued'] + queue['uploading']}, "
            f"uploaded {queue['uploaded']}, rejected {queue['rejected']}   "
            f"server {status['server_state']}"
        )
        if line != last:
            print(line, flush=True)
            last = line
        settled = done + failed == total and queue["queued"] + queue["uploading"] == 0
        if settled and queue["uploaded"] + queue["rejected"] > 0:
            return status
        time.sleep(0.25)
    print(f"the demo did not finish within {WAIT_S:.0f} s", file=sys.stderr)
    return None


def _summary(status: dict[str, Any] | None, server: Any, converters: list[Dropped]) -> None:
    print()
    print("Summary")
    if status is None:
        return
    queue = status["queue"]
    reports = sum(queue.values())
    done = _files_in(Path("Done"), converters)
    failed = _files_in(Path("Error"), converters)
    print(f"  files       {done + failed:6d}  ({done} converted, {failed} failed)")
    print(f"  reports     {reports:6d}")
    print(f"  uploaded    {queue['uploaded']:6d}")
    print(f"  rejected    {queue['rejected']:6d}")
    print(f"  on server   {server.stats()['distinct_ids']:6d} distinct reports")
    for c in converters:
        for reason in sorted((c.folder / "Error").glob("*.error.txt")):
            first = reason.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            print(
                f"  failed: {reason.name[: -len('.error.txt')]}: "
                f"{first[-1] if first else 'no reason recorded'}"
            )
