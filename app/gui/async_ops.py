"""Background work started from the UI, with success and failure callbacks on the UI thread.

In the spirit of Anki's aqt.operations: a page never awaits in a slot and never blocks; it
describes the work and what to do with its outcome:

    Op(self, lambda: link.request("queue.retry", {"ids": ids}))
        .success(lambda result: self.show_message(f"{result['retried']} queued again"))
        .busy(self.retry_button)
        .run()

The work is a coroutine factory (IPC calls) or, via `in_thread`, a blocking function run on a
worker thread (file-system checks that may hang on a network share). Callbacks run on the
qasync loop, i.e. the UI thread, and are skipped when the owning widget is already gone.
Failures become plain words through `describe_error`; without a failure callback they go to
the default handler (the main window's message bar).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.ipc.protocol import ConnectionLost, IpcError, IpcTimeout, WorkerNotRunning

log = logging.getLogger("wats.gui.ops")

T = TypeVar("T")

# Blocking helpers (folder checks, reading files) run here, never on the UI thread.
_threads = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="gui-op")


def in_thread(function: Callable[..., T], *args: Any) -> Awaitable[T]:
    """Run a blocking function on a helper thread; await its result on the loop.

    Pass plain values only, never a widget or its bound method: the thread would hold the
    last reference now and then, and a Qt object must be destroyed on the UI thread.
    """
    return asyncio.wrap_future(_threads.submit(function, *args))


def describe_error(error: BaseException) -> str:
    """What went wrong, in words an operator can act on (never a traceback)."""
    if isinstance(error, WorkerNotRunning):
        return "The WATS Station worker is not running. Use “Restart worker” to start it."
    if isinstance(error, ConnectionLost):
        return "The connection to the worker was lost. It is being restored; try again."
    if isinstance(error, IpcTimeout):
        return "The worker did not answer in time. It may be busy; try again in a moment."
    if isinstance(error, IpcError):
        if error.code == "unknown_method":
            return (
                "The running worker is an older version that cannot do this. "
                "Restart the worker to use the current version."
            )
        return error.message
    if isinstance(error, PermissionError):
        return f"Permission denied: {error.filename or error}"
    if isinstance(error, FileNotFoundError):
        return f"Not found: {error.filename or error}"
    if isinstance(error, OSError):
        return error.strerror or str(error)
    if isinstance(error, TimeoutError):
        return "The operation took too long and was stopped."
    text = str(error).strip()
    return text or type(error).__name__


FailureHandler = Callable[[str], None]
_default_failure: FailureHandler = lambda message: log.warning("%s", message)  # noqa: E731


def set_default_failure_handler(handler: FailureHandler) -> None:
    global _default_failure
    _default_failure = handler


_running: set[asyncio.Task[Any]] = set()


def current_loop() -> asyncio.AbstractEventLoop | None:
    """The GUI's qasync loop, running or not (slots may fire between loop runs); None after
    the application closed it."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return asyncio.get_event_loop()
        except RuntimeError:
            return None


class Op(Generic[T]):
    """One operation: build it, attach callbacks, `run()`."""

    def __init__(self, parent: QObject | None, work: Callable[[], Awaitable[T]]) -> None:
        self._parent = parent
        self._work = work
        self._on_success: Callable[[T], None] | None = None
        self._on_failure: Callable[[str], None] | None = None
        self._on_finally: Callable[[], None] | None = None
        self._busy: list[QWidget] = []

    def success(self, callback: Callable[[T], None]) -> Op[T]:
        self._on_success = callback
        return self

    def failure(self, callback: Callable[[str], None]) -> Op[T]:
        """`callback(message)` with the error in plain words."""
        self._on_failure = callback
        return self

    def finally_(self, callback: Callable[[], None]) -> Op[T]:
        self._on_finally = callback
        return self

    def busy(self, *widgets: QWidget) -> Op[T]:
        """Disable these widgets while the operation runs (no double clicks)."""
        self._busy.extend(widgets)
        return self

    def run(self) -> asyncio.Task[None] | None:
        """Start it; None when the application is shutting down (no event loop any more)."""
        loop = current_loop()
        if loop is None or loop.is_closed():
            return None
        for widget in self._busy:
            widget.setEnabled(False)
        task = loop.create_task(self._run())
        _running.add(task)
        task.add_done_callback(_running.discard)
        return task

    def _alive(self) -> bool:
        return self._parent is None or shiboken6.isValid(self._parent)

    async def _run(self) -> None:
        try:
            result = await self._work()
        except asyncio.CancelledError:
            self._release()
            raise
        except Exception as exc:
            if not isinstance(exc, IpcError | OSError | TimeoutError):
                log.error("operation failed", exc_info=exc)
            self._release()
            if self._alive():
                message = describe_error(exc)
                (self._on_failure or _default_failure)(message)
                self._finish()
            return
        self._release()
        if self._alive():
            if self._on_success is not None:
                self._on_success(result)
            self._finish()

    def _finish(self) -> None:
        if self._on_finally is not None:
            self._on_finally()

    def _release(self) -> None:
        for widget in self._busy:
            if shiboken6.isValid(widget):
                widget.setEnabled(True)


def running_operations() -> int:
    """How many operations have not finished (tests wait for zero)."""
    return len(_running)
