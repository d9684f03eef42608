"""What every IPC method module shares: the params base model, error helpers, and running
blocking work off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict

from app.ipc.protocol import ErrorCode, IpcError
from app.service.queue_models import QueueError

if TYPE_CHECKING:
    from app.service.ipc_server import IpcServer
    from app.service.logs import LogBuffer
    from app.service.worker import Worker

T = TypeVar("T")


class Params(BaseModel):
    """Base of every method's params: unknown keys are refused (a typo must not pass)."""

    model_config = ConfigDict(extra="forbid")


def invalid_params(message: str) -> IpcError:
    return IpcError(ErrorCode.INVALID_PARAMS, message)


def not_found(message: str) -> IpcError:
    return IpcError(ErrorCode.NOT_FOUND, message)


def conflict(message: str) -> IpcError:
    return IpcError(ErrorCode.CONFLICT, message)


def unavailable(message: str) -> IpcError:
    return IpcError(ErrorCode.UNAVAILABLE, message)


STOPPING = "the worker is stopping; try again once it runs"


@dataclass
class MethodContext:
    """The worker and its parts, as the method modules see them."""

    server: IpcServer
    worker: Worker
    logs: LogBuffer
    # Set by service.restart: run_service starts a fresh worker once this one has stopped.
    restart_requested: bool = False
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def in_db(self, call: Callable[..., T], *args: object) -> T:
        """Run a queue call on the worker's database thread."""
        return await _run(self.worker.db, call, *args)

    async def in_thread(self, call: Callable[..., T], *args: object) -> T:
        """Run other blocking work (files, keyring, config file) on the default executor."""
        return await _run(None, call, *args)


async def _run(executor: Executor | None, call: Callable[..., T], *args: object) -> T:
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(executor, functools.partial(call, *args))
    except RuntimeError as exc:
        # "cannot schedule new futures after shutdown": the worker is stopping.
        if "shutdown" in str(exc):
            raise unavailable(STOPPING) from None
        raise
    except QueueError as exc:
        if "closed" in str(exc):
            raise unavailable(STOPPING) from None
        raise IpcError(ErrorCode.INTERNAL_ERROR, str(exc)) from None
