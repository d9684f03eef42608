"""Which files in a watch folder are candidates, and a watchdog observer that hints at them.

Events are only hints (DESIGN.md §3): they overflow on Windows and do not exist on network
shares, so the pipeline also scans every folder at start and every `rescan_s`. Both paths go
through the same `FileFilter`, which keeps out the converter's own Done/Error folders (they
live inside the watch folder by default), `*.error.txt` sidecars, temporary files and files
that do not match the converter's patterns.

The observer runs on watchdog's thread; each accepted event is handed to the event loop with
`loop.call_soon_threadsafe`, so the pipeline itself only ever runs on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger("wats.watcher")

ERROR_SIDECAR_SUFFIX = ".error.txt"
# How often the polling observer (network shares) lists the folder.
POLLING_INTERVAL_S = 2.0
# Events a watch folder can tell us something useful with; the rest (opened, closed without
# writing — our own reads —, attribute changes) would only cost a loop wake-up.
_EVENT_TYPES: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


if sys.platform.startswith("linux"):
    from watchdog.observers.inotify import InotifyEmitter
    from watchdog.observers.inotify_c import InotifyConstants, Mask

    class _LeanInotifyEmitter(InotifyEmitter):
        """inotify without the events a flat watch folder does not need.

        watchdog holds every IN_MOVED_FROM back for up to 0.5 s to pair it with its
        IN_MOVED_TO, and everything queued behind it waits too; pairing scans the whole
        queue. A tester's atomic save (write `x.tmp`, rename to `x.json`) makes one such pair
        per file, so at a few hundred files a second the queue grew to thousands of events
        and its scans took a fifth of the worker's CPU. A file arriving needs only
        IN_MOVED_TO (reported alone as created), IN_CREATE and IN_CLOSE_WRITE; settling polls
        size and mtime, so IN_MODIFY/IN_ATTRIB (and our own post-action's link count change)
        only cost wake-ups. Recursive watches keep watchdog's full mask: it needs both halves
        of a move to follow renamed subfolders.
        """

        def get_event_mask_from_filter(self) -> Mask:
            if self.watch.is_recursive:
                return super().get_event_mask_from_filter()
            return Mask(
                InotifyConstants.IN_CREATE
                | InotifyConstants.IN_MOVED_TO
                | InotifyConstants.IN_CLOSE_WRITE
                | InotifyConstants.IN_DELETE_SELF
            )

    def _native_observer() -> BaseObserver:
        return BaseObserver(_LeanInotifyEmitter)

else:

    def _native_observer() -> BaseObserver:
        return Observer()


def _norm(path: Path | str) -> str:
    """A path string for comparisons: absolute, and case-folded where the OS ignores case."""
    return os.path.normcase(os.path.abspath(path))


def is_temporary_name(name: str) -> bool:
    """Office lock files, editor/tester temp files and hidden files are never results."""
    lowered = name.lower()
    return (
        name.startswith((".", "~$"))
        or lowered.endswith((".tmp", ".partial", ".crdownload"))
        or lowered.endswith(ERROR_SIDECAR_SUFFIX)
    )


def _compile_patterns(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for all patterns (testers write `.JSON` as often as `.json`)."""
    cleaned = [p.strip() for p in patterns if p.strip()]
    if not cleaned or "*" in cleaned:
        return None  # everything matches
    parts = [fnmatch.translate(p) for p in cleaned]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


@dataclass(frozen=True)
class FileFilter:
    """Decides whether a path is a result file of one converter. Immutable: thread-safe."""

    folder: Path
    patterns: tuple[str, ...] = ("*",)
    recursive: bool = False
    excluded_dirs: tuple[Path, ...] = ()
    _folder_norm: str = field(init=False, repr=False, compare=False)
    _excluded_norm: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_folder_norm", _norm(self.folder))
        object.__setattr__(self, "_excluded_norm", tuple(_norm(d) for d in self.excluded_dirs))
        object.__setattr__(self, "_regex", _compile_patterns(self.patterns))

    def owns(self, path: Path | str) -> bool:
        """True when `path` lies in the watched part of the folder (pattern not checked)."""
        text = _norm(path)
        parent = os.path.dirname(text)
        if parent == self._folder_norm:
            return True
        if not self.recursive or not text.startswith(self._folder_norm + os.sep):
            return False
        if any(text == d or text.startswith(d + os.sep) for d in self._excluded_norm):
            return False
        relative_dirs = parent[len(self._folder_norm) + 1 :].split(os.sep)
        return not any(is_temporary_name(part) for part in relative_dirs)

    def matches_name(self, name: str) -> bool:
        if is_temporary_name(name):
            return False
        return self._regex is None or self._regex.fullmatch(name) is not None

    def accepts(self, path: Path | str) -> bool:
        return self.matches_name(os.path.basename(path)) and self.owns(path)

    def is_excluded_dir(self, path: str) -> bool:
        text = _norm(path)
        return text in self._excluded_norm or is_temporary_name(os.path.basename(text))


def scan_folder(file_filter: FileFilter) -> list[Path]:
    """Every candidate file in the folder (recursing when configured), oldest first.

    Raises FileNotFoundError/NotADirectoryError/PermissionError when the folder itself cannot
    be listed, so the caller can report the converter's folder as missing.
    """
    found: list[tuple[float, str]] = []
    for entry in _walk(str(file_filter.folder), file_filter, top=True):
        try:
            found.append((entry.stat().st_mtime, entry.path))
        except OSError:
            continue  # vanished between listing and stat: nothing to do
    found.sort()
    return [Path(p) for _, p in found]


def _walk(folder: str, file_filter: FileFilter, *, top: bool) -> Iterator[os.DirEntry[str]]:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        if top:
            raise
        log.warning("cannot list %s; skipped in this scan", folder)
        return
    for entry in entries:
        try:
            if entry.is_file():
                if file_filter.matches_name(entry.name):
                    yield entry
            elif (
                file_filter.recursive
                and entry.is_dir(follow_symlinks=False)
                and not file_filter.is_excluded_dir(entry.path)
            ):
                yield from _walk(entry.path, file_filter, top=False)
        except OSError:
            continue


def folder_identity(folder: Path) -> tuple[int, int] | None:
    """(device, inode) of a folder, or None when it is missing: a re-created folder differs."""
    try:
        info = os.stat(folder)
    except OSError:
        return None
    if not os.path.isdir(folder):
        return None
    return (info.st_dev, info.st_ino)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        super().__init__()
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        watcher = self._watcher
        if event.is_directory:
            # The folder itself going away: let the pipeline look at once instead of at the
            # next folder check.
            if _norm(os.fsdecode(event.src_path)) == watcher.file_filter._folder_norm:
                watcher._post(None, False)
            return
        if isinstance(event, FileMovedEvent):
            path = os.fsdecode(event.dest_path)
        else:
            path = os.fsdecode(event.src_path)
        if watcher.file_filter.accepts(path):
            watcher._post(Path(path), isinstance(event, FileClosedEvent))


OnFileEvent = Callable[[Path | None, bool], None]


class FolderWatcher:
    """A watchdog observer on one converter's folder.

    `on_event(path, closed)` runs on the event loop for every accepted file event; `closed`
    is True for a close-after-write event (Linux inotify), which lets the settle step skip
    its wait. `on_event(None, False)` means "the folder itself changed, check it".
    """

    def __init__(
        self,
        file_filter: FileFilter,
        on_event: OnFileEvent,
        loop: asyncio.AbstractEventLoop,
        *,
        polling: bool = False,
        polling_interval_s: float = POLLING_INTERVAL_S,
    ) -> None:
        self.file_filter = file_filter
        self._on_event = on_event
        self._loop = loop
        self._polling = polling
        self._polling_interval_s = polling_interval_s
        self._observer: BaseObserver | None = None
        self._identity: tuple[int, int] | None = None

    @property
    def running(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    def start(self) -> None:
        """Start watching; raises OSError when the folder is missing or cannot be watched."""
        self.stop()
        identity = folder_identity(self.file_filter.folder)
        if identity is None:
            raise FileNotFoundError(f"the folder {self.file_filter.folder} does not exist")
        observer: BaseObserver = (
            PollingObserver(timeout=self._polling_interval_s)
            if self._polling
            else _native_observer()
        )
        observer.daemon = True
        observer.schedule(
            _Handler(self),
            str(self.file_filter.folder),
            recursive=self.file_filter.recursive,
            event_filter=_EVENT_TYPES,
        )
        try:
            observer.start()
        except OSError:
            # e.g. the inotify watch limit: the folder is still scanned every rescan_s.
            observer.stop()
            raise
        self._observer = observer
        self._identity = identity

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=5)

    def is_current(self) -> bool:
        """True while the observer runs on the same folder it started on.

        A folder that was deleted and re-created has a new identity, and the old inotify
        watch saw nothing of it: the caller restarts the watcher.
        """
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        # inotify stops a folder's emitter when the folder is deleted (IN_DELETE_SELF), which
        # also catches a re-created folder that happens to get the same inode number.
        emitters = observer.emitters
        if not emitters or not all(emitter.is_alive() for emitter in emitters):
            return False
        return folder_identity(self.file_filter.folder) == self._identity

    def _post(self, path: Path | None, closed: bool) -> None:
        """Called on watchdog's thread: hand the event to the loop."""
        # RuntimeError: the loop is closed, the worker is shutting down.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._on_event, path, closed)
