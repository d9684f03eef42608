"""Run converters off the event loop, in separate processes, with a timeout (DESIGN.md §3).

A converter is code we do not control (plug-ins, odd files): it may raise, loop forever or
take its whole process down (os._exit, a crash in a C extension). None of that may stop the
worker, and only the file being converted may fail. So conversions run in a small pool of
long-lived child processes, each doing one file at a time over its own `multiprocessing`
pipe:

- a converter that raises → the file fails with the `ConversionError` text (line if known);
- one that hangs → its child is killed after `timeout_s` and the file fails with
  "the converter did not finish within 60 s";
- one that kills its process → "the converter process ended unexpectedly (exit code …)".

A dead or killed child is replaced by a fresh one before its next file; the other children
and the files they are converting are unaffected. (`ProcessPoolExecutor` is not used on
purpose: one dead child breaks its whole pool.) Children use the 'spawn' start method —
there is no fork in a Qt process, and it works in a frozen executable once `__main__` calls
`multiprocessing.freeze_support()`. They start lazily and stay warm.

Each child reads the file, hashes it (sha256), runs the converter and `finalize_reports`,
and sends back each report's id, header and WSJF bytes. Waiting on a child's pipe is
blocking, so each child has a thread in the parent that does the waiting; results are handed
to the event loop with `call_soon_threadsafe`. When files queue up, a child takes several at
once (one thread hand-off for the lot), which is what makes hundreds of files per second.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import hashlib
import importlib
import io
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.converters.base import (
    ConversionError,
    Converter,
    ConverterParameters,
    ConverterSource,
)
from app.converters.finalize import finalize_reports
from app.converters.plugins import PluginProblem, load_plugins
from app.converters.registry import builtin_converters
from app.core.report import ReportError
from app.core.report_header import ReportHeader, header_of

log = logging.getLogger("wats.conversion")

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_POOL_SIZE = 2
# How long a new child may take to import the converters before it counts as broken.
STARTUP_TIMEOUT_S = 60.0
# At most this many queued files go to a child in one hand-off.
MAX_BATCH = 16

FailureKind = Literal["error", "timeout", "crashed"]


@dataclass(frozen=True)
class ConversionJob:
    """One file to convert. Plain data: it crosses the process boundary."""

    path: str
    converter: str  # a registry or plug-in name, or "package.module:ClassName"
    parameters: ConverterParameters
    station_default: str
    # The server's process codes by lower-case name (see ConverterParameters.process_codes).
    process_codes: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ConvertedReport:
    """One finished report: its id (the upsert key), header columns and WSJF bytes."""

    id: str
    header: ReportHeader
    payload: bytes


@dataclass(frozen=True)
class ConversionFailure:
    """Why a file could not be converted, in words an operator can act on."""

    message: str
    kind: FailureKind = "error"
    line: int | None = None


@dataclass(frozen=True)
class ConvertResult:
    path: str
    converter: str
    converter_version: str = ""
    sha256: str | None = None
    reports: tuple[ConvertedReport, ...] = ()
    failure: ConversionFailure | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None


# ---------------------------------------------------------------------------- child side


class ConverterResolver:
    """Finds a converter class by name: built-ins, plug-in folders, entry points, or a
    "module:Class" reference (used by tests and for converters shipped as packages).

    Plug-ins load as `app.converters.plugins.load_plugins` loads them for `wats-station
    convert` and the GUI (built-ins keep their names, the first plug-in of a name wins, broken
    ones are problems), so every part of the station agrees on what a name means.
    """

    def __init__(self, plugin_dirs: Iterable[str | Path] = ()) -> None:
        self._plugin_dirs = tuple(Path(d) for d in plugin_dirs)
        self._plugins: dict[str, type[Converter]] | None = None
        self._problems: list[PluginProblem] = []
        self._cache: dict[str, type[Converter]] = {}

    def resolve(self, name: str) -> type[Converter]:
        found = self._cache.get(name)
        if found is None:
            found = self._find(name)
            self._cache[name] = found
        return found

    def _find(self, name: str) -> type[Converter]:
        if ":" in name:
            return _import_reference(name)
        builtins = builtin_converters()
        if name in builtins:
            return builtins[name]  # no plug-in code runs for a built-in
        plugins = self._load_plugins(builtins)
        if name in plugins:
            return plugins[name]
        known = ", ".join(sorted({*builtins, *plugins}))
        message = f"no converter named {name!r}; known converters: {known}"
        if self._problems:
            message += " (" + "; ".join(map(str, self._problems)) + ")"
        raise ConversionError(message)

    def _load_plugins(self, builtins: dict[str, type[Converter]]) -> dict[str, type[Converter]]:
        if self._plugins is None:
            self._plugins, self._problems = load_plugins(self._plugin_dirs, taken=builtins)
        return self._plugins


def _import_reference(reference: str) -> type[Converter]:
    module_name, _, attribute = reference.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConversionError(f"cannot load the converter {reference!r}: {exc}") from exc
    if not (isinstance(found, type) and issubclass(found, Converter)):
        raise ConversionError(f"{reference!r} is not a converter class")
    return found


def convert_file(job: ConversionJob, resolver: ConverterResolver | None = None) -> ConvertResult:
    """Convert one file in this process. The pool's children run this; so can a preview."""
    started = time.perf_counter()
    resolver = resolver or ConverterResolver()
    version = ""

    def failed(message: str, line: int | None = None, sha256: str | None = None) -> ConvertResult:
        return ConvertResult(
            path=job.path,
            converter=job.converter,
            converter_version=version,
            sha256=sha256,
            failure=ConversionFailure(message, "error", line),
            duration_s=time.perf_counter() - started,
        )

    try:
        converter_class = resolver.resolve(job.converter)
        version = str(getattr(converter_class, "version", ""))
        converter = converter_class()
    except ConversionError as exc:
        return failed(exc.message, exc.line)
    except Exception as exc:
        return failed(f"the converter {job.converter!r} cannot be started: {_describe(exc)}")
    try:
        data = Path(job.path).read_bytes()
    except OSError as exc:
        return failed(f"the file cannot be read: {exc.strerror or exc}")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        params = job.parameters
        if job.process_codes:
            params = dataclasses.replace(params, process_codes=job.process_codes)
        source = ConverterSource(Path(job.path), io.BytesIO(data), params)
        reports = converter.convert(source)
        if not reports:
            return failed("the converter found no report in the file", sha256=sha256)
        reports = finalize_reports(
            reports,
            converter=converter,
            params=params,
            file_sha256=sha256,
            station_default=job.station_default,
        )
        converted = tuple(
            ConvertedReport(id=str(report.id), header=header_of(report), payload=report.to_json())
            for report in reports
        )
    except ConversionError as exc:
        return failed(exc.message, exc.line, sha256)
    except ReportError as exc:
        return failed(str(exc), sha256=sha256)
    except MemoryError:
        return failed("the file is too large to convert (out of memory)", sha256=sha256)
    except (Exception, SystemExit) as exc:
        # A converter bug: say what it was without a traceback; the log has the details.
        log.warning("converter %s failed on %s", job.converter, job.path, exc_info=True)
        return failed(f"the converter failed: {_describe(exc)}", sha256=sha256)
    return ConvertResult(
        path=job.path,
        converter=job.converter,
        converter_version=version,
        sha256=sha256,
        reports=converted,
        duration_s=time.perf_counter() - started,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _child_main(conn: multiprocessing.connection.Connection, plugin_dirs: tuple[str, ...]) -> None:
    """The loop of a conversion child: one job in, one result out, until told to stop."""
    # Ctrl+C in a console reaches the whole process group; the parent decides when we stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    resolver = ConverterResolver(plugin_dirs)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if job is None:
            return
        conn.send(convert_file(job, resolver))


# ---------------------------------------------------------------------------- parent side


class _ChildProcess:
    """One conversion child and the parent's end of its pipe. Used by one thread at a time."""

    def __init__(self, context: Any, plugin_dirs: tuple[str, ...], index: int) -> None:
        self._context = context
        self._plugin_dirs = plugin_dirs
        self._index = index
        self.process: Any = None
        self.conn: multiprocessing.connection.Connection | None = None
        self.starts = 0

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    def ensure_started(self) -> None:
        if self.alive() and self.conn is not None:
            return
        self.discard()
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_child_main,
            args=(child_end, self._plugin_dirs),
            name=f"wats-converter-{self._index}",
            daemon=True,
        )
        process.start()
        child_end.close()  # so a dead child shows as EOF on our end
        self.process, self.conn = process, parent_end
        self.starts += 1
        ready = multiprocessing.connection.wait([parent_end, process.sentinel], STARTUP_TIMEOUT_S)
        message: object = None
        if parent_end in ready:
            with contextlib.suppress(EOFError, OSError):
                message = parent_end.recv()
        if not (isinstance(message, tuple) and message[:1] == ("ready",)):
            code = self._exit_code_after_kill()
            raise ConverterStartError(f"a converter process could not be started ({code})")

    def run(self, job: ConversionJob, timeout_s: float) -> ConvertResult:
        """Send one job and wait for its result, killing the child on a timeout or crash."""
        assert self.conn is not None
        assert self.process is not None
        started = time.perf_counter()
        conn = self.conn
        try:
            conn.send(job)
        except (OSError, ValueError):
            return self._crashed(job, started)
        ready = multiprocessing.connection.wait([conn, self.process.sentinel], timeout_s)
        if conn in ready:
            try:
                result = conn.recv()
            except (EOFError, OSError):
                return self._crashed(job, started)
            if isinstance(result, ConvertResult):
                return result
            return self._crashed(job, started)
        if not ready:
            self.discard()
            return _failure(
                job,
                f"the converter did not finish within {timeout_s:g} s",
                "timeout",
                started,
            )
        return self._crashed(job, started)

    def _crashed(self, job: ConversionJob, started: float) -> ConvertResult:
        code = self._exit_code_after_kill()
        return _failure(
            job, f"the converter process ended unexpectedly ({code})", "crashed", started
        )

    def _exit_code_after_kill(self) -> str:
        process = self.process
        if process is None:
            return "exit code unknown"
        process.join(timeout=2)
        exit_code = process.exitcode
        self.discard()
        return describe_exit_code(exit_code)

    def stop(self, timeout_s: float = 2.0) -> None:
        """Ask the child to exit, killing it if it does not."""
        if self.conn is not None and self.alive():
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            self.process.join(timeout=timeout_s)
        self.discard()

    def discard(self) -> None:
        """Kill the child (if still running) and drop our end of its pipe."""
        process, conn = self.process, self.conn
        self.process, self.conn = None, None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
            with contextlib.suppress(ValueError):
                process.close()


