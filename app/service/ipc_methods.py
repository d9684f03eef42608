"""The worker's IPC methods (DESIGN.md §4): thin adapters from validated params to the worker."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from app.service.ipc_server import IpcServer
    from app.service.logs import LogBuffer
    from app.service.worker import Worker


class LogsTailParams(BaseModel):
    lines: int = Field(200, ge=1, le=5000)
    level: str | None = Field(None, pattern="^(?i)(debug|info|warning|error|critical)$")


def register_methods(server: IpcServer, worker: Worker, logs: LogBuffer) -> None:
    async def status(_params: Any) -> dict[str, Any]:
        return worker.status.snapshot()

    async def stop(_params: Any) -> dict[str, Any]:
        # Answer first, then stop: the caller gets its reply before the socket closes.
        asyncio.get_running_loop().call_later(0.05, worker.request_stop, "IPC service.stop")
        return {"stopping": True}

    async def pause(_params: Any) -> dict[str, Any]:
        worker.set_uploads_paused(True)
        return {"paused": True}

    async def resume(_params: Any) -> dict[str, Any]:
        worker.set_uploads_paused(False)
        return {"paused": False}

    async def logs_tail(params: LogsTailParams) -> list[dict[str, Any]]:
        return logs.tail(params.lines, params.level)

    server.register("status", status)
    server.register("service.stop", stop)
    server.register("uploads.pause", pause)
    server.register("uploads.resume", resume)
    server.register("logs.tail", logs_tail, LogsTailParams)
