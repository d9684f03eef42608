"""The GUI's link to its worker: find it, start it if none answers, follow its events, notice
at once when it goes away, and bring it back on request.

Wraps app.ipc.client.IpcClient. Widgets connect to the signals and call `request()`; nobody
polls. The latest status snapshot is kept in `status` so a page opened later can paint at once.

States: `connecting` (looking for or starting the worker), `connected`, `stopped` (no worker
answers: it was stopped or crashed). While stopped, the link keeps knocking once a second,
so a worker started by someone else (the OS at login, the command line) is picked up.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.launcher import spawn_worker
from app.gui.async_ops import current_loop
from app.ipc.client import IpcClient
from app.ipc.protocol import ErrorCode, IpcError, WorkerNotRunning

log = logging.getLogger("wats.gui.link")

# Always followed; "log" only while the Logs page is open (it can be chatty).
BASE_TOPICS = ("status", "queue", "file", "alarm")
FIRST_CONNECT_S = 0.3  # is a worker already there?
SPAWN_CONNECT_S = 20.0  # a worker we just started (a frozen one-file build unpacks first)
RESTART_COMEBACK_S = 8.0  # a restarting worker that brings itself back
RECONNECT_EVERY_S = 1.0
STOP_WAIT_S = 30.0


class LinkState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STOPPED = "stopped"


class WorkerLink(QObject):
    state_changed = Signal(str)
    status_changed = Signal(object)  # the status snapshot dict
    queue_changed = Signal(object)  # {"counts": {...}, "changed": [ids]}
    file_event = Signal(object)  # {"converter", "path", "outcome", "reason"?, "report_ids"}
    log_event = Signal(object)  # {"time", "level", "logger", "message"}
    alarm = Signal(object)  # {"raised", "kind", "subject", "message"?}
    worker_lost = Signal()  # the worker went away without being asked to

    def __init__(
        self,
        instance: str = "default",
        parent: QObject | None = None,
        *,
        spawn: Callable[[str], subprocess.Popen[bytes]] = spawn_worker,
    ) -> None:
        super().__init__(parent)
        self.instance = instance
        self.client = IpcClient(instance, self)
        self.client.event.connect(self._on_event)
        self.client.disconnected.connect(self._on_disconnected)
        self._spawn_process = spawn
        self._children: list[subprocess.Popen[bytes]] = []
        self._state = LinkState.STOPPED
        self._status: dict[str, Any] | None = None
        self._busy = False  # start/restart in progress: disconnects are expected
        self._watcher: asyncio.Task[None] | None = None
        self._log_users = 0

    # ------------------------------------------------------------ state

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def connected(self) -> bool:
        return self._state is LinkState.CONNECTED

    @property
    def status(self) -> dict[str, Any] | None:
        return self._status

    def _set_state(self, state: LinkState) -> None:
        if state is not self._state:
            log.info("worker link: %s -> %s", self._state.value, state.value)
            self._state = state
            self.state_changed.emit(state.value)

    def _set_status(self, status: dict[str, Any]) -> None:
        self._status = status
        self.status_changed.emit(status)

    # ------------------------------------------------------------ connecting

    async def start(self, *, spawn: bool = True) -> bool:
        """Connect to the worker, starting it (detached) if none answers. True if connected."""
        self._stop_watching()
        self._busy = True
        self._set_state(LinkState.CONNECTING)
        try:
            if await self._try_connect(FIRST_CONNECT_S):
                return True
            if spawn:
                self._spawn()
                if await self._try_connect(SPAWN_CONNECT_S):
                    return True
            self._went_away(unexpected=False)
            return False
        finally:
            self._busy = False

    async def _try_connect(self, timeout: float) -> bool:
        try:
            await self.client.connect_to_worker(timeout=timeout)
            if not self.client.topics:
                await self.client.subscribe(self._wanted_topics())
            status = await self.client.request("status", timeout=10.0)
        except IpcError as exc:
            if not isinstance(exc, WorkerNotRunning):
                log.warning("worker link: %s", exc)
            self.client.disconnect_from_worker()
            return False
        self._set_status(status)
        self._set_state(LinkState.CONNECTED)
        return True

    def _wanted_topics(self) -> list[str]:
        return [*BASE_TOPICS, "log"] if self._log_users else list(BASE_TOPICS)

    def _spawn(self) -> None:
        self._reap()
        log.info("no worker answers for instance %s: starting one", self.instance)
        self._children.append(self._spawn_process(self.instance))

    def _reap(self) -> None:
        """Collect the exit status of workers we started that have ended (no zombies)."""
        self._children = [p for p in self._children if p.poll() is None]

    def _on_disconnected(self) -> None:
        if self._busy:
            return
        self._went_away(unexpected=self._state is LinkState.CONNECTED)

    def _went_away(self, *, unexpected: bool) -> None:
        self._reap()
        if self._status is not None:
            self._set_status({**self._status, "worker_state": "stopped"})
        self._set_state(LinkState.STOPPED)
        if unexpected:
            log.warning("the worker went away")
            self.worker_lost.emit()
        self._start_watching()

    def _start_watching(self) -> None:
        if self._watcher is None or self._watcher.done():
            loop = current_loop()
            if loop is not None and not loop.is_closed():  # else shutting down
                self._watcher = loop.create_task(self._watch())

    def _stop_watching(self) -> None:
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()
        self._watcher = None

    async def _watch(self) -> None:
        while self._state is LinkState.STOPPED:
            await asyncio.sleep(RECONNECT_EVERY_S)
            if self._busy or self._state is not LinkState.STOPPED:
                return
            self._busy = True
            try:
                connected = await self._try_connect(0.2)
            finally:
                self._busy = False
            if connected:
                log.info("the worker is back")
                return

    # ------------------------------------------------------------ worker control

    async def restart_worker(self) -> bool:
        """Restart a running worker, or start a stopped one. True when connected again."""
        self._stop_watching()
        if not self.client.is_connected:
            return await self.start(spawn=True)
        self._busy = True
        try:
            self._set_state(LinkState.CONNECTING)
            try:
                await self.client.request("service.restart", timeout=10.0)
            except IpcError as exc:
                if exc.code != ErrorCode.UNKNOWN_METHOD:
                    raise
                await self.client.request("service.stop", timeout=10.0)
            await self._wait_disconnected(STOP_WAIT_S)
            if await self._try_connect(RESTART_COMEBACK_S):
                return True
            self._spawn()
            if await self._try_connect(SPAWN_CONNECT_S):
                return True
            self._went_away(unexpected=False)
            return False
        except IpcError:
            if not self.client.is_connected:
                self._went_away(unexpected=False)
            else:
                self._set_state(LinkState.CONNECTED)
            raise
        finally:
            self._busy = False

    async def _wait_disconnected(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.client.is_connected and loop.time() < deadline:
            await asyncio.sleep(0.05)
        self.client.disconnect_from_worker()

    # ------------------------------------------------------------ requests and events

    async def request(self, method: str, params: Any = None, timeout: float = 30.0) -> Any:
        """One IPC call; WorkerNotRunning while no worker is connected."""
        if not self.client.is_connected:
            raise WorkerNotRunning(self.instance)
        return await self.client.request(method, params, timeout=timeout)

    async def follow_logs(self, follow: bool) -> None:
        """Pages that show the live log call this on show (True) and hide (False)."""
        before = self._log_users
        self._log_users = max(0, before + (1 if follow else -1))
        if before == 0 and self._log_users == 1:
            await self.client.subscribe(["log"])
        elif before == 1 and self._log_users == 0:
            await self.client.unsubscribe(["log"])

    def _on_event(self, topic: str, data: Any) -> None:
        if topic == "status" and isinstance(data, dict):
            self._set_status(data)
        elif topic == "queue":
            self.queue_changed.emit(data)
        elif topic == "file":
            self.file_event.emit(data)
        elif topic == "log":
            self.log_event.emit(data)
        elif topic == "alarm":
            self.alarm.emit(data)

    def close(self) -> None:
        """Let go of the worker (it keeps running)."""
        self._stop_watching()
        self._busy = True
        self.client.disconnect_from_worker()
