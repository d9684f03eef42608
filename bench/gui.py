"""GUI benchmark. Prints one JSON object:

- launch_to_tray_s: from starting `python -m app` (the GUI, from source) to the tray icon
  being shown, as the GUI's own log stamps it; median of 3 launches (target <= 1.5 s);
- queue_first_paint_ms: from opening the Queue page to its first paint with rows, against a
  real worker whose queue holds 100,000 reports; median of 5 (target <= 300 ms);
- idle_rss_mb: resident memory of the GUI process (window open, connected, idle) (target
  <= 150 MB).

Uses the X display in DISPLAY when there is one (e.g. under Xvfb), else Qt's offscreen
platform. Run: `.venv/bin/python bench/gui.py [--rows 100000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# `python bench/gui.py` puts bench/ first on sys.path, where bench modules could shadow the
# standard library; the project root is what we want.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench._harness import build_queue  # noqa: E402

LAUNCHES = 3
PAINTS = 5
IDLE_SETTLE_S = 5.0
TRAY_LINE = re.compile(r"^(\S+ \S+) INFO wats\.gui\.tray: tray icon shown", re.MULTILINE)
CONNECTED_LINE = "worker link: connecting -> connected"


def environment(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["WATS_STATION_HOME"] = str(home)
    env["WATS_STATION_SECRET_STORE"] = "file"
    env.pop("WATS_STATION_SERVER_URL", None)
    env.pop("WATS_STATION_TOKEN", None)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def configure(home: Path, instance: str) -> None:
    """A saved configuration, so the GUI opens its window rather than the first-run wizard."""
    from app.core.config import StationConfig, StationInfo
    from app.core.config_store import ConfigStore
    from app.core.paths import InstancePaths

    saved = os.environ.get("WATS_STATION_HOME")
    os.environ["WATS_STATION_HOME"] = str(home)
    try:
        paths = InstancePaths.for_instance(instance).ensure()
        ConfigStore(paths).save(
            StationConfig(station=StationInfo(name="BENCH"), secret_store="file")
        )
    finally:
        if saved is None:
            os.environ.pop("WATS_STATION_HOME", None)
        else:
            os.environ["WATS_STATION_HOME"] = saved


def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.01) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"bench/gui.py: timed out waiting for {what}")
        time.sleep(interval)


def stop_worker(env: dict[str, str], instance: str) -> None:
    """Stop the worker a launched GUI started (it outlives the GUI by design)."""
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import IpcError

    saved = os.environ.get("WATS_STATION_HOME")
    os.environ["WATS_STATION_HOME"] = env["WATS_STATION_HOME"]
    try:
        client = BlockingIpcClient(instance, timeout=10)
        try:
            pid = client.call("status")["pid"]
            client.call("service.stop")
        finally:
            client.close()
        wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 30, "the worker")
    except IpcError:
        pass  # no worker answers: nothing to stop
    finally:
        if saved is None:
            os.environ.pop("WATS_STATION_HOME", None)
        else:
            os.environ["WATS_STATION_HOME"] = saved


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("bench/gui.py: no VmRSS for the GUI process")


def measure_launch(work: Path) -> tuple[float, float]:
    """(median launch-to-tray seconds, RSS in MB of the last GUI once idle)."""
    times: list[float] = []
    idle_rss = 0.0
    for run in range(LAUNCHES):
        home = work / f"launch-{run}"
        instance = "bench-gui"
        configure(home, instance)
        env = environment(home)
        log = home / instance / "logs" / "gui.log"
        started = time.time()
        gui = subprocess.Popen(
            [sys.executable, "-m", "app", "--instance", instance],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            match = wait_for(
                lambda log=log: log.exists() and TRAY_LINE.search(log.read_text()), 30, "the tray"
            )
            shown = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            times.append(shown - started)
            wait_for(lambda log=log: CONNECTED_LINE in log.read_text(), 60, "the worker link", 0.05)
            if run == LAUNCHES - 1:
                time.sleep(IDLE_SETTLE_S)  # idle on purpose: this is what is measured
                idle_rss = rss_mb(gui.pid)
        finally:
            gui.terminate()
            gui.wait(10)
            stop_worker(env, instance)
    return statistics.median(times), idle_rss


def measure_first_paint(work: Path, rows: int) -> float:
    home = work / "queue"
    instance = "bench-queue"
    configure(home, instance)
    env = environment(home)
    for key in ("WATS_STATION_HOME", "QT_QPA_PLATFORM", "WATS_STATION_SECRET_STORE"):
        if key in env:
            os.environ[key] = env[key]
    from app.core.paths import InstancePaths

    paths = InstancePaths.for_instance(instance).ensure()
    build_queue(paths.queue_db, rows)
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "--service", "--instance", instance],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return _paint_runs(instance, rows)
    finally:
        worker.terminate()
        worker.wait(30)


def _paint_runs(instance: str, rows: int) -> float:
    import qasync
    from PySide6.QtCore import QEvent, QObject, QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    from app.core.paths import InstancePaths
    from app.gui.context import GuiContext
    from app.gui.gui_settings import GuiSettings
    from app.gui.pages.queue import QueuePage
    from app.gui.theme import apply_theme
    from app.gui.worker_link import WorkerLink

    # The offscreen platform warns that it cannot do window-manager things; not our output.
    qInstallMessageHandler(
        lambda _kind, _context, message: (
            None if "does not support" in message else sys.stderr.write(message + "\n")
        )
    )
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    class FirstPaint(QObject):
        def __init__(self, page: QueuePage, done: asyncio.Future[float]) -> None:
            super().__init__()
            self.page = page
            self.done = done

        def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
            model = self.page.model
            if (
                event.type() == QEvent.Type.Paint
                and model.total == rows
                and model.loaded_row(0) is not None
                and not self.done.done()
            ):
                # Runs right after this paint has been drawn.
                QTimer.singleShot(0, self._painted)
            return False

        def _painted(self) -> None:
            if not self.done.done():
                self.done.set_result(time.perf_counter())

    async def run() -> list[float]:
        link = WorkerLink(instance)
        wait_until = time.monotonic() + 60
        while not await link.start(spawn=False):
            if time.monotonic() > wait_until:
                raise SystemExit("bench/gui.py: the worker did not answer")
        context = GuiContext(
            instance=instance,
            link=link,
            paths=InstancePaths.for_instance(instance),
            settings=GuiSettings(instance),
        )
        results = []
        for _ in range(PAINTS):
            done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            page = QueuePage(context)
            watcher = FirstPaint(page, done)
            page.table.viewport().installEventFilter(watcher)
            page.resize(1180, 680)
            page.show()
            page.activate()
            finished = await asyncio.wait_for(done, 30)
            results.append((finished - started) * 1000)
            page.close()
            page.deleteLater()
            await asyncio.sleep(0.2)
        link.close()
        return results

    with loop:
        times: list[float] = loop.run_until_complete(run())
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wats-bench-gui-") as tmp:
        work = Path(tmp)
        launch_s, idle_rss = measure_launch(work)
        paint_ms = measure_first_paint(work, args.rows)
    print(
        json.dumps(
            {
                "launch_to_tray_s": round(launch_s, 3),
                "queue_first_paint_ms": round(paint_ms, 1),
                "idle_rss_mb": round(idle_rss, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
