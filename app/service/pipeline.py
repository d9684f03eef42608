"""The worker's file pipeline: watch → settle → convert → queue → post-action (DESIGN.md §3).

Per configured converter, each source file goes `seen → settling → converting → done |
failed`:

- seen: from a watcher event (a hint) or a folder scan (at start, every `rescan_s`, and
  after a folder comes back); `notify(path)` and `scan()` are the two ways in;
- settling: `app.service.settle` waits until the writer is done with it;
- converting: `app.service.conversion` runs the converter in a child process with a
  timeout; at most `max_converting` files are handed to the pool at once;
- done: the reports are committed to the queue — several files per transaction through the
  `EnqueueBatcher` — and only *then* the post-action (move/delete/zip/keep) runs;
- failed: the file goes to the Error folder with a `.error.txt` sidecar and is logged in the
  queue's source-files table.

Nothing is dropped silently. A failed commit (disk full, I/O error) leaves the file where it
is, raises the `write_failed` alarm and retries every `storage_retry_s`; a failed
post-action leaves the file where it is and retries at the next scan — its reports are
already queued, and the queue's insert-or-ignore by id stores nothing twice.

Everything here runs on the worker's asyncio loop (qasync in the worker, plain asyncio in
tests); blocking work goes to executors: queue calls to one thread (`db_executor`), file
operations, hashing and scans to another small pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from app.converters.base import ConversionError, ConverterParameters
from app.converters.registry import all_converters, builtin_converters
from app.core.clock import Clock, SystemClock
from app.core.config import ConverterConfig, StationConfig, converter_parameters
from app.core.report_header import ReportHeader as CoreHeader
from app.service.conversion import (
    ConversionJob,
    ConversionPool,
    ConverterStartError,
    ConvertResult,
    PoolClosedError,
)
from app.service.enqueue_batcher import EnqueueBatcher
from app.service.post_actions import (
    FailureDetails,
    PostActionError,
    move_to_error,
    run_post_action,
)
from app.service.queue_models import (
    EnqueueResult,
    FileCounts,
    QueuedReport,
    QueueError,
    ReportHeader,
    SourceBatch,
)
from app.service.settle import FileSignature, file_signature, wait_until_settled
from app.service.status import ConverterState, ConverterStatus
from app.service.watcher import FileFilter, FolderWatcher, folder_identity, scan_folder

log = logging.getLogger("wats.pipeline")

T = TypeVar("T")


# Busy pipelines change state hundreds of times a second; the worker hears it at most this
# often (each notice means "read stats() again").
STATE_CHANGE_DELAY_S = 0.1
# How long after the last file of a burst the folders are listed again (see _scan_after_burst).
BURST_RESCAN_DELAY_S = 0.5
# ... and only after a burst this large (a kernel event queue overflows only in big bursts).
BURST_RESCAN_MIN_FILES = 200
# A converter that fails this many files in a row raises the converter_failing alarm.
FAILURES_FOR_ALARM = 3
# Errors that mean "the queue could not be written", not "this file is bad".
STORAGE_ERRORS: tuple[type[BaseException], ...] = (QueueError, sqlite3.Error, OSError)


class PipelineStore(Protocol):
    """What the pipeline needs from the queue. `QueueStore` adapts `ReportQueue`."""

    def enqueue_files(self, batches: Sequence[SourceBatch]) -> list[EnqueueResult]: ...

    def record_failed_file(self, converter: str, path: str, sha256: str, error: str) -> str: ...

    def files_today(self, converter: str, since: float) -> FileCounts: ...

    def is_file_done(self, converter: str, sha256: str, path: str) -> bool: ...


class QueueStore:
    """`ReportQueue` as the pipeline's store (tests wrap it to inject storage failures)."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def enqueue_files(self, batches: Sequence[SourceBatch]) -> list[EnqueueResult]:
        result: list[EnqueueResult] = self.queue.enqueue_files(batches)
        return result

    def record_failed_file(self, converter: str, path: str, sha256: str, error: str) -> str:
        return str(self.queue.record_failed_file(converter, path, sha256, error))

    def files_today(self, converter: str, since: float) -> FileCounts:
        counts: FileCounts = self.queue.files_today(converter, since)
        return counts

    def is_file_done(self, converter: str, sha256: str, path: str) -> bool:
        return bool(self.queue.file_done(converter, sha256, path))


