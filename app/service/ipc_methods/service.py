"""status, service.stop, service.restart, uploads.pause/resume, logs.tail."""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Literal

from pydantic import Field, field_validator

from app.core.config import StationConfig
from app.ipc.protocol import NoParams
from app.service.ipc_methods._common import MethodContext, Params

# The reply must leave before the worker starts closing its sockets.
REPLY_GRACE_S = 0.05


class LogsTailParams(Params):
    lines: int = Field(200, ge=1, le=5000)
    level: Literal["debug", "info", "warning", "error", "critical"] | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def register(ctx: MethodContext) -> None:
    worker = ctx.worker

    async def status(_params: NoParams) -> dict[str, Any]:
        return worker.status_now()

    async def stop(_params: NoParams) -> dict[str, Any]:
        asyncio.get_running_loop().call_later(
            REPLY_GRACE_S, worker.request_stop, "IPC service.stop"
        )
        return {"stopping": True}

    async def restart(_params: NoParams) -> dict[str, Any]:
        ctx.restart_requested = True
        asyncio.get_running_loop().call_later(
            REPLY_GRACE_S, worker.request_stop, "IPC service.restart"
        )
        return {"restarting": True}

    async def set_paused(paused: bool) -> dict[str, Any]:
        # Saved in config.json (so a restart keeps the choice); the file write and its fsync
        # run off the loop, applying the change runs on it.
        await ctx.in_thread(worker.store.update, functools.partial(_with_paused, paused))
        worker.reload_config()
        # The effective value: WATS_STATION_UPLOADS_PAUSED may override the saved choice.
        return {"paused": worker.config.uploads.paused}

    async def pause(_params: NoParams) -> dict[str, Any]:
        return await set_paused(True)

    async def resume(_params: NoParams) -> dict[str, Any]:
        return await set_paused(False)

    async def logs_tail(params: LogsTailParams) -> list[dict[str, Any]]:
        return ctx.logs.tail(params.lines, params.level)

    server = ctx.server
    server.register("status", status)
    server.register("service.stop", stop)
    server.register("service.restart", restart)
    server.register("uploads.pause", pause)
    server.register("uploads.resume", resume)
    server.register("logs.tail", logs_tail, LogsTailParams)


def _with_paused(paused: bool, config: StationConfig) -> StationConfig:
    uploads = config.uploads.model_copy(update={"paused": paused})
    return config.model_copy(update={"uploads": uploads})
