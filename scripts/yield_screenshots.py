"""Regenerate the yield guide's screenshots (docs/images/yield-*.png) from the real GUI.

Run by `scripts/yield-screenshots`, which provides an X display (Xvfb, 1366x768). Sets up a
throw-away station against the local WATS server with one shift that began six hours ago,
FPY targets for two processes, and drops a shift's worth of result files: a PCBA line whose
first-pass yield slips in the last ninety minutes as a probe starts failing, and a healthy
end-of-line test. Another station's reports go straight to the server, so the server view
shows line figures that differ from this station's. Then shows the Yield page, the page
with the server view, and the line monitor window, and saves each as a PNG.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WINDOW_W, WINDOW_H = 1366, 728
STEPS = ("Supply 5V", "Idle current", "Probe contact", "Firmware check")
PROCESS_NAMES = {50: "PCBA test", 100: "End of line test"}


def report(
    sn: str,
    pn: str,
    rev: str,
    process: int,
    *,
    start: datetime,
    failing: str | None,
    station: str = "FCT-01",
    fixture: str = "FX-1",
    operator: str = "kari",
) -> dict[str, Any]:
    steps = [
        {
            "id": number,
            "group": "M",
            "stepType": "ET_NLT",
            "name": name,
            "status": "F" if name == failing else "P",
            "causedUUTFailure": name == failing,
            "numericMeas": [
                {
                    "name": None,
                    "status": "F" if name == failing else "P",
                    "compOp": "GELE",
                    "value": 9.0 if name == failing else 5.0,
                    "lowLimit": 4.5,
                    "highLimit": 5.5,
                    "unit": "V",
                }
            ],
        }
        for number, name in enumerate(STEPS, start=1)
    ]
    return {
        "type": "T",
        "id": str(uuid.uuid4()),
        "pn": pn,
        "rev": rev,
        "sn": sn,
        "processCode": process,
        "processName": PROCESS_NAMES[process],
        "result": "F" if failing else "P",
        "machineName": station,
        "start": start.isoformat(),
        "uut": {"user": operator, "fixtureId": fixture},
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "F" if failing else "P",
            "causedUUTFailure": False,
            "seqCall": {"path": "fct.py", "name": "MainSequence Callback", "version": "2.3"},
            "steps": steps,
        },
    }


def shift_history(shift_start: datetime, now: datetime, station: str, seed: int) -> list[dict]:
    """A shift of units with retests; the PCBA line's probe degrades in the last 90 minutes."""
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    serial = 0
    for process, per_hour in ((50, 30), (100, 14)):
        moment = shift_start + timedelta(minutes=rng.uniform(0, 4))
        while moment < now - timedelta(minutes=2):
            serial += 1
            late = moment > now - timedelta(minutes=90)
            if process == 50:
                pn, rev = ("PCBA-1000", "A") if serial % 3 else ("PCBA-2000", "B")
                fail_rate = 0.22 if late else 0.04
                causes = ("Probe contact",) * 4 + ("Idle current",) if late else STEPS
            else:
                pn, rev, fail_rate, causes = "CTRL-3000", "C", 0.01, ("Firmware check",)
            # Each station tests its own units (a unit is SN + PN).
            sn = f"{pn[:4]}-{station[-2:]}{serial:05d}"
            fixture = "FX-2" if late and process == 50 and rng.random() < 0.8 else "FX-1"
            operator = rng.choice(("kari", "ola", "mette"))
            failing = rng.choice(causes) if rng.random() < fail_rate else None
            docs.append(
                report(
                    sn,
                    pn,
                    rev,
                    process,
                    start=moment,
                    failing=failing,
                    station=station,
                    fixture=fixture,
                    operator=operator,
                )
            )
            retest = moment
            while failing is not None and retest < now - timedelta(minutes=20):
                retest += timedelta(minutes=rng.uniform(8, 15))
                failing = rng.choice(causes) if rng.random() < 0.3 else None
                docs.append(
                    report(
                        sn,
                        pn,
                        rev,
                        process,
                        start=retest,
                        failing=failing,
                        station=station,
                        fixture=fixture,
                        operator=operator,
                    )
                )
            moment += timedelta(minutes=rng.expovariate(per_hour / 60))
    return docs


def prepare_station(home: Path, server_url: str, token: str, shift_start: datetime) -> Path:
    from app.core.config import ConverterConfig, ServerConfig, StationConfig, StationInfo
    from app.core.config_store import ConfigStore
    from app.core.paths import InstancePaths
    from app.core.secrets import set_token
    from app.core.yield_settings import YieldSettings

    paths = InstancePaths.for_instance("default").ensure()
    folder = home / "drop" / "fct"
    folder.mkdir(parents=True, exist_ok=True)
    end = shift_start + timedelta(hours=8)
    settings = YieldSettings.model_validate(
        {
            "shifts": [{"name": "Day", "start": f"{shift_start:%H:%M}", "end": f"{end:%H:%M}"}],
            "targets": [
                {
                    "process_code": 50,
                    "fpy_warning": 0.95,
                    "fpy_alarm": 0.9,
                    "units_per_hour_warning": 20,
                },
                {"process_code": 100, "fpy_warning": 0.97, "fpy_alarm": 0.93},
            ],
        }
    )
    config = StationConfig(
        server=ServerConfig(url=server_url),
        station=StationInfo(name="FCT-01", location="Plant A", purpose="Production"),
        converters=[ConverterConfig(name="FCT line", converter="wsjf", watch_folder=folder)],
        secret_store="file",
        yield_settings=settings,
    )
    ConfigStore(paths).save(config)
    set_token(paths, config, token)
    return folder