def _noop(*_args: object) -> None:
    return None


@dataclass
class PipelineCallbacks:
    """Hooks the worker connects to its status model and IPC events. All run on the loop."""

    on_reports_queued: Callable[[int], None] = _noop
    on_file_done: Callable[[Path, list[str]], None] = _noop
    on_file_failed: Callable[[Path, str], None] = _noop
    # (kind, message, subject): matches StatusModel.raise_alarm; subject = converter name
    # for per-converter alarms, "" for the queue.
    on_alarm: Callable[[str, str, str], None] = _noop
    on_alarm_cleared: Callable[[str, str], None] = _noop
    on_state_change: Callable[[], None] = _noop


@dataclass
class _Memo:
    """A file we already dealt with, valid while its size and mtime are unchanged."""

    signature: FileSignature
    kind: Literal["committed", "failed", "kept"]
    report_ids: list[str] = field(default_factory=list)
    failure: FailureDetails | None = None


@dataclass
class _Runtime:
    config: ConverterConfig
    params: ConverterParameters | None
    params_error: str | None
    file_filter: FileFilter
    stats: ConverterStatus
    watcher: FolderWatcher | None = None
    identity: tuple[int, int] | None = None
    folder_missing: bool = False
    converting: int = 0
    failures_in_a_row: int = 0
    day: date | None = None
    retired: bool = False
    # One (re)start of the watcher at a time: events and the folder check both trigger it.
    watch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def name(self) -> str:
        return self.config.name


@dataclass
class _FileTask:
    runtime: _Runtime
    path: Path
    closed: asyncio.Event
    task: asyncio.Task[None] | None = None
    stage: Literal["settling", "converting", "committing", "post-action"] = "settling"


def default_patterns(converter: str, plugin_dirs: Sequence[str | Path] = ()) -> tuple[str, ...]:
    """The file patterns of a converter when its config lists none: a built-in's, else those
    of the plug-in of that name in `plugin_dirs` (or an entry point), else every file."""
    cls = builtin_converters().get(converter)
    if cls is None:
        # Loaded as the conversion children and the GUI load them; a broken plug-in is
        # reported by them, here it only means "no patterns known".
        cls = all_converters(plugin_dirs)[0].get(converter)
    return tuple(cls.patterns) if cls is not None else ("*",)


