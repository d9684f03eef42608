"""SIGTERM/SIGINT handling for a Qt event loop.

Python runs signal handlers only when the interpreter gets control, and a Qt loop that is idle
never gives it control; qasync has no add_signal_handler. So the C-level handler writes to a
socket pair (signal.set_wakeup_fd) and a QSocketNotifier on the other end wakes the loop:
no polling timer, no idle wake-ups.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QSocketNotifier

log = logging.getLogger("wats.service")


class SignalWaker(QObject):
    def __init__(self, on_stop: Callable[[str], None]) -> None:
        super().__init__()
        self._on_stop = on_stop
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno())
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        wanted = [signal.SIGINT, signal.SIGTERM]
        if sys.platform == "win32":
            wanted.append(signal.SIGBREAK)
        self._previous = {sig: signal.signal(sig, self._handle) for sig in wanted}

    def _handle(self, signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        log.info("received %s: stopping", name)
        self._on_stop(name)

    def _drain(self) -> None:
        # Reading wakes the interpreter, which runs the Python-level handler above.
        with contextlib.suppress(OSError):
            self._reader.recv(512)

    def close(self) -> None:
        self._notifier.setEnabled(False)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
