"""The tray and the Status page follow the worker live: a server outage and its recovery, an
alarm (wrong token) with its notification, converted and failed files."""

from __future__ import annotations

import json
from pathlib import Path

from app.core.config import TimersConfig
from app.core.secrets import set_token
from app.gui.icons import TrayState
from app.gui.pages.status import StatusPage
from app.gui.tray import Tray
from app.samples import sample_path
from app.samples.generate import generated_uut
from tests.fixtures.devserver import DevServerProcess
from tests.gui.conftest import Gui


def drop(folder: Path, name: str, content: bytes) -> Path:
    """Write a result file the way a tester does: elsewhere first, then move it in."""
    temp = folder.parent / f".{name}.part"
    temp.write_bytes(content)
    target = folder / name
    temp.replace(target)
    return target


def test_tray_follows_a_server_outage_and_recovery(
    gui: Gui, devserver: DevServerProcess, tmp_path: Path
) -> None:
    gui.station.configure(
        server=devserver, folders={"line1": tmp_path / "in1"}, timers=TimersConfig(ping_s=1)
    )
    gui.start_worker()
    link = gui.connect()
    tray = Tray(link)
    page = gui.page(StatusPage)
    gui.until(lambda: tray.state is TrayState.OK, 20, "the tray to show OK")
    gui.until(lambda: page.state_text.text() == "All reports uploaded", 5, "the status page")

    devserver.set_faults(outage="503")
    gui.until(lambda: tray.state is TrayState.OFFLINE, 20, "the tray to show the outage")
    gui.until(lambda: page.state_text.text() == "Reports waiting", 5, "the status page state")
    assert "cannot be reached" in page.state_detail.text()
    gui.until(lambda: page.fact_labels["server"].text() == "Server unreachable", 5, "status page")
    assert page.fact_labels["server"].property("severity") == "warning"
    assert not tray.notifications  # an outage is routine: no notification

    devserver.set_faults(reset=True)
    gui.until(lambda: tray.state is TrayState.OK, 20, "the tray to recover")
    gui.until(lambda: page.fact_labels["server"].text() == "Online", 5, "status page")
    assert page.fact_labels["server"].property("severity") == ""


def test_a_refused_token_raises_an_alarm_notification(
    gui: Gui, devserver: DevServerProcess, tmp_path: Path
) -> None:
    inbox = tmp_path / "in1"
    config = gui.station.configure(server=devserver, folders={"line1": inbox})
    set_token(gui.station.paths, config, "wrong-token", environ=gui.station.env)
    gui.start_worker()
    link = gui.connect()
    tray = Tray(link)
    page = gui.page(StatusPage)
    drop(inbox, "uut.json", json.dumps(generated_uut(1)).encode())
    gui.until(lambda: tray.state is TrayState.ATTENTION, 30, "the tray to ask for attention")
    gui.until(lambda: tray.notifications, 10, "a notification")
    title, message = tray.notifications[-1]
    assert title == "The WATS server refused the token"
    assert message
    gui.until(lambda: page.alarm_box.count() > 0, 5, "an alarm banner on the status page")
    assert page.state_text.text() == "Needs attention"


def test_status_page_counts_converted_and_failed_files(gui: Gui, tmp_path: Path) -> None:
    inbox = tmp_path / "in1"
    gui.station.configure(folders={"line1": inbox})
    gui.start_worker()
    link = gui.connect()
    page = gui.page(StatusPage)
    gui.until(lambda: "line1" in page.cards, 10, "the converter card")
    drop(inbox, "good.json", sample_path("wsjf-uut-minimal.json").read_bytes())
    drop(inbox, "bad.json", b"{ this is not json")
    card = page.cards["line1"]
    gui.until(lambda: "1 converted, 1 failed" in card.counts.text(), 30, "the card's counts")
    assert card.counts.property("severity") == "warning"
    gui.until(lambda: page.activity.count() >= 2, 10, "two activity lines")
    lines = [page.activity.item(i).text() for i in range(page.activity.count())]
    assert any("good.json → 1 report queued" in line for line in lines), lines
    assert any("bad.json failed" in line for line in lines), lines
    gui.until(lambda: page.waiting_tile.value.text() == "1", 10, "one report waiting")
    assert page.failed_tile.value.text() == "1"
    assert page.failed_tile.value.property("severity") == "error"
    # No server configured: waiting reports are abnormal-but-expected, shown in amber.
    assert page.waiting_tile.value.property("severity") == "warning"
    assert link.status is not None
