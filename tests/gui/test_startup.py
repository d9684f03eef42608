"""Start-up: the GUI finds or starts the worker, the tray follows it at once when it dies and
brings it back, closing and quitting never stop the worker, and a second launch hands over
to the first GUI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from app.gui.app import GuiApp
from app.gui.icons import TrayState
from app.gui.single_instance import SingleInstance
from tests.gui.conftest import Gui, kill_pid, pid_alive


@pytest.fixture
def app(gui: Gui) -> Iterator[GuiApp]:
    gui.station.configure()  # a config exists: no first-run wizard
    application = GuiApp(gui.instance, minimized=True)
    yield application
    pid = (application.link.status or {}).get("pid")
    application.quit()
    if pid and pid_alive(pid):
        kill_pid(pid)
        gui.until(lambda: not pid_alive(pid), 10, "the spawned worker to end")


def test_starts_the_worker_when_none_answers_and_shows_its_state(gui: Gui, app: GuiApp) -> None:
    assert app.tray.state is TrayState.STOPPED  # before anything answers
    gui.run(app.start())
    assert app.link.connected
    status = app.link.status
    assert status is not None
    assert status["worker_state"] in ("starting", "running")
    # The worker is a separate, detached process, not a child of the test's own Station.
    assert gui.station.process is None
    assert status["pid"] != os.getpid()
    gui.until(lambda: app.tray.state is TrayState.OK, 10, "the tray to turn OK")
    assert app.tray.icon.toolTip().startswith("WATS Station – All reports uploaded")
    assert app.window is None  # started minimised: only the tray


def test_a_crashed_worker_shows_in_the_tray_at_once_and_can_be_restarted(
    gui: Gui, app: GuiApp
) -> None:
    gui.run(app.start())
    first_pid = app.link.status["pid"]  # type: ignore[index]
    killed_at = time.monotonic()
    kill_pid(first_pid)
    gui.until(lambda: app.tray.state is TrayState.STOPPED, 5, "the tray to show the stop")
    noticed_after = time.monotonic() - killed_at
    assert noticed_after < 2.0, f"the tray noticed the crash only after {noticed_after:.2f} s"
    assert app.tray.restart_action.text() == "Start worker"
    assert app.tray.notifications[-1][0] == "The WATS Station worker stopped"
    assert not app.tray.pause_action.isEnabled()

    app.tray.restart_action.trigger()
    gui.until(lambda: app.link.connected, 30, "the worker to be started again")
    second_pid = app.link.status["pid"]  # type: ignore[index]
    assert second_pid != first_pid
    assert app.tray.restart_action.text() == "Restart worker"
    gui.until(lambda: app.tray.state is TrayState.OK, 10, "the tray to turn OK again")


def test_restart_worker_replaces_a_running_worker(gui: Gui, app: GuiApp) -> None:
    gui.run(app.start())
    first_pid = app.link.status["pid"]  # type: ignore[index]
    assert gui.run(app.link.restart_worker(), timeout=60)
    gui.until(lambda: not pid_alive(first_pid), 30, "the old worker to end")
    assert app.link.status["pid"] != first_pid  # type: ignore[index]
    assert app.link.connected
    assert not app.tray.notifications  # an asked-for restart is not an alarm


def test_closing_the_window_keeps_the_tray_and_quitting_keeps_the_worker(
    gui: Gui, app: GuiApp
) -> None:
    gui.run(app.start())
    app.show_page("status")
    window = app.window
    assert window is not None
    assert window.isVisible()
    window.close()
    if app.tray.available():
        assert not window.isVisible()
    else:  # no system tray (as offscreen): the window stays reachable, minimised
        assert window.isMinimized()
    assert app.tray.icon.isVisible()
    assert app.link.connected
    pid = app.link.status["pid"]  # type: ignore[index]
    app.quit()
    assert not app.tray.icon.isVisible()
    gui.pump(0.5)
    assert pid_alive(pid), "quitting the GUI stopped the worker"
    assert gui.station.call("ping")["pid"] == pid


def test_a_second_launch_raises_the_first_window(gui: Gui, app: GuiApp) -> None:
    guard = SingleInstance(gui.instance)
    assert not guard.notify_running()
    assert guard.listen()
    guard.show_requested.connect(app.raise_window)
    try:
        gui.run(app.start())
        assert app.window is None
        second = subprocess.Popen(
            [sys.executable, "-m", "app", "--instance", gui.instance],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        gui.until(lambda: second.poll() is not None, 30, "the second launch to exit")
        out, err = second.communicate()
        assert second.returncode == 0, err
        assert "already open" in out
        gui.until(lambda: app.window is not None and app.window.isVisible(), 10, "the window")
    finally:
        guard.close()
