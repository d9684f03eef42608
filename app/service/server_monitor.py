"""Server timers of the worker: ping every 5 min (online/offline, clock skew), client update
every hour (registering first when a registration is configured). DESIGN.md §3, wats-api §2.2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import socket
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from app import __version__
from app.service.status import StatusModel

if TYPE_CHECKING:
    from app.wats import WatsClient

log = logging.getLogger("wats.server")

CLOCK_SKEW_LIMIT_S = 300.0


def station_mac() -> str:
    """This machine's MAC as WATS wants it: 12 uppercase hex digits without separators."""
    return f"{uuid.getnode():012X}"


def local_utc_offset() -> timedelta:
    offset = datetime.now().astimezone().utcoffset()
    return offset if offset is not None else timedelta(0)


def misc_info_xml(status: StatusModel) -> str:
    """Station info for Client/Update: computer, version, converter states, queue counts."""
    snap = status.current
    root = ET.Element("WATSStation", version=__version__)
    ET.SubElement(root, "Computer", name=socket.gethostname(), os=platform.platform())
    ET.SubElement(root, "Queue", {k: str(v) for k, v in snap.queue.items()})
    converters = ET.SubElement(root, "Converters")
    for conv in snap.converters:
        ET.SubElement(
            converters,
            "Converter",
            name=conv.name,
            type=conv.converter,
            state=conv.state,
            doneToday=str(conv.files_done_today),
            failedToday=str(conv.files_failed_today),
        )
    return ET.tostring(root, encoding="unicode")


class ServerMonitor:
    """Runs the ping and client-update timers against whatever client is current."""

    def __init__(
        self,
        status: StatusModel,
        client: Callable[[], WatsClient | None],
        *,
        station_name: Callable[[], str],
        registration: Callable[[], bool],
        on_registered: Callable[[str, str], None],
        ping_s: Callable[[], float],
        client_update_s: Callable[[], float],
        on_processes: Callable[[list[Any]], None] | None = None,
    ) -> None:
        self._status = status
        self._client = client
        self._station_name = station_name
        self._registration = registration
        self._on_registered = on_registered
        self._ping_s = ping_s
        self._client_update_s = client_update_s
        self._on_processes = on_processes
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    def poke(self) -> None:
        """Check now (new server URL or token)."""
        self._wake.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        next_ping = next_update = time.monotonic()
        while True:
            now = time.monotonic()
            if self._wake.is_set():
                self._wake.clear()
                next_ping = next_update = now
            if now >= next_ping:
                await self.ping_once()
                next_ping = time.monotonic() + self._ping_s()
            if now >= next_update and self._status.current.server_state == "online":
                await self.client_update_once()
                next_update = time.monotonic() + self._client_update_s()
            delay = max(1.0, min(next_ping, next_update) - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)

    async def ping_once(self) -> None:
        from app.wats import AuthenticationError, WatsError

        client = self._client()
        if client is None:
            self._status.update(server_state="not_configured", server_version=None)
            return
        try:
            ping = await client.ping()
            if self._status.current.server_version is None:
                self._status.update(server_version=await client.version())
        except AuthenticationError as exc:
            self._status.update(server_state="auth_failed", last_error=str(exc))
            return
        except WatsError as exc:
            if self._status.current.server_state != "offline":
                log.warning("server offline: %s", exc)
            self._status.update(server_state="offline", last_error=str(exc))
            return
        skew = (ping.server_time - datetime.now(UTC)).total_seconds()
        self._status.update(server_state="online", last_ping_at=time.time(), clock_skew_s=skew)
        if abs(skew) > CLOCK_SKEW_LIMIT_S:
            side = "ahead of" if skew < 0 else "behind"
            self._status.raise_alarm(
                "clock_skew",
                f"this station's clock is {abs(skew) / 60:.0f} minutes {side} the server's; "
                "report times will be off: fix the station's time settings",
            )
        else:
            self._status.clear_alarm("clock_skew")

    async def client_update_once(self) -> None:
        from app.wats import WatsError

        client = self._client()
        if client is None:
            return
        try:
            if self._registration():
                mac = station_mac()
                passcode = await client.register(mac, self._station_name(), version=__version__)
                log.info("registered this station with the server as %s", mac)
                self._on_registered(mac, passcode)
                client = self._client()
                if client is None:
                    return
            await client.update_client(
                self._station_name(), local_utc_offset(), misc_info_xml(self._status)
            )
        except WatsError as exc:
            log.warning("client update failed: %s", exc)
        client = self._client()
        if self._on_processes is None or client is None:
            return
        try:
            self._on_processes(list(await client.processes(include_wip=True)))
        except WatsError as exc:
            log.warning("could not read the server's process list: %s", exc)
