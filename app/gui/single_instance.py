"""One GUI per user and instance: a second launch asks the first to show its window and exits.

The first GUI listens on a local socket of its own (next to the worker's, never the same);
a later launch connects, sends one line ("show"), and leaves. A socket left behind by a GUI
that crashed is removed only after a connection attempt to it failed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.ipc.names import MAX_SOCKET_PATH_BYTES, fallback_socket_dir, socket_address

CONNECT_TIMEOUT_MS = 500
SHOW_COMMAND = b"show\n"


def gui_socket_name(instance: str) -> str:
    """The GUI's socket: the worker's name with a '-gui' suffix (same privacy, same folder)."""
    worker = socket_address(instance)
    if worker.path is None:  # Windows named pipe
        return f"{worker.name}-gui"
    path = worker.path.with_name(f"{worker.path.stem}-gui.sock")
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        path = fallback_socket_dir() / f"{worker.path.stem[:16]}-gui.sock"
    return str(path)


class SingleInstance(QObject):
    """Owns the GUI socket; `show_requested` fires when a second launch knocks."""

    show_requested = Signal()

    def __init__(self, instance: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = gui_socket_name(instance)
        self._server: QLocalServer | None = None

    def notify_running(self) -> bool:
        """True if another GUI answered (and was asked to show itself)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
            return False
        socket.write(SHOW_COMMAND)
        socket.flush()
        socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        """Take the name; False if it cannot be taken (the GUI still runs, just unguarded)."""
        if sys.platform != "win32":
            Path(self.name).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # Nobody answered notify_running(), so the name is a leftover of a crashed GUI.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                return False
        server.newConnection.connect(self._on_connection)
        self._server = server
        return True

    def _on_connection(self) -> None:
        server = self._server
        if server is None:
            return
        while server.hasPendingConnections():
            socket = server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = bytes(socket.readAll().data())
        if b"show" in data:
            self.show_requested.emit()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
