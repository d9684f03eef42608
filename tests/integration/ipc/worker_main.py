"""A tiny worker for the IPC tests: an IpcServer on QCoreApplication + qasync, as in the real
worker, with a few test methods. Run: `python worker_main.py --instance NAME`.

Exit codes: 0 after `shutdown`, 3 when another worker already runs for the instance.
Prints `READY <pid>` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from typing import Any

import qasync
from pydantic import BaseModel, ConfigDict, Field
from PySide6.QtCore import QCoreApplication

from app.ipc.protocol import ErrorCode, IpcError, NoParams, Topic
from app.service.ipc_server import AlreadyRunningError, IpcServer

EXIT_ALREADY_RUNNING = 3


class SleepParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=30)
    tag: str


class TypedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: int
    name: str


class EchoParams(BaseModel):
    value: Any = None


class PublishParams(BaseModel):
    topic: Topic
    data: Any = None


class SizeParams(BaseModel):
    size: int = Field(ge=0)


def status_payload() -> dict[str, Any]:
    """About 2 KB, shaped like the worker's status reply."""
    return {
        "state": "ok",
        "uploads_paused": False,
        "server": {"url": "https://wats.example.com", "reachable": True, "latency_ms": 41.5},
        "queue": {"queued": 12, "uploading": 2, "rejected": 0, "uploaded_today": 1234},
        "converters": [
            {
                "name": f"line-{i}",
                "converter": "wsjf",
                "enabled": True,
                "watch_folder": f"C:/TestData/line-{i}/out",
                "files_done": 1000 + i,
                "files_failed": i,
                "last_file": f"C:/TestData/line-{i}/out/UUT-{i:05d}.json",
            }
            for i in range(10)
        ],
        "alarms": [],
    }


def build_server(instance: str, loop: asyncio.AbstractEventLoop) -> IpcServer:
    server = IpcServer(instance)

    async def sleep(params: SleepParams) -> dict[str, Any]:
        await asyncio.sleep(params.seconds)
        return {"tag": params.tag}

    async def typed(params: TypedParams) -> dict[str, Any]:
        return {"count": params.count, "name": params.name}

    async def echo(params: EchoParams) -> Any:
        return params.value

    async def fail(_params: NoParams) -> None:
        raise RuntimeError("secret internal detail /home/someone/token=abc")

    async def missing(_params: NoParams) -> None:
        raise IpcError(ErrorCode.NOT_FOUND, "no report with that id")

    async def publish(params: PublishParams) -> dict[str, int]:
        data = {"sent_ns": time.perf_counter_ns(), "data": params.data}
        return {"receivers": server.publish(params.topic, data)}

    async def big(params: SizeParams) -> str:
        return "x" * params.size

    async def status(_params: NoParams) -> dict[str, Any]:
        return status_payload()

    async def shutdown(_params: NoParams) -> dict[str, bool]:
        # Answer first, then stop: the reply is written before the loop ends.
        loop.call_later(0.05, stop)
        return {"stopping": True}

    def stop() -> None:
        server.close()
        loop.stop()

    server.register("sleep", sleep, SleepParams)
    server.register("typed", typed, TypedParams)
    server.register("echo", echo, EchoParams)
    server.register("fail", fail)
    server.register("missing", missing)
    server.register("publish", publish, PublishParams)
    server.register("big", big, SizeParams)
    server.register("status", status)
    server.register("shutdown", shutdown)
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", default="default")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    # The real worker's setup: a QCoreApplication first, so qasync does not make a QApplication.
    app = QCoreApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    server = build_server(args.instance, loop)
    try:
        server.start()
    except AlreadyRunningError as exc:
        print(exc, file=sys.stderr, flush=True)
        return EXIT_ALREADY_RUNNING
    print(f"READY {QCoreApplication.applicationPid()}", flush=True)
    with loop:
        loop.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
