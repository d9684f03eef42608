"""Connection, Station and Settings pages against a real worker and the local WATS server:
fields load from the worker, edits are applied, bad input is refused next to its field."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from app.gui.pages.connection import ConnectionPage
from app.gui.pages.settings import SettingsPage
from app.gui.pages.station import StationPage
from tests.fixtures.devserver import DevServerProcess
from tests.gui.conftest import Gui


def closed_port_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def saved_server(gui: Gui) -> dict[str, Any]:
    server: dict[str, Any] = gui.station.call("config.get")["config"]["server"]
    return server


def open_connection_page(gui: Gui) -> ConnectionPage:
    page = gui.page(ConnectionPage)
    gui.until(lambda: page.config, 10, "the configuration to load")
    return page


def test_connection_fields_load_from_the_worker(gui: Gui, devserver: DevServerProcess) -> None:
    gui.station.configure(server=devserver)
    gui.start_worker()
    gui.connect()
    page = open_connection_page(gui)
    assert page.url.text() == devserver.url
    assert page.token.text() == ""  # never shown
    assert page.token.echoMode() == page.token.EchoMode.Password
    assert "A token is stored in this station's secrets file" in page.token_state.text()
    assert page.verify_tls.isChecked()


def test_an_invalid_url_is_refused_in_place(gui: Gui) -> None:
    gui.station.configure()
    gui.start_worker()
    gui.connect()
    page = open_connection_page(gui)
    page.url.setText("htp:/wats example")
    page.save()
    assert page.url_error.isVisible()
    assert page.url_error.text().startswith("This is not a server address. Enter the address")
    gui.settle()
    assert saved_server(gui)["url"] is None


def test_an_unreachable_server_is_refused_unless_saved_anyway(gui: Gui) -> None:
    gui.station.configure()
    gui.start_worker()
    gui.connect()
    page = open_connection_page(gui)
    url = closed_port_url()
    page.url.setText(url)
    page.token.setText("some-token")
    page.save()
    gui.until(page.save_anyway_button.isVisible, 30, "the test to fail")
    assert page.url_error.text() == "No server answers at this address. Check it, or the network."
    assert page.message_bar.text.text().startswith("Not saved: the connection does not work")
    assert page.checks.outcomes()["Server reachable"] == "Failed"
    assert saved_server(gui)["url"] is None

    page.save_anyway_button.click()
    gui.until(lambda: saved_server(gui)["url"] == url, 10, "the URL to be saved")
    gui.until(lambda: page.info.get("token_set"), 10, "the token to be stored")
    assert gui.station.status()["server_url"] == url


def test_a_wrong_token_is_refused_and_the_right_one_is_saved(
    gui: Gui, devserver: DevServerProcess
) -> None:
    gui.station.configure()
    gui.start_worker()
    gui.connect()
    page = open_connection_page(gui)
    page.url.setText(devserver.url)
    page.token.setText("not-the-token")
    page.save()
    gui.until(page.token_error.isVisible, 30, "the token to be refused")
    assert (
        page.token_error.text() == "The server refused this token. Paste a valid token from WATS."
    )
    assert page.checks.outcomes()["Token accepted"] == "Failed"
    assert not gui.station.call("config.get")["token_set"]

    page.token.setText(devserver.token)
    page.save()
    gui.until(lambda: gui.station.call("config.get")["token_set"], 30, "the token to be stored")
    gui.until(lambda: saved_server(gui)["url"] == devserver.url, 10, "the URL to be saved")
    assert page.checks.outcomes()["Token accepted"] == "OK"
    assert page.token.text() == ""  # cleared once stored
    gui.until(lambda: gui.station.status()["server_state"] == "online", 30, "the worker online")


def test_test_connection_reports_in_plain_words(gui: Gui, devserver: DevServerProcess) -> None:
    gui.station.configure(server=devserver)
    gui.start_worker()
    gui.connect()
    page = open_connection_page(gui)
    page.test_connection()
    gui.until(lambda: page.last_result is not None, 30, "the test result")
    outcomes = page.checks.outcomes()
    assert outcomes["Server reachable"] == "OK"
    assert outcomes["Token accepted"] == "OK"
    assert page.result_text.text().startswith("The connection works")


def test_station_identity_loads_saves_and_refuses_an_empty_name(gui: Gui) -> None:
    gui.station.configure()
    gui.start_worker()
    gui.connect()
    page = gui.page(StationPage)
    gui.until(lambda: page.config, 10, "the configuration")
    assert page.edits["name"].text() == "TEST-STATION"
    page.edits["name"].setText("   ")
    page.save()
    error = page.field_error_labels["station.name"]
    assert error.isVisible()
    assert "Enter a name" in error.text()

    page.edits["name"].setText("ICT-LINE-7")
    page.edits["location"].setText("Building 2")
    page.save()
    gui.until(
        lambda: gui.station.call("config.get")["config"]["station"]["name"] == "ICT-LINE-7",
        10,
        "the new name",
    )
    assert gui.station.call("config.get")["config"]["station"]["location"] == "Building 2"
    assert page.message_bar.text.text() == "Saved. The worker uses the new settings now."
    assert not error.isVisible()


def test_a_refusal_from_the_worker_lands_next_to_its_field(gui: Gui) -> None:
    gui.station.configure()
    gui.start_worker()
    gui.connect()
    page = gui.page(StationPage)
    gui.until(lambda: page.config, 10, "the configuration")
    bad = {**page.config, "station": {**page.config["station"], "name": "x" * 150}}
    page.send(bad)
    error = page.field_error_labels["station.name"]
    gui.until(error.isVisible, 10, "the worker's refusal")
    assert "at most 100 are allowed" in error.text()
    assert page.message_bar.text.text() == "Not saved: correct the fields marked below."


def test_settings_start_minimised_formats_and_start_at_login(gui: Gui) -> None:
    gui.station.configure()
    gui.start_worker()
    gui.connect()
    page = gui.page(SettingsPage)
    gui.until(lambda: page.config and page.registered is not None, 60, "settings to load")
    assert not page.start_minimised.isChecked()
    assert page.registered is False
    page.start_minimised.setChecked(True)
    gui.until(
        lambda: gui.station.call("config.get")["config"]["gui"]["start_minimised"] is True,
        10,
        "start_minimised to be saved",
    )
    page.regional.setChecked(True)
    assert gui.context.settings.neutral_formats is False

    # Start at login runs `wats-station service install` (systemd user unit under
    # XDG_CONFIG_HOME, which the gui fixture points into the test's folder).
    unit = Path(gui.station.home) / "xdg-config" / "systemd" / "user"
    page.start_at_login.setChecked(True)
    gui.until(page.start_at_login.isEnabled, 120, "service install to finish")
    gui.settle()
    if page.registered:
        assert any(unit.glob("wats-station-*.service"))
        page.start_at_login.setChecked(False)
        gui.until(lambda: page.registered is False, 120, "service uninstall")
        assert not any(unit.glob("wats-station-*.service"))
    else:
        # No service manager here: the box goes back and the reason is shown in place.
        assert not page.start_at_login.isChecked()
        assert page.login_output.isVisible()
        assert page.login_output.text()
