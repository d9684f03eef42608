"""Run a local server on its own event loop thread, for tests, the demo and selftest."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from app.devserver.auth import DEFAULT_TOKEN
from app.devserver.faults import Faults
from app.devserver.server import DevServer

T = TypeVar("T")
START_TIMEOUT_S = 15.0
CALL_TIMEOUT_S = 15.0


class RunningServer:
    """A handle on a server running in a background thread. Methods are thread-safe: they
    run on the server's loop and wait for the answer."""

    def __init__(self, server: DevServer, loop: asyncio.AbstractEventLoop) -> None:
        self._server = server
        self._loop = loop

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def token(self) -> str:
        return self._server.token

    @property
    def server(self) -> DevServer:
        return self._server

    def _call(self, func: Callable[[], T]) -> T:
        async def run() -> T:
            return func()

        return self._await(run())

    def _await(self, coro: Awaitable[T]) -> T:
        async def wrap() -> T:
            return await coro

        return asyncio.run_coroutine_threadsafe(wrap(), self._loop).result(CALL_TIMEOUT_S)

    def set_faults(self, **changes: Any) -> Faults:
        """Change fault settings; `reset=True` first clears all others."""
        return self._call(lambda: self._server.set_faults(**changes))

    def stats(self) -> dict[str, Any]:
        return self._call(self._server.state.store.stats)

    def reset(self) -> None:
        self._call(self._server.state.reset)

    @property
    def reports(self) -> dict[str, dict[str, Any]]:
        """A snapshot: canonical report id -> the stored WSJF (WSJF-shaped header for WSXF)."""
        return self._call(
            lambda: {rid: s.body for rid, s in self._server.state.store.reports.items()}
        )

    @property
    def client_logs(self) -> dict[str, str]:
        return self._call(lambda: dict(self._server.state.store.client_logs))


@contextmanager
def run_in_thread(
    host: str = "127.0.0.1", port: int = 0, token: str = DEFAULT_TOKEN, **options: Any
) -> Iterator[RunningServer]:
    """Start a DevServer in a daemon thread and stop it on exit.

    `options` are fault settings (fail_rate=..., outage=...) plus the DevServer keyword
    options processes, accept_unknown_process, clock_skew_s and fault_seed.
    """
    server_options = {
        key: options.pop(key)
        for key in ("processes", "accept_unknown_process", "clock_skew_s", "fault_seed")
        if key in options
    }
    server = DevServer(host, port, token, faults=options, **server_options)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop_requested: asyncio.Event | None = None
    failure: list[BaseException] = []

    async def main() -> None:
        nonlocal stop_requested
        stop_requested = asyncio.Event()
        try:
            await server.start()
        except BaseException as exc:
            failure.append(exc)
            started.set()
            return
        started.set()
        try:
            await stop_requested.wait()
        finally:
            await server.stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=run, name="wats-devserver", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT_S):
        raise RuntimeError("the local WATS server did not start in time")
    if failure:
        thread.join(START_TIMEOUT_S)
        raise failure[0]
    try:
        yield RunningServer(server, loop)
    finally:
        assert stop_requested is not None
        loop.call_soon_threadsafe(stop_requested.set)
        thread.join(START_TIMEOUT_S)