async def until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"yield screenshots: timed out waiting for {what}")
        await asyncio.sleep(0.05)


def grab(widget: Any, path: Path) -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    widget.grab().save(str(path))


def select(combo: Any, value: str) -> None:
    index = combo.findData(value)
    if index < 0:
        raise SystemExit(f"yield screenshots: no choice {value!r} in {combo.accessibleName()}")
    combo.setCurrentIndex(index)


async def shoot(out: Path, home: Path) -> list[str]:
    import httpx

    from app.devserver import run_in_thread
    from app.gui.app import GuiApp
    from app.gui.pages.yield_page import YieldPage
    from app.gui.yield_window import show_yield_window

    now = datetime.now().astimezone()
    shift_start = (now - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    taken: list[str] = []
    with run_in_thread() as server:
        folder = prepare_station(home, server.url, server.token, shift_start)
        # The line's other tester reports straight to the server (line-level figures).
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for doc in shift_history(shift_start, now, "FCT-02", seed=2)[:150]:
                response = client.post(
                    "/api/Report/WSJF",
                    json=doc,
                    headers={"Authorization": f"Basic {server.token}"},
                )
                response.raise_for_status()
        docs = shift_history(shift_start, now, "FCT-01", seed=1)
        for number, doc in enumerate(docs):
            tmp = folder / f".r{number:05d}.part"
            tmp.write_text(json.dumps(doc), encoding="utf-8")
            os.replace(tmp, folder / f"r{number:05d}.json")
        gui = GuiApp("default")
        await gui.start()
        link = gui.link

        def uploaded() -> bool:
            queue = (link.status or {}).get("queue") or {}
            return queue.get("uploaded", 0) >= len(docs)

        await until(uploaded, 240, f"{len(docs)} reports uploaded")
        await until(lambda: (link.status or {}).get("server_state") == "online", 60, "online")

        window = gui.main_window()
        window.resize(WINDOW_W, WINDOW_H)
        window.move(0, 0)
        window.bring_to_front()
        page = window.show_page("yield")
        assert isinstance(page, YieldPage)
        board = page.dashboard
        await until(lambda: board.process.count() > 2, 30, "the process list")
        select(board.process, "50")
        select(board.breakdown, "pn")
        await until(
            lambda: (
                board.figures
                and board.figures["filter"].get("process") == ["50"]
                and board.figures["by"] == ["pn"]
            ),
            30,
            "the PCBA figures",
        )
        await asyncio.sleep(1.0)
        grab(window, out / "yield-page.png")
        taken.append("yield-page.png")

        select(board.breakdown, "station")
        board.server_button.setChecked(True)
        await until(lambda: board.server is not None, 60, "the server figures")
        await until(lambda: board.figures and board.figures["by"] == ["station"], 30, "stations")
        await asyncio.sleep(1.0)
        grab(window, out / "yield-page-server.png")
        taken.append("yield-page-server.png")
        board.server_button.setChecked(False)

        monitor = show_yield_window(link)
        monitor.resize(WINDOW_W, WINDOW_H)
        monitor.move(0, 0)
        mboard = monitor.dashboard
        await until(lambda: mboard.process.count() > 2, 30, "the monitor's process list")
        select(mboard.process, "100")
        await until(
            lambda: mboard.figures and mboard.figures["filter"].get("process") == ["100"],
            30,
            "the end-of-line figures",
        )
        await asyncio.sleep(1.0)
        grab(monitor, out / "yield-monitor.png")
        taken.append("yield-monitor.png")
        select(mboard.process, "50")
        await until(
            lambda: mboard.figures and mboard.figures["filter"].get("process") == ["50"],
            30,
            "the PCBA monitor figures",
        )
        await asyncio.sleep(1.0)
        grab(monitor, out / "yield-monitor-alarm.png")
        taken.append("yield-monitor-alarm.png")
        monitor.close()
        gui.quit()
        # The throw-away worker goes too (the GUI leaves its worker running on purpose).
        from app.ipc.blocking import BlockingIpcClient

        with BlockingIpcClient("default") as client:
            client.call("service.stop")
    return taken


def main() -> int:
    from screenshots import run_shooter  # scripts/ is on sys.path when run as a script

    return run_shooter(shoot, "wats-station-yield-screens-")


if __name__ == "__main__":
    sys.exit(main())
