"""GUI tests: real widgets (offscreen), a real worker process (tests.fixtures.worker.Station)
and, where it matters, the real local WATS server.

The qasync loop drives both Qt and asyncio: `gui.run(coro)` runs until the coroutine is done
while Qt keeps painting and delivering signals, and `gui.until(condition)` polls a condition
that way (never a fixed sleep).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.gui import formats
from app.gui.async_ops import running_operations
from app.gui.context import GuiContext
from app.gui.gui_settings import GuiSettings
from app.gui.worker_link import WorkerLink
from tests.fixtures.worker import Station, station  # noqa: F401  (fixture)

T = TypeVar("T")

# The offscreen platform has no system tray and cannot raise windows; Qt says so as a warning
# (which would fail the test). Everything else Qt warns about still fails.
OFFSCREEN_LIMITS = (
    r".*systemTrayWindowChanged.*",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support propagateSizeHints\(\)",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_LIMITS))


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    # As in the application: closing the last window (a dialog, the wizard) must not quit.
    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)


class Gui:
    """One test's GUI side: the worker link, the page context, and ways to wait."""

    def __init__(self, qtbot: QtBot, loop: qasync.QEventLoop, worker: Station) -> None:
        self.qtbot = qtbot
        self.loop = loop
        self.station = worker
        self.instance = worker.instance
        self.link: WorkerLink | None = None
        self._context: GuiContext | None = None

    # ------------------------------------------------------------ waiting

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return self._drive(asyncio.wait_for(coro, timeout))

    def _drive(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run the loop until `coro` is done.

        Not run_until_complete(): qasync processes Qt events once more after it, with no
        running loop, and a task resumed there fails. (The application never returns from
        its run_until_complete, so only tests meet this.)
        """
        task = self.loop.create_task(coro)
        task.add_done_callback(lambda _task: self.loop.stop())
        self.loop.run_forever()
        if not task.done():
            task.cancel()
            raise AssertionError("the event loop stopped before the test's wait was over")
        result: T = task.result()
        return result

    def until(self, condition: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
        """Run the loop until `condition()` is truthy; fail after `timeout` seconds."""

        async def poll() -> Any:
            deadline = time.monotonic() + timeout
            while True:
                value = condition()
                if value:
                    return value
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"timed out after {timeout} s waiting for {what or condition}"
                    )
                await asyncio.sleep(0.02)

        return self._drive(poll())

    def settle(self, timeout: float = 20.0) -> None:
        """Wait until every background operation the UI started has finished."""
        self.until(lambda: running_operations() == 0, timeout, "background operations")

    def pump(self, seconds: float) -> None:
        """Let the loop run for a while (only to observe that something does NOT happen)."""
        self._drive(asyncio.sleep(seconds))

    # ------------------------------------------------------------ set-up

    def start_worker(self) -> None:
        self.station.start()

    def connect(self, *, spawn: bool = False) -> WorkerLink:
        if self.link is None:
            self.link = WorkerLink(self.instance)
        connected = self.run(self.link.start(spawn=spawn))
        assert connected, f"the GUI could not connect to the worker: {self.station.stderr()}"
        return self.link

    @property
    def context(self) -> GuiContext:
        if self._context is None:
            assert self.link is not None, "connect() first"
            from app.core.paths import InstancePaths

            self._context = GuiContext(
                instance=self.instance,
                link=self.link,
                paths=InstancePaths.for_instance(self.instance),
                settings=GuiSettings(self.instance),
            )
        return self._context

    def show(self, widget: QWidget) -> QWidget:
        self.qtbot.addWidget(widget)
        widget.resize(1240, 700)
        widget.show()
        return widget

    def page(self, cls: type[T]) -> T:
        page = cls(self.context)  # type: ignore[call-arg]
        self.show(page)  # type: ignore[arg-type]
        page.activate()  # type: ignore[attr-defined]
        return page

    def close(self) -> None:
        """Tear down on the UI thread: nothing of this test may live on into the next."""
        if self.link is not None:
            self.link.close()
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        for widget in app.topLevelWidgets():
            widget.close()
            widget.deleteLater()
        self.settle_quietly()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.processEvents()
        if self.link is not None:
            self.link.deleteLater()
            self.link = None
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()

    def settle_quietly(self) -> None:
        with contextlib.suppress(AssertionError):  # the loop fixture cancels what is left
            self.settle(5)


@pytest.fixture
def gui(
    qloop: qasync.QEventLoop,  # before qtbot: widgets are closed while the loop still exists
    qtbot: QtBot,
    station: Station,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Gui]:
    # The GUI must find the same instance folders and socket as the worker it talks to.
    monkeypatch.setenv("WATS_STATION_HOME", str(station.home))
    monkeypatch.setenv("WATS_STATION_SECRET_STORE", "file")
    monkeypatch.delenv("WATS_STATION_SERVER_URL", raising=False)
    monkeypatch.delenv("WATS_STATION_TOKEN", raising=False)
    # `service install` from the Settings page and the wizard writes here, not to ~/.config.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(station.home / "xdg-config"))
    formats.use_neutral_formats(True)  # the default; a test may switch it
    helper = Gui(qtbot, qloop, station)
    yield helper
    helper.close()


def kill_pid(pid: int) -> None:
    """Kill a worker this test spawned through the GUI (not the Station's own process)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers: look at its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return True
    return state != "Z"
