"""converters.list and converters.test.

A test conversion ("what would this file become?") runs like a real one: in a separate
process with the configured timeout, so a plug-in that hangs or crashes cannot harm the
worker. It has its own one-process pool, so a test is not queued behind a backlog of
production files; the process starts at the first test, stays warm while tests follow each
other, and is stopped after a quiet spell or when a plug-in file changes (a converter author
testing an edit must get the edited code).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from app.converters.base import ConversionError, ConverterParameters
from app.core.config import DEFAULT_PROCESS_CODE
from app.ipc.protocol import MAX_MESSAGE_BYTES, NoParams
from app.service.conversion import (
    ConversionJob,
    ConversionPool,
    ConverterStartError,
    ConvertResult,
    PoolClosedError,
)
from app.service.ipc_methods._common import (
    STOPPING,
    MethodContext,
    Params,
    invalid_params,
    unavailable,
)

log = logging.getLogger("wats.ipc.converters")

# Stop the test process after this long without a test.
IDLE_CLOSE_S = 120.0
# Reports beyond this many bytes are left out of a test reply (the summaries stay).
REPORT_BYTES_BUDGET = MAX_MESSAGE_BYTES // 2


class ConvertersTestParams(Params):
    converter: str = Field(min_length=1, max_length=200)
    path: str = Field(min_length=1, max_length=4096)
    parameters: dict[str, Any] = Field(default_factory=dict)
    mode: Literal["active", "import"] = "active"


def register(ctx: MethodContext) -> None:
    worker = ctx.worker
    plugin_dir = worker.paths.plugin_dir
    tester = TestConverter(plugin_dir)
    ctx.closers.append(tester.aclose)

    async def converters_list(_params: NoParams) -> dict[str, Any]:
        return await ctx.in_thread(list_converters, plugin_dir)

    async def converters_test(params: ConvertersTestParams) -> dict[str, Any]:
        config = worker.config
        path = Path(params.path).expanduser()
        if not path.is_absolute():
            raise invalid_params(f"path: {params.path!r} is not an absolute path")
        if not await ctx.in_thread(path.is_file):
            raise invalid_params(f"path: there is no file {path}")
        values: dict[str, Any] = {
            "fallback_process_code": DEFAULT_PROCESS_CODE,
            "station": config.station.name,
            "location": config.station.location,
            "purpose": config.station.purpose,
            "validation_mode": config.pipeline.validation_mode,
        }
        values.update({k: v for k, v in params.parameters.items() if v is not None})
        try:
            parameters = ConverterParameters.from_mapping(values, mode=params.mode)
        except ConversionError as exc:
            raise invalid_params(f"parameters: {exc.message}") from None
        job = ConversionJob(
            path=str(path),
            converter=params.converter.strip(),
            parameters=parameters,
            station_default=config.station.name,
        )
        try:
            result = await tester.convert(job, config.pipeline.convert_timeout_s)
        except PoolClosedError:
            raise unavailable(STOPPING) from None
        except ConverterStartError as exc:
            return {"ok": False, "error": str(exc), "line": None, "kind": "error"}
        return test_reply(result)

    ctx.server.register("converters.list", converters_list)
    ctx.server.register("converters.test", converters_test, ConvertersTestParams)


def list_converters(plugin_dir: Path) -> dict[str, Any]:
    """Every converter this worker can run (built-in and plug-in) and the plug-in problems."""
    from app.converters.registry import all_converters, builtin_converters

    builtins = builtin_converters()
    available, problems = all_converters([plugin_dir])
    return {
        "available": [
            {
                "name": name,
                "version": str(getattr(cls, "version", "")),
                "description": str(getattr(cls, "description", "")),
                "patterns": list(cls.patterns),
                "parameters": [_spec(spec) for spec in cls.parameter_specs()],
                "source": "builtin" if builtins.get(name) is cls else "plugin",
            }
            for name, cls in sorted(available.items())
        ],
        "problems": [{"source": p.source, "message": p.message} for p in problems],
    }


def _spec(spec: Any) -> dict[str, Any]:
    data = asdict(spec)
    data["choices"] = list(data.get("choices") or ())
    return data


def test_reply(result: ConvertResult) -> dict[str, Any]:
    """The reply of converters.test: the reports and one summary line each, or the error."""
    if result.failure is not None:
        return {
            "ok": False,
            "error": result.failure.message,
            "line": result.failure.line,
            "kind": result.failure.kind,
        }
    reports: list[dict[str, Any] | None] = []
    summary: list[dict[str, Any]] = []
    budget = REPORT_BYTES_BUDGET
    truncated = False
    for converted in result.reports:
        doc = json.loads(converted.payload)
        header = converted.header
        summary.append(
            {
                "id": converted.id,
                "type": header.type,
                "pn": header.pn,
                "sn": header.sn,
                "result": header.result,
                "steps": count_steps(doc.get("root")),
                "failing_step": header.failing_step_path or header.failing_step_name,
            }
        )
        budget -= len(converted.payload)
        if budget < 0:
            truncated = True
            reports.append(None)  # too much for one reply; the summary still lists it
        else:
            reports.append(doc)
    return {
        "ok": True,
        "converter": result.converter,
        "converter_version": result.converter_version,
        "reports": reports,
        "summary": summary,
        "reports_truncated": truncated,
        "duration_s": round(result.duration_s, 3),
    }


def count_steps(root: Any) -> int:
    """Steps below the root sequence (the root itself is not a test step)."""
    if not isinstance(root, dict):
        return 0
    total = 0
    pending = [root]
    while pending:
        step = pending.pop()
        children = step.get("steps")
        if isinstance(children, list):
            nested = [c for c in children if isinstance(c, dict)]
            total += len(nested)
            pending.extend(nested)
    return total


class TestConverter:
    """The one-process pool that runs test conversions, started and stopped on demand."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, plugin_dir: Path) -> None:
        self._plugin_dir = plugin_dir
        self._pool: ConversionPool | None = None
        self._plugins_seen: tuple[tuple[str, int, int], ...] = ()
        self._idle_timer: asyncio.TimerHandle | None = None
        self._running = 0
        self._closed = False
        self._closing: asyncio.Task[None] | None = None

    async def convert(self, job: ConversionJob, timeout_s: float) -> ConvertResult:
        if self._closed:
            raise PoolClosedError("the worker is stopping")
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        plugins = await asyncio.to_thread(_plugin_signature, self._plugin_dir)
        if self._pool is not None and plugins != self._plugins_seen and not self._running:
            await self._close_pool()  # a plug-in changed: the next test loads it afresh
        if self._pool is None:
            self._pool = ConversionPool(1, timeout_s, plugin_dirs=[self._plugin_dir])
            self._plugins_seen = plugins
        pool = self._pool
        pool.timeout_s = timeout_s
        self._running += 1
        try:
            return await pool.convert(job)
        finally:
            self._running -= 1
            if not self._running and not self._closed:
                loop = asyncio.get_running_loop()
                self._idle_timer = loop.call_later(IDLE_CLOSE_S, self._close_when_idle)

    def _close_when_idle(self) -> None:
        self._idle_timer = None
        if not self._running and self._pool is not None:
            pool, self._pool = self._pool, None
            self._closing = asyncio.get_running_loop().create_task(pool.close())
            self._closing.add_done_callback(_log_failure)

    async def _close_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def aclose(self) -> None:
        self._closed = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        await self._close_pool()
        if self._closing is not None:
            await asyncio.gather(self._closing, return_exceptions=True)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("stopping the test conversion process failed: %s", task.exception())


def _plugin_signature(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the plug-in files: changes when one is edited."""
    try:
        files = sorted(folder.glob("*.py"))
    except OSError:
        return ()
    signature: list[tuple[str, int, int]] = []
    for file in files:
        try:
            info = file.stat()
        except OSError:
            continue
        signature.append((file.name, info.st_size, info.st_mtime_ns))
    return tuple(signature)