def queue_header(header: CoreHeader) -> ReportHeader:
    """The queue's header columns from the report model's header."""
    return ReportHeader(
        type=header.type,
        pn=header.pn,
        rev=header.rev,
        sn=header.sn,
        process_code=header.process_code,
        process_name=header.process_name,
        result=header.result,
        start=header.start.isoformat(),
        start_utc=header.start_utc.timestamp(),
        station=header.station,
        location=header.location,
        purpose=header.purpose,
        operator=header.operator,
        fixture_id=header.fixture_id,
        batch_sn=header.batch_sn,
        socket_index=header.socket_index,
        failing_step_name=header.failing_step_name,
        failing_step_path=header.failing_step_path,
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _key(path: Path) -> str:
    return os.path.normcase(os.path.abspath(path))


def _changed_only(paths: list[Path], known: dict[str, FileSignature]) -> list[Path]:
    """The paths whose size or mtime differ from what `known` remembers (or that are new)."""
    return [p for p in paths if (k := _key(p)) not in known or file_signature(p) != known[k]]


def _plain(exc: BaseException) -> str:
    """One line for an operator: the message of a storage error, without a traceback."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc).strip() or type(exc).__name__


class Pipeline:
    """All configured converters' folders, from file event to queued report."""

    def __init__(
        self,
        store: PipelineStore,
        pool: ConversionPool,
        *,
        station_name: str,
        clock: Clock | None = None,
        callbacks: PipelineCallbacks | None = None,
        settle_ms: int = 500,
        rescan_s: float = 60.0,
        folder_check_s: float = 2.0,
        storage_retry_s: float = 5.0,
        max_converting: int | None = None,
        max_active: int = 1024,
        batch_window_s: float = 0.02,
        batch_max_files: int = 64,
        db_executor: Executor | None = None,
    ) -> None:
        self._store = store
        self._pool = pool
        self._station_name = station_name
        self._clock: Clock = clock if clock is not None else SystemClock()
        self.callbacks = callbacks if callbacks is not None else PipelineCallbacks()
        self.settle_ms = settle_ms
        self.rescan_s = rescan_s
        self._folder_check_s = folder_check_s
        self._storage_retry_s = storage_retry_s
        self._max_active = max_active
        self._converting = asyncio.Semaphore(max_converting or pool.size * 16)
        self._own_db_executor = db_executor is None
        self._db_executor: Executor = db_executor or ThreadPoolExecutor(
            1, thread_name_prefix="wats-pipeline-db"
        )
        self._file_executor = ThreadPoolExecutor(2, thread_name_prefix="wats-pipeline-files")
        self._batcher = EnqueueBatcher(
            store.enqueue_files,
            self._db_executor,
            window_s=batch_window_s,
            max_files=batch_max_files,
        )
        # The server's process codes by lower-case name; the worker keeps it current.
        self.process_codes: dict[str, int] = {}
        self._runtimes: dict[str, _Runtime] = {}
        self._active: dict[str, _FileTask] = {}
        self._backlog: OrderedDict[str, tuple[Path, bool]] = OrderedDict()
        self._memo: dict[str, _Memo] = {}
        self._storage_waiting: dict[str, Path] = {}
        self._renotify: set[Path] = set()
        self._alarms: dict[tuple[str, str], str] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self._periodic: list[asyncio.Task[None]] = []
        self._storage_retry_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._state_change_pending = False
        self._burst_scan_pending = False
        self._finished_since_scan = 0
        self._started = False
        self._stopping = False

    # ------------------------------------------------------------------ lifecycle

    async def start(
        self,
        converters: Sequence[ConverterConfig] | None = None,
        station: StationConfig | None = None,
    ) -> None:
        """Start watching the converters' folders and scan them once.

        `converters` (or `station.converters`) replaces what `apply_config` set before;
        None keeps it.
        """
        if self._started:
            return
        self._loop = asyncio.get_running_loop()
        if converters is None and station is not None:
            converters = station.converters
        if converters is not None:
            self.apply_config(converters, station=station)
        self._started = True
        for rt in list(self._runtimes.values()):
            self._spawn(self._activate(rt))
        self._periodic = [
            self._loop.create_task(self._every(lambda: self.rescan_s, self.scan), name="rescan"),
            self._loop.create_task(
                self._every(lambda: self._folder_check_s, self._check_folders),
                name="folder-check",
            ),
        ]

    async def stop(self) -> None:
        """Stop watching and converting. Files not yet committed stay where they are."""
        if self._stopping:
            return
        self._stopping = True
        tasks = [*self._periodic, *self._background]
        if self._storage_retry_task is not None:
            tasks.append(self._storage_retry_task)
        tasks += [t.task for t in self._active.values() if t.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._active.clear()
        self._backlog.clear()
        watchers = [rt.watcher for rt in self._runtimes.values() if rt.watcher is not None]
        for rt in self._runtimes.values():
            rt.watcher = None
        await asyncio.to_thread(self._shutdown_threads, watchers)

    def _shutdown_threads(self, watchers: list[FolderWatcher]) -> None:
        for watcher in watchers:
            watcher.stop()
        self._file_executor.shutdown(wait=True)
        if self._own_db_executor:
            self._db_executor.shutdown(wait=True)

    @property
    def idle(self) -> bool:
        """No file is being settled, converted, committed or post-processed."""
        return not self._active and not self._backlog and not self._batcher.busy

    @property
    def commits(self) -> int:
        """Queue transactions so far (several files each when busy)."""
        return self._batcher.commits

    def stats(self) -> list[ConverterStatus]:
        """Copies of every converter's status, so the caller may keep them."""
        for rt in self._runtimes.values():
            self._roll_day(rt)
        return [replace(rt.stats) for rt in self._runtimes.values()]

    def alarms(self) -> dict[tuple[str, str], str]:
        """Raised alarms: (kind, subject) → message."""
        return dict(self._alarms)

    # ------------------------------------------------------------------ configuration

    def apply_config(
        self, converters: Sequence[ConverterConfig], *, station: StationConfig | None = None
    ) -> None:
        """Add, remove and change converters live; a new folder is watched at once.

        With `station`, parameters include the station defaults (name, location, purpose,
        validation mode) and the settle/rescan settings are taken from it.
        """
        if station is not None:
            self._station_name = station.station.name
            self.settle_ms = station.pipeline.settle_ms
            self.rescan_s = float(station.timers.rescan_s)
        wanted = {c.name: c for c in converters}
        for name, rt in list(self._runtimes.items()):
            config = wanted.get(name)
            params = self._parameters_of(config, station) if config is not None else None
            if config is None or config != rt.config or params != (rt.params, rt.params_error):
                self._retire(rt)
        for name, config in wanted.items():
            if name not in self._runtimes:
                self._runtimes[name] = self._make_runtime(config, station)
                if self._started:
                    self._spawn(self._activate(self._runtimes[name]))
        self._state_changed()

    def _parameters_of(
        self, config: ConverterConfig, station: StationConfig | None
    ) -> tuple[ConverterParameters | None, str | None]:
        values = converter_parameters(station, config) if station is not None else config.parameters
        try:
            return ConverterParameters.from_mapping(values, mode=config.mode), None
        except ConversionError as exc:
            return None, f"bad converter settings: {exc.message}"

    def _make_runtime(self, config: ConverterConfig, station: StationConfig | None) -> _Runtime:
        params, params_error = self._parameters_of(config, station)
        excluded = (config.effective_done_folder(), config.effective_error_folder())
        file_filter = FileFilter(
            folder=config.watch_folder,
            patterns=tuple(config.patterns)
            or default_patterns(config.converter, self._pool.plugin_dirs),
            recursive=config.recursive,
            excluded_dirs=excluded,
        )
        stats = ConverterStatus(
            name=config.name,
            converter=config.converter,
            folder=str(config.watch_folder),
            enabled=config.enabled,
            state="idle" if config.enabled else "disabled",
        )
        if params_error is not None:
            stats.state, stats.last_error = "error", params_error
        return _Runtime(config, params, params_error, file_filter, stats)

    def _retire(self, rt: _Runtime) -> None:
        """Stop a converter that was removed or changed; files mid-conversion finish."""
        rt.retired = True
        self._runtimes.pop(rt.name, None)
        watcher, rt.watcher = rt.watcher, None
        if watcher is not None:
            self._spawn(self._in_files(watcher.stop))
        for item in list(self._active.values()):
            if item.runtime is rt and item.stage == "settling" and item.task is not None:
                item.task.cancel()
        for key in [k for k, (p, _) in self._backlog.items() if rt.file_filter.accepts(p)]:
            del self._backlog[key]
        for kind in ("folder_missing", "converter_failing", "write_failed"):
            self._clear_alarm(kind, rt.name)

    async def _activate(self, rt: _Runtime) -> None:
        """Load today's counts, start the watcher (if the folder exists) and scan it."""
        with contextlib.suppress(*STORAGE_ERRORS):
            since = datetime.combine(self._today(), datetime.min.time()).timestamp()
            counts = await self._in_db(self._store.files_today, rt.name, since)
            rt.stats.files_done_today = counts.done
            rt.stats.files_failed_today = counts.failed
            rt.day = self._today()
        if not rt.config.enabled or rt.params_error is not None or rt.retired:
            self._state_changed()
            return
        await self._ensure_watching(rt)

    async def _ensure_watching(self, rt: _Runtime) -> None:
        """(Re)start the watcher when needed and scan; report a missing folder."""
        async with rt.watch_lock:
            restarted = await self._restart_watcher_if_needed(rt)
        if restarted:
            await self._scan_runtime(rt)

    async def _restart_watcher_if_needed(self, rt: _Runtime) -> bool:
        """True when a watcher was (re)started, so the folder needs a scan."""
        folder = rt.config.watch_folder
        identity = await self._in_files(folder_identity, folder)
        if rt.retired:
            return False
        if identity is None:
            if not rt.folder_missing:
                rt.folder_missing = True
                message = f"the watch folder {folder} does not exist or cannot be reached"
                rt.stats.state, rt.stats.last_error = "error", message
                self._raise_alarm("folder_missing", f"{rt.name}: {message}", rt.name)
            watcher, rt.watcher = rt.watcher, None
            if watcher is not None:
                await self._in_files(watcher.stop)
            return False
        if rt.watcher is not None and rt.identity == identity and rt.watcher.is_current():
            return False
        loop = asyncio.get_running_loop()
        watcher = FolderWatcher(
            rt.file_filter, self._watch_event(rt), loop, polling=rt.config.polling
        )
        old, rt.watcher = rt.watcher, None
        if old is not None:
            await self._in_files(old.stop)
        started: FolderWatcher | None = watcher
        try:
            await self._in_files(watcher.start)
        except OSError as exc:
            # No OS events for this folder (e.g. the inotify limit): scans still find files.
            log.warning("cannot watch %s (%s); relying on rescans", folder, _plain(exc))
            started = None
        if rt.retired:
            if started is not None:
                await self._in_files(started.stop)
            return False
        rt.watcher, rt.identity = started, identity
        if rt.folder_missing:
            rt.folder_missing = False
            rt.stats.last_error = None
            self._clear_alarm("folder_missing", rt.name)
        self._update_state(rt)
        return True

    def _watch_event(self, rt: _Runtime) -> Callable[[Path | None, bool], None]:
        def on_event(path: Path | None, closed: bool) -> None:
            if rt.retired or self._stopping:
                return
            if path is None:
                self._spawn(self._ensure_watching(rt))
            else:
                self.notify(path, closed=closed)

        return on_event

    # ------------------------------------------------------------------ ways in

    def notify(self, path: Path | str, closed: bool = False) -> None:
        """A file may be new or changed (a watcher event, or a test). Cheap; never blocks.

        `closed` says the writer has just closed it (Linux), which ends the settle wait.
        """
        if self._stopping:
            return
        path = Path(path)
        key = _key(path)
        active = self._active.get(key)
        if active is not None:
            if closed:
                active.closed.set()
            return
        rt = self._runtime_for(path)
        if rt is None:
            return
        if len(self._active) >= self._max_active:
            previous = self._backlog.pop(key, (path, False))
            self._backlog[key] = (path, closed or previous[1])
            return
        self._start_file(rt, path, key, closed)

    async def scan(self) -> int:
        """Look at every watched folder now; returns how many candidate files it found."""
        self._finished_since_scan = 0
        found = 0
        for rt in list(self._runtimes.values()):
            if rt.config.enabled and rt.params_error is None and not rt.retired:
                found += await self._scan_runtime(rt)
        return found

    async def _scan_runtime(self, rt: _Runtime) -> int:
        try:
            paths = await self._in_files(scan_folder, rt.file_filter)
        except OSError as exc:
            if await self._in_files(folder_identity, rt.config.watch_folder) is None:
                await self._ensure_watching(rt)  # reports the folder as missing
            else:
                rt.stats.last_error = f"cannot list {rt.config.watch_folder}: {_plain(exc)}"
                log.warning("%s: %s", rt.name, rt.stats.last_error)
                self._state_changed()
            return 0
        seen = {_key(p) for p in paths}
        self._forget_memos(rt, seen)
        kept = {k: m.signature for k, m in self._memo.items() if m.kind == "kept" and k in seen}
        if kept:
            # Kept files stay in the folder for good: skip the unchanged ones without a
            # settle wait each (one stat per file, off the loop).
            paths = await self._in_files(_changed_only, paths, kept)
        for path in paths:
            self.notify(path)
        return len(paths)

    def _forget_memos(self, rt: _Runtime, present: set[str]) -> None:
        """Drop what we remembered about files of `rt` that are no longer there."""
        for key in [k for k in self._memo if k not in present]:
            if rt.file_filter.accepts(key):
                del self._memo[key]

    def _runtime_for(self, path: Path) -> _Runtime | None:
        for rt in self._runtimes.values():
            if (
                rt.config.enabled
                and rt.params_error is None
                and not rt.retired
                and rt.file_filter.accepts(path)
            ):
                return rt
        return None

    def _start_file(self, rt: _Runtime, path: Path, key: str, closed: bool) -> None:
        assert self._loop is not None, "start() the pipeline first"
        item = _FileTask(rt, path, asyncio.Event())
        if closed:
            item.closed.set()
        self._active[key] = item
        item.task = self._loop.create_task(self._process(item, key))

    def _file_finished(self, key: str) -> None:
        self._active.pop(key, None)
        self._finished_since_scan += 1
        while self._backlog and len(self._active) < self._max_active and not self._stopping:
            next_key, (path, closed) = self._backlog.popitem(last=False)
            rt = self._runtime_for(path)
            if rt is not None and next_key not in self._active:
                self._start_file(rt, path, next_key, closed)
        if (
            not self._active
            and not self._backlog
            and not self._stopping
            and self._finished_since_scan >= BURST_RESCAN_MIN_FILES
        ):
            self._scan_after_burst()

    def _scan_after_burst(self) -> None:
        """A burst of files just ended: look at the folders once more.

        Watcher events are hints: a burst can overflow the kernel's event queue (inotify's
        16,384 events are ~4,000 files written via temp names) and those files would wait for
        the next rescan, up to `rescan_s`. One folder listing at the end of each burst finds
        them at once. Only after a burst of many files: a file that keeps failing its
        post-action (and so stays in the folder) must not be retried in a loop.
        """
        if self._burst_scan_pending or self._loop is None:
            return
        self._burst_scan_pending = True

        async def scan_soon() -> None:
            try:
                await self._clock.sleep(BURST_RESCAN_DELAY_S)
                if not self._stopping:
                    found = await self.scan()
                    if found:
                        log.info("%d file(s) found by the scan after a burst", found)
            finally:
                self._burst_scan_pending = False

        self._spawn(scan_soon())

    # ------------------------------------------------------------------ one file

    async def _process(self, item: _FileTask, key: str) -> None:
        rt, path = item.runtime, item.path
        try:
            run = asyncio.to_thread if rt.config.polling else None
            signature = await wait_until_settled(
                path,
                clock=self._clock,
                settle_s=self.settle_ms / 1000,
                closed=item.closed,
                run=run,
            )
            if signature is None or rt.retired:
                return
            memo = self._memo.get(key)
            if memo is not None and memo.signature == signature:
                await self._resume(item, key, memo)
                return
            self._memo.pop(key, None)
            if rt.config.post_action == "keep" and await self._already_kept(rt, path):
                self._memo[key] = _Memo(signature, "kept")
                return
            item.stage = "converting"
            result = await self._convert(rt, path)
            if not result.ok:
                await self._fail(rt, path, key, signature, result)
                return
            item.stage = "committing"
            enqueued = await self._commit(rt, path, key, result)
            if enqueued is None:
                return
            if not enqueued.ok:
                # The queue refused this file's reports (e.g. an invalid id): the file fails.
                await self._fail(rt, path, key, signature, result, reason=enqueued.error)
                return
            ids = [report.id for report in result.reports]
            self._memo[key] = _Memo(signature, "committed", ids)
            self._counted_done(rt, path)
            item.stage = "post-action"
            await self._post_action(rt, path, key, signature, ids)
        except PoolClosedError:
            return  # stopping: the file is picked up again at the next start
        except ConverterStartError as exc:
            message = f"{rt.name}: {exc}; files wait in {rt.config.watch_folder}"
            rt.stats.last_error = message
            self._raise_alarm("converter_failing", message, rt.name)
            self._wait_for_storage(key, path)  # retried like a storage problem
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug of ours: leave the file for the next scan rather than failing it.
            log.exception("unexpected error while processing %s", path)
            rt.stats.last_error = f"{path.name}: internal error ({_plain(exc)})"
            self._state_changed()
        finally:
            self._file_finished(key)
            if (rt.retired and item.stage == "settling") or path in self._renotify:
                # Its converter was changed while the file settled (the new one takes it),
                # or it was rewritten while being converted.
                self._renotify.discard(path)
                self.notify(path)

    async def _already_kept(self, rt: _Runtime, path: Path) -> bool:
        """Keep mode: was this exact file (converter, content, path) queued before?"""
        try:
            digest = await self._in_files(sha256_of, path)
            done = await self._in_db(self._store.is_file_done, rt.name, digest, str(path))
        except STORAGE_ERRORS:
            return False  # cannot tell: convert; the queue ignores ids it already has
        return bool(done)

    async def _convert(self, rt: _Runtime, path: Path) -> ConvertResult:
        assert rt.params is not None
        job = ConversionJob(
            path=str(path),
            converter=rt.config.converter,
            parameters=rt.params,
            station_default=self._station_name,
            process_codes=self.process_codes,
        )
        async with self._converting:
            rt.converting += 1
            self._update_state(rt)
            try:
                return await self._pool.convert(job)
            finally:
                rt.converting -= 1
                self._update_state(rt)

    async def _commit(
        self, rt: _Runtime, path: Path, key: str, result: ConvertResult
    ) -> EnqueueResult | None:
        """Queue the reports durably; None when the queue could not be written."""
        assert result.sha256 is not None
        batch = SourceBatch(
            converter=rt.name,
            source_path=str(path),
            source_sha256=result.sha256,
            reports=[
                QueuedReport(id=r.id, header=queue_header(r.header), payload=r.payload)
                for r in result.reports
            ],
        )
        try:
            enqueued = await self._batcher.submit(batch)
        except STORAGE_ERRORS as exc:
            self._storage_failed(path, key, exc)
            return None
        self._storage_ok(key)
        if enqueued.inserted:
            self.callbacks.on_reports_queued(enqueued.inserted)
        return enqueued

    async def _resume(self, item: _FileTask, key: str, memo: _Memo) -> None:
        """A file we dealt with before and that is unchanged: finish what is left."""
        if memo.kind == "committed":
            item.stage = "post-action"
            await self._post_action(item.runtime, item.path, key, memo.signature, memo.report_ids)
        elif memo.kind == "failed" and memo.failure is not None:
            item.stage = "post-action"
            await self._move_failed(item.runtime, item.path, key, memo.failure)
        # kept: nothing to do

    async def _post_action(
        self, rt: _Runtime, path: Path, key: str, signature: FileSignature, ids: list[str]
    ) -> None:
        action = rt.config.post_action
        if action == "keep":
            memo = self._memo.get(key)
            if memo is not None:
                memo.kind = "kept"
        else:
            if await self._in_files(file_signature, path) != signature:
                # Rewritten since it was read (or gone): moving it now would archive content
                # that was never converted. Look at it again as a new file.
                self._memo.pop(key, None)
                self._renotify.add(path)
                return
            try:
                await self._in_files(
                    run_post_action, action, path, rt.config.effective_done_folder(), self._today()
                )
            except PostActionError as exc:
                if not await self._in_files(path.exists):
                    self._memo.pop(key, None)  # someone else took the file: nothing is lost
                else:
                    self._post_action_failed(rt, path, str(exc))
                    return
            self._memo.pop(key, None)
        self._clear_alarm("write_failed", rt.name)
        self.callbacks.on_file_done(path, ids)

    def _post_action_failed(self, rt: _Runtime, path: Path, reason: str) -> None:
        message = (
            f"{rt.name}: {path.name} is queued, but {reason}. The file stays in "
            f"{path.parent} and the post-action is retried at the next scan."
        )
        log.warning("%s", message)
        rt.stats.last_error = message
        self._raise_alarm("write_failed", message, rt.name)

    async def _fail(
        self,
        rt: _Runtime,
        path: Path,
        key: str,
        signature: FileSignature,
        result: ConvertResult,
        *,
        reason: str | None = None,
    ) -> None:
        failure = result.failure
        message = reason or (failure.message if failure is not None else "conversion failed")
        line = failure.line if failure is not None and reason is None else None
        details = FailureDetails(
            converter=rt.config.converter,
            converter_version=result.converter_version,
            message=message,
            line=line,
            when=datetime.fromtimestamp(self._clock.time()).astimezone(),
        )
        text = f"line {line}: {message}" if line is not None else message
        log.warning("%s: %s failed: %s", rt.name, path.name, text)
        try:
            await self._in_db(
                self._store.record_failed_file, rt.name, str(path), result.sha256 or "", text
            )
        except STORAGE_ERRORS as exc:
            log.warning("cannot log the failed file %s in the queue: %s", path, _plain(exc))
        self._roll_day(rt)
        rt.stats.files_failed_today += 1
        rt.stats.last_file, rt.stats.last_file_at = str(path), self._clock.time()
        rt.stats.last_error = f"{path.name}: {text}"
        rt.failures_in_a_row += 1
        if rt.failures_in_a_row >= FAILURES_FOR_ALARM:
            self._raise_alarm(
                "converter_failing",
                f"{rt.name}: {rt.failures_in_a_row} files in a row failed; last: "
                f"{path.name}: {text}",
                rt.name,
            )
        self._state_changed()
        self.callbacks.on_file_failed(path, text)
        self._memo[key] = _Memo(signature, "failed", failure=details)
        await self._move_failed(rt, path, key, details)

    async def _move_failed(
        self, rt: _Runtime, path: Path, key: str, details: FailureDetails
    ) -> None:
        try:
            await self._in_files(move_to_error, path, rt.config.effective_error_folder(), details)
        except PostActionError as exc:
            if await self._in_files(path.exists):
                message = (
                    f"{rt.name}: {path.name} failed and cannot be moved to the Error folder: "
                    f"{exc}. It stays in {path.parent}; retried at the next scan."
                )
                rt.stats.last_error = message
                self._raise_alarm("write_failed", message, rt.name)
                return
        self._memo.pop(key, None)

    def _counted_done(self, rt: _Runtime, path: Path) -> None:
        self._roll_day(rt)
        rt.stats.files_done_today += 1
        rt.stats.last_file, rt.stats.last_file_at = str(path), self._clock.time()
        rt.failures_in_a_row = 0
        self._clear_alarm("converter_failing", rt.name)
        self._state_changed()

    # ------------------------------------------------------------------ storage trouble

    def _storage_failed(self, path: Path, key: str, exc: BaseException) -> None:
        self._wait_for_storage(key, path)
        message = (
            f"The report queue cannot be written ({_plain(exc)}). "
            f"{len(self._storage_waiting)} file(s) stay in their folders and are retried "
            f"every {self._storage_retry_s:g} s."
        )
        log.error("%s", message)
        self._raise_alarm("write_failed", message, "")

    def _wait_for_storage(self, key: str, path: Path) -> None:
        self._storage_waiting[key] = path
        if self._storage_retry_task is None or self._storage_retry_task.done():
            assert self._loop is not None
            self._storage_retry_task = self._loop.create_task(self._retry_waiting())

    def _storage_ok(self, key: str) -> None:
        self._storage_waiting.pop(key, None)
        self._clear_alarm("write_failed", "")

    async def _retry_waiting(self) -> None:
        """Every `storage_retry_s`, try the files that could not be queued again.

        A file that fails again is put back by `_wait_for_storage`, which restarts this
        task if it has finished meanwhile.
        """
        while self._storage_waiting and not self._stopping:
            await self._clock.sleep(self._storage_retry_s)
            waiting, self._storage_waiting = self._storage_waiting, {}
            for path in waiting.values():
                self.notify(path)

    # ------------------------------------------------------------------ periodic work

    async def _every(self, interval: Callable[[], float], work: Callable[[], Any]) -> None:
        while True:
            await self._clock.sleep(interval())
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("periodic pipeline task failed")

    async def _check_folders(self) -> None:
        """Notice a watch folder that disappeared or came back (or was re-created)."""
        for rt in list(self._runtimes.values()):
            if not rt.config.enabled or rt.params_error is not None or rt.retired:
                continue
            if rt.folder_missing or rt.watcher is None or not rt.watcher.is_current():
                await self._ensure_watching(rt)

    # ------------------------------------------------------------------ state and alarms

    def _update_state(self, rt: _Runtime) -> None:
        if not rt.config.enabled:
            state: ConverterState = "disabled"
        elif rt.params_error is not None or rt.folder_missing:
            state = "error"
        elif rt.converting:
            state = "converting"
        else:
            state = "watching"
        if state != rt.stats.state:
            rt.stats.state = state
            self._state_changed()

    def _roll_day(self, rt: _Runtime) -> None:
        today = self._today()
        if rt.day != today:
            if rt.day is not None:
                rt.stats.files_done_today = rt.stats.files_failed_today = 0
            rt.day = today

    def _today(self) -> date:
        return datetime.fromtimestamp(self._clock.time()).date()

    def _raise_alarm(self, kind: str, message: str, subject: str) -> None:
        if self._alarms.get((kind, subject)) == message:
            return
        self._alarms[(kind, subject)] = message
        self.callbacks.on_alarm(kind, message, subject)
        self._state_changed()

    def _clear_alarm(self, kind: str, subject: str) -> None:
        if self._alarms.pop((kind, subject), None) is not None:
            self.callbacks.on_alarm_cleared(kind, subject)
            self._state_changed()

    def _state_changed(self) -> None:
        """Tell the worker, at most every STATE_CHANGE_DELAY_S however much changed."""
        if self._state_change_pending or self._loop is None or self._stopping:
            return
        self._state_change_pending = True
        self._loop.call_later(STATE_CHANGE_DELAY_S, self._emit_state_change)

    def _emit_state_change(self) -> None:
        self._state_change_pending = False
        self.callbacks.on_state_change()

    # ------------------------------------------------------------------ plumbing

    async def _in_db(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db_executor, call, *args)

    async def _in_files(self, call: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._file_executor, call, *args)

    def _spawn(self, coroutine: Any) -> None:
        if self._loop is None or self._stopping:
            coroutine.close()
            return
        task = self._loop.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
