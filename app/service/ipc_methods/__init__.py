"""The worker's IPC methods (DESIGN.md §4; contract: docs/ipc.md "Worker methods").

Each module registers the methods of one area as thin adapters from validated params
(pydantic models, unknown keys refused) to the worker:

- service: status, service.stop/restart, uploads.pause/resume, logs.tail
- config: config.get/set, token.set, connection.test
- converters: converters.list/test
- queue: queue.stats/list/get/retry/resubmit/delete
- files: files.failed/retry
- yield_methods: yield.query, yield.targets.get/set, yield.server

`register_methods` also sets up the `queue` events (app.service.queue_events).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.service.ipc_methods import config, converters, files, queue, service, yield_methods
from app.service.ipc_methods._common import MethodContext
from app.service.queue_events import ObservedQueue, QueueEvents

if TYPE_CHECKING:
    from app.service.ipc_server import IpcServer
    from app.service.logs import LogBuffer
    from app.service.worker import Worker

__all__ = ["IpcMethods", "register_methods"]


class IpcMethods:
    """What run_service keeps of the registered methods: start, close, restart request."""

    def __init__(self, ctx: MethodContext, queue_events: QueueEvents | None) -> None:
        self._ctx = ctx
        self._queue_events = queue_events

    @property
    def restart_requested(self) -> bool:
        """A client asked for `service.restart`: start a fresh worker once this one stopped."""
        return self._ctx.restart_requested

    def start(self) -> None:
        """Start pushing `queue` events; call on the running event loop."""
        if self._queue_events is not None:
            self._queue_events.start()

    async def aclose(self) -> None:
        """Stop the test-conversion process and the queue events."""
        for close in self._ctx.closers:
            await close()
        if self._queue_events is not None:
            await self._queue_events.aclose()


def register_methods(server: IpcServer, worker: Worker, logs: LogBuffer) -> IpcMethods:
    ctx = MethodContext(server, worker, logs)
    for module in (service, config, converters, queue, files, yield_methods):
        module.register(ctx)
    events = None
    if isinstance(worker.queue, ObservedQueue):
        events = QueueEvents(worker.queue, worker.db, server.publish, worker.queue_counts_changed)
    return IpcMethods(ctx, events)
