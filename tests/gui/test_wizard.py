"""The first-run wizard against a real worker and the local WATS server: every step refuses
bad input in place before Next, and Finish saves what the worker then uses."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWizard

from app.gui.wizard import CONVERTERS, FINISH, SERVER, STARTUP, STATION, TEST, SetupWizard
from tests.fixtures.devserver import DevServerProcess
from tests.gui.conftest import Gui
from tests.gui.test_connection_station_settings import closed_port_url


def open_wizard(gui: Gui) -> SetupWizard:
    gui.start_worker()
    gui.connect()
    assert not gui.station.paths.config_file.exists()  # a first run
    wizard = SetupWizard(gui.context)
    gui.show(wizard)
    wizard.resize(780, 580)
    gui.until(lambda: wizard.loaded, 15, "the wizard to load from the worker")
    return wizard


def next_enabled(wizard: SetupWizard) -> bool:
    return wizard.button(QWizard.WizardButton.NextButton).isEnabled()


def run_test_step(gui: Gui, wizard: SetupWizard) -> None:
    wizard.next()
    assert wizard.currentId() == TEST
    gui.until(lambda: not wizard.test_page.running, 40, "the connection test")


def test_wizard_refuses_bad_input_then_sets_up_the_station(
    gui: Gui, devserver: DevServerProcess, tmp_path: Path
) -> None:
    wizard = open_wizard(gui)
    server = wizard.server_page
    assert wizard.currentId() == SERVER

    # An invalid URL never leaves the first step.
    server.url.setText("wats.example.com/no scheme")
    server.token.setText("x")
    wizard.next()
    assert wizard.currentId() == SERVER
    assert server.url_error.text().startswith("This is not a server address")

    # An unreachable server: the test fails and Next stays off unless "continue anyway".
    server.url.setText(closed_port_url())
    run_test_step(gui, wizard)
    assert not next_enabled(wizard)
    assert wizard.test_page.checks.outcomes()["Server reachable"] == "Failed"
    assert wizard.test_page.anyway.isVisible()
    assert wizard.test_page.result_text.text().startswith("Connection failed at “Server reachable”")

    # A wrong token: refused too.
    wizard.back()
    server.url.setText(devserver.url)
    server.token.setText("wrong-token")
    run_test_step(gui, wizard)
    assert not next_enabled(wizard)
    assert wizard.test_page.checks.outcomes()["Token accepted"] == "Failed"

    wizard.back()
    server.token.setText(devserver.token)
    run_test_step(gui, wizard)
    assert next_enabled(wizard)
    wizard.next()
    assert wizard.currentId() == STATION

    station = wizard.station_page
    station.edits["name"].setText("")
    wizard.next()
    assert wizard.currentId() == STATION
    assert station.errors["name"].text().startswith("Enter a name")
    station.edits["name"].setText("WIZ-STATION")
    station.edits["location"].setText("Line 4")
    wizard.next()
    assert wizard.currentId() == CONVERTERS

    step = wizard.converters_page
    rows = {row.key: row for row in step.rows}
    wsjf, wstf = rows["wsjf"], rows["wstf"]
    wsjf.check.setChecked(True)  # its suggested folder is created for it
    gui.until(lambda: wsjf.folder.valid, 10, "the suggested folder")
    assert Path(wsjf.folder.text()).is_dir()
    wstf.check.setChecked(True)
    wstf.folder.set_text(wsjf.folder.text())
    gui.until(lambda: wstf.folder.check is not None, 10, "the folder check")
    assert wstf.folder.error.text().startswith("wsjf files use this folder too")
    assert not step.isComplete()
    assert not next_enabled(wizard)
    missing = tmp_path / "not-there"
    wstf.folder.set_text(str(missing))
    gui.until(lambda: wstf.folder.check is not None, 10, "the folder check")
    assert wstf.folder.error.text().startswith("This folder does not exist")
    assert not step.isComplete()
    other = tmp_path / "tester-b"
    other.mkdir()
    wstf.folder.set_text(str(other))
    gui.until(step.isComplete, 10, "both folders to pass")
    wizard.next()
    assert wizard.currentId() == STARTUP
    assert wizard.startup_page.at_login.isChecked()
    wizard.next()
    assert wizard.currentId() == FINISH
    summary = wizard.finish_page.summary.text()
    assert f"Server: {devserver.url}" in summary
    assert "Station: WIZ-STATION" in summary

    warnings: list[str] = []
    wizard.applied.connect(warnings.append)
    wizard.accept()
    gui.until(lambda: warnings, 60, "Finish to save everything")
    assert not wizard.isVisible()
    info = gui.station.call("config.get")
    config = info["config"]
    assert config["server"]["url"] == devserver.url
    assert info["token_set"] is True
    assert config["station"]["name"] == "WIZ-STATION"
    assert config["station"]["location"] == "Line 4"
    assert [(c["name"], c["watch_folder"]) for c in config["converters"]] == [
        ("wsjf", wsjf.folder.text()),
        ("wstf", str(other)),
    ]
    gui.until(lambda: gui.station.status()["server_state"] == "online", 30, "the worker online")
    watched = {c["name"] for c in gui.station.status()["converters"]}
    assert watched == {"wsjf", "wstf"}
    unit = gui.station.home / "xdg-config" / "systemd" / "user"
    assert any(unit.glob("wats-station-*.service")) or warnings[0]


def test_wizard_works_without_a_server(gui: Gui) -> None:
    wizard = open_wizard(gui)
    wizard.server_page.no_server.setChecked(True)
    wizard.next()
    assert wizard.currentId() == STATION  # nothing to test
    wizard.next()
    assert wizard.currentId() == CONVERTERS
    row = next(r for r in wizard.converters_page.rows if r.key == "wsjf")
    row.check.setChecked(True)
    gui.until(wizard.converters_page.isComplete, 10, "the folder")
    wizard.next()
    wizard.startup_page.at_login.setChecked(False)
    wizard.next()
    assert "Server: none yet – reports wait in the queue." in wizard.finish_page.summary.text()
    done: list[str] = []
    wizard.applied.connect(done.append)
    wizard.accept()
    gui.until(lambda: done, 30, "Finish")
    assert done == [""]
    config = gui.station.call("config.get")["config"]
    assert config["server"]["url"] is None
    assert [c["name"] for c in config["converters"]] == ["wsjf"]
    assert gui.station.status()["server_state"] == "not_configured"