class ConverterStartError(RuntimeError):
    """No conversion process could be started: not the file's fault, so it is left in place."""


class PoolClosedError(RuntimeError):
    """The pool was closed before the file was converted: the file is left for next time."""


def describe_exit_code(exit_code: int | None) -> str:
    if exit_code is None:
        return "exit code unknown"
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"exit code {exit_code}, {name}"
    return f"exit code {exit_code}"


def _failure(job: ConversionJob, message: str, kind: FailureKind, started: float) -> ConvertResult:
    return ConvertResult(
        path=job.path,
        converter=job.converter,
        failure=ConversionFailure(message, kind),
        duration_s=time.perf_counter() - started,
    )


@dataclass
class _Pending:
    job: ConversionJob
    future: asyncio.Future[ConvertResult]


class ConversionPool:
    """N warm conversion children; `await pool.convert(job)` from the event loop.

    Files wait in one queue; a free child takes up to `MAX_BATCH` of them at once. Each
    result is handed back as soon as it is ready, so batching never delays a file.

    A child's thread takes the next batch itself and puts its child back in the pool itself,
    under a lock: only results go through the event loop, each to its caller's own loop. So
    a caller that gave up, or a loop that ended (a test's, a reload's), never strands a child.
    """

    def __init__(
        self,
        size: int = DEFAULT_POOL_SIZE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        plugin_dirs: Sequence[str | Path] = (),
    ) -> None:
        if size < 1:
            raise ValueError("the conversion pool needs at least one process")
        self.size = size
        self.timeout_s = timeout_s
        self._plugin_dirs = tuple(str(d) for d in plugin_dirs)
        context = multiprocessing.get_context("spawn")
        self._children = [_ChildProcess(context, self._plugin_dirs, i) for i in range(size)]
        # `_idle`, `_pending` and `_busy` are shared by the loop and the child threads.
        self._lock = threading.Lock()
        self._idle: collections.deque[_ChildProcess] = collections.deque(self._children)
        self._pending: collections.deque[_Pending] = collections.deque()
        self._busy = 0
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="wats-convert")
        self._closed = False
        self._stopping = threading.Event()

    @property
    def plugin_dirs(self) -> tuple[str, ...]:
        """The plug-in folders the children resolve converter names in."""
        return self._plugin_dirs

    @property
    def pending(self) -> int:
        """Files waiting for a free child (not counting those being converted)."""
        return len(self._pending)

    @property
    def busy(self) -> int:
        """Children converting a batch right now."""
        return self._busy

    def child_pids(self) -> list[int]:
        return [pid for child in self._children if (pid := child.pid) is not None]

    def restarts(self) -> int:
        """How many children were started after the first one of each slot (crash count)."""
        return sum(max(0, child.starts - 1) for child in self._children)

    async def convert(self, job: ConversionJob) -> ConvertResult:
        """Convert one file. Raises PoolClosedError if the pool closes first."""
        if self._closed:
            raise PoolClosedError("the conversion pool is closed")
        future: asyncio.Future[ConvertResult] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._pending.append(_Pending(job, future))
            child = self._idle.popleft() if self._idle else None
            if child is not None:
                self._busy += 1
        if child is not None:
            self._executor.submit(self._serve, child)
        return await future

    def _next_batch(self, child: _ChildProcess) -> list[_Pending]:
        """On a child's thread: its next files, or none (and the child back in the pool)."""
        with self._lock:
            batch: list[_Pending] = []
            while self._pending and len(batch) < MAX_BATCH and not self._stopping.is_set():
                item = self._pending.popleft()
                if not item.future.done():  # skip files whose caller gave up
                    batch.append(item)
            if not batch:
                self._busy -= 1
                self._idle.append(child)
            return batch

    def _serve(self, child: _ChildProcess) -> None:
        """On a pool thread: convert batches on `child` until no file is waiting."""
        while batch := self._next_batch(child):
            self._run_batch(child, batch)

    def _run_batch(self, child: _ChildProcess, batch: list[_Pending]) -> None:
        """Convert `batch` one file at a time on `child`, each result to its caller."""
        start_error: Exception | None = None
        for index, item in enumerate(batch):
            try:
                outcome = self._outcome(child, item, start_error)
            except Exception as exc:  # a bug of ours: never leave a caller waiting forever
                log.exception("conversion thread failed")
                for rest in batch[index:]:
                    _hand_back(rest.future, exc)
                child.discard()
                return
            if isinstance(outcome, ConverterStartError):
                start_error = outcome
            _hand_back(item.future, outcome)

    def _outcome(
        self, child: _ChildProcess, item: _Pending, start_error: Exception | None
    ) -> ConvertResult | BaseException:
        if self._stopping.is_set():
            return PoolClosedError("the conversion pool is closed")
        if start_error is not None:
            return start_error  # do not wait for another failed start per file
        outcome = self._run_one(child, item.job)
        if self._stopping.is_set() and not (isinstance(outcome, ConvertResult) and outcome.ok):
            # Killed by close(): not the file's fault, so it must not go to Error.
            return PoolClosedError("the conversion pool is closed")
        return outcome

    def _run_one(self, child: _ChildProcess, job: ConversionJob) -> ConvertResult | Exception:
        try:
            child.ensure_started()
        except (ConverterStartError, OSError) as exc:
            log.error("cannot start a converter process: %s", exc)
            return exc if isinstance(exc, ConverterStartError) else ConverterStartError(str(exc))
        result = child.run(job, self.timeout_s)
        if result.failure is not None and result.failure.kind != "error":
            log.warning("%s: %s", job.path, result.failure.message)
        return result

    async def close(self) -> None:
        """Stop the children (killing busy ones) and fail files still waiting."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        with self._lock:
            waiting = list(self._pending)
            self._pending.clear()
            busy = [child for child in self._children if child not in self._idle]
        for item in waiting:
            _hand_back(item.future, PoolClosedError("the conversion pool is closed"))
        for child in busy:
            process = child.process
            if process is not None:
                # Busy on a pool thread: killing it ends that thread's wait at once.
                with contextlib.suppress(Exception):
                    process.kill()
        await asyncio.to_thread(self._shutdown)

    def _shutdown(self) -> None:
        self._executor.shutdown(wait=True)
        for child in self._children:
            child.stop()


def _hand_back(
    future: asyncio.Future[ConvertResult], outcome: ConvertResult | BaseException
) -> None:
    """From any thread: settle `future` on its own loop (nobody to tell if that loop ended)."""
    with contextlib.suppress(RuntimeError):  # the loop is closed
        future.get_loop().call_soon_threadsafe(_resolve, future, outcome)


def _resolve(future: asyncio.Future[ConvertResult], outcome: ConvertResult | BaseException) -> None:
    if future.done():
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
