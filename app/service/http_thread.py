"""The worker's HTTP exchanges run on a thread of their own, on a plain asyncio loop.

httpx does a lot of small asyncio steps per request; under qasync each step is a Qt timer
event on the worker's main thread, which the pipeline and IPC need too. On its own loop the
same client costs less per request and leaves the main loop free (measured: bench/pipeline.py).
Callers on the main loop await `ThreadedClient` methods exactly as they would the client.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from app.wats import ReportInput

T = TypeVar("T")


class HttpThread:
    """A daemon thread running an asyncio loop until `close()`."""

    def __init__(self, name: str = "wats-http") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def run(self, make: Callable[[], Awaitable[T]]) -> T:
        """Run the coroutine `make()` on the HTTP loop; await its result from any loop."""

        async def runner() -> T:
            return await make()

        future = asyncio.run_coroutine_threadsafe(runner(), self.loop)
        return await asyncio.wrap_future(future)

    def close(self, timeout: float = 5.0) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


class ThreadedClient:
    """Wraps a client whose coroutine methods must run on the HTTP thread's loop.

    `await proxy.submit_wsjf(payload)` runs `client.submit_wsjf(payload)` there; plain
    attributes are read directly.
    """

    def __init__(self, client: Any, thread: HttpThread) -> None:
        self._client = client
        self._thread = thread

    @property
    def wrapped(self) -> Any:
        return self._client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not asyncio.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._thread.run(lambda: attr(*args, **kwargs))

        return call

    async def submit_wsjf(self, report: ReportInput, /) -> Any:
        return await self._thread.run(lambda: self._client.submit_wsjf(report))

    async def aclose(self) -> None:
        await self._thread.run(self._client.aclose)
