"""The worker's IPC server: QLocalServer, JSON lines, async handlers, pushed events.

Runs on the worker's qasync loop. Each connection reads framed lines, validates them
(app.ipc.protocol), and runs every request as its own task so a slow handler never holds up
the others; replies go out as handlers finish and carry the request's id. Clients that
`subscribe` to topics get the events `publish()` sends for those topics.

Single worker per instance: `start()` holds a lock file while it checks whether a live worker
answers on the socket; only when the connect attempt fails is the (stale) socket removed and
taken over. The lock matters because QLocalServer with UserAccessOption on Unix binds via a
temporary folder and renames over an existing socket, so two workers starting at once could
otherwise both "succeed".
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, overload

import filelock
from pydantic import BaseModel, ValidationError
from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

import app
from app.ipc.blocking import probe_worker
from app.ipc.names import SocketAddress, prepare_socket_dir, socket_address
from app.ipc.protocol import (
    MAX_MESSAGE_BYTES,
    TOPICS,
    ErrorCode,
    IpcError,
    LineBuffer,
    MessageTooLong,
    NoParams,
    ProtocolError,
    RequestId,
    TopicsParams,
    encode_error,
    encode_event,
    encode_result,
    format_validation_error,
    parse_request,
)

log = logging.getLogger(__name__)

P = TypeVar("P", bound=BaseModel)
Handler = Callable[[Any], Awaitable[Any]]

BUILTIN_METHODS = frozenset({"ping", "subscribe", "unsubscribe"})
# Requests of one connection running at once; further lines wait (and, once Qt's read buffer
# is full, the client's writes block): a flooding client cannot exhaust the worker's memory.
MAX_IN_FLIGHT = 256
READ_BUFFER_BYTES = 1024 * 1024
# A client whose unread replies/events pile up beyond this is not reading: drop it.
MAX_WRITE_BACKLOG = 4 * MAX_MESSAGE_BYTES
# How long start() waits for another starting worker's lock, and for a live one's ping.
START_LOCK_TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 2.0
# How long a closing connection may take to deliver its last replies.
FLUSH_TIMEOUT_MS = 5000
# Temp cleaners (systemd-tmpfiles, XDG runtime-dir rules) remove files nobody touched for
# hours or days; a worker runs for months, so touch the socket and re-listen if it vanished.
# Checked often: a GUI that finds no socket spawns a new worker, and this one must notice.
KEEPALIVE_INTERVAL_MS = 60 * 1000


def _file_id(path: Path | None) -> tuple[int, int] | None:
    """Identity of the socket file, to notice it was deleted or replaced by another one."""
    if path is None:
        return None
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


class AlreadyRunningError(RuntimeError):
    """A live worker already answers on this instance's socket."""

    def __init__(self, address: SocketAddress, pid: int | None) -> None:
        who = f"(pid {pid}) " if pid is not None else ""
        super().__init__(
            f"A WATS Station worker {who}is already running for instance "
            f"'{address.instance}' (socket {address.display}); not starting a second one."
        )
        self.instance = address.instance
        self.pid = pid


class IpcListenError(OSError):
    """The socket could not be created (permissions, path, resources)."""


@dataclass(frozen=True)
class _Method:
    handler: Handler
    params_model: type[BaseModel]


class _Connection:
    """One connected client: framing, in-flight requests, subscribed topics."""

    def __init__(self, server: IpcServer, socket: QLocalSocket, number: int) -> None:
        self.server = server
        self.socket = socket
        self.number = number
        self.topics: set[str] = set()
        self.closed = False
        self._lines = LineBuffer(MAX_MESSAGE_BYTES)
        self._pending: collections.deque[bytes] = collections.deque()
        self._in_flight: set[asyncio.Task[None]] = set()
        socket.setReadBufferSize(READ_BUFFER_BYTES)
        socket.readyRead.connect(self._on_ready_read)
        socket.disconnected.connect(self.on_disconnected)

    # ------------------------------------------------------------ reading

    def _on_ready_read(self) -> None:
        # While lines wait for a free slot, leave new bytes in Qt's bounded buffer.
        if not self.closed and not self._pending:
            self.read_available()

    def read_available(self) -> None:
        data = self.socket.readAll().data()
        if not data:
            return
        try:
            self._pending.extend(self._lines.feed(data))
        except MessageTooLong as exc:
            self.send(
                encode_error(
                    None,
                    ErrorCode.INVALID_REQUEST,
                    f"message longer than {exc.limit} bytes; closing the connection",
                )
            )
            self.close(flush=True)
            log.warning(
                "IPC client %d sent a message over %d bytes; closed it", self.number, exc.limit
            )
            return
        self._drain()

    def _drain(self) -> None:
        while self._pending and not self.closed and len(self._in_flight) < MAX_IN_FLIGHT:
            self._handle_line(self._pending.popleft())

    def _handle_line(self, line: bytes) -> None:
        try:
            request = parse_request(line)
        except ProtocolError as exc:
            self.send(encode_error(exc.request_id, exc.code, exc.message))
            return
        method, request_id = request.method, request.id
        if method in ("subscribe", "unsubscribe"):
            self.send(self._subscription(request_id, method, request.params))
            return
        entry = self.server._methods.get(method)
        if entry is None:
            self.send(
                encode_error(request_id, ErrorCode.UNKNOWN_METHOD, f"unknown method {method!r}")
            )
            return
        try:
            params = entry.params_model.model_validate(request.params or {})
        except ValidationError as exc:
            self.send(
                encode_error(
                    request_id,
                    ErrorCode.INVALID_PARAMS,
                    f"invalid params for {method}: {format_validation_error(exc, 'params')}",
                )
            )
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Qt delivered the request while the asyncio loop is not running (only around
            # start-up and shut-down): handlers cannot run now.
            self.send(
                encode_error(
                    request_id, ErrorCode.UNAVAILABLE, "the worker is not ready; try again"
                )
            )
            return
        task = loop.create_task(self._run(request_id, method, entry.handler, params))
        self._in_flight.add(task)
        self.server._tasks.add(task)
        task.add_done_callback(self._on_done)

    def _subscription(
        self, request_id: RequestId, method: str, raw: dict[str, Any] | None
    ) -> bytes:
        try:
            params = TopicsParams.model_validate(raw or {})
        except ValidationError as exc:
            return encode_error(
                request_id,
                ErrorCode.INVALID_PARAMS,
                f"invalid params for {method}: {format_validation_error(exc, 'params')}",
            )
        if method == "subscribe":
            self.topics.update(params.topics)
        else:
            self.topics.difference_update(params.topics)
        return encode_result(request_id, {"topics": sorted(self.topics)})

    async def _run(
        self, request_id: RequestId, method: str, handler: Handler, params: BaseModel
    ) -> None:
        try:
            result = await handler(params)
            reply = encode_result(request_id, result)
            if len(reply) > MAX_MESSAGE_BYTES + 1:
                log.error("the reply of %s is %d bytes, over the IPC limit", method, len(reply))
                reply = encode_error(
                    request_id,
                    ErrorCode.INTERNAL_ERROR,
                    f"the reply of {method} is larger than the {MAX_MESSAGE_BYTES} byte IPC "
                    "limit; ask for less (a smaller page or fewer items)",
                )
        except IpcError as exc:
            reply = encode_error(request_id, exc.code, exc.message)
        except Exception:
            # The traceback stays in the worker log; the client gets plain words.
            log.exception("IPC method %s failed", method)
            reply = encode_error(
                request_id,
                ErrorCode.INTERNAL_ERROR,
                f"{method} failed inside the worker; see the worker log",
            )
        self.send(reply)

    def _on_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self.server._tasks.discard(task)
        if self.closed:
            return
        self._drain()
        if not self._pending and self.socket.bytesAvailable() > 0:
            self.read_available()

    # ------------------------------------------------------------ writing / lifecycle

    def send(self, data: bytes) -> None:
        if self.closed:
            return
        self.socket.write(data)
        if self.socket.bytesToWrite() > MAX_WRITE_BACKLOG:
            # Closed before logging: the log line may itself be published to this client.
            self.close(flush=False)
            log.warning("IPC client %d does not read its replies; disconnected it", self.number)

    def close(self, *, flush: bool) -> None:
        """Stop handling this client; `flush` sends what is already written first."""
        if self.closed:
            return
        self.closed = True
        self._pending.clear()
        self.server._forget(self)
        socket = self.socket
        if flush and socket.state() == QLocalSocket.LocalSocketState.ConnectedState:
            # disconnected (-> deleteLater) follows once the replies are written; a client
            # that never reads them is cut off after a grace period.
            QTimer.singleShot(FLUSH_TIMEOUT_MS, socket, socket.abort)
            socket.disconnectFromServer()
        else:
            socket.abort()
            socket.deleteLater()

    def on_disconnected(self) -> None:
        self.closed = True
        self._pending.clear()
        self.server._forget(self)
        self.socket.deleteLater()


class IpcServer(QObject):
    """The worker's end of the IPC socket for one instance."""

    # Another worker took over the socket (after ours was deleted from disk): the worker
    # should stop, since no client can reach it any more. Carries a readable reason.
    listen_lost = Signal(str)
    # publish() from other threads: queued to the thread this object lives in.
    _publish_elsewhere = Signal(str, object)

    def __init__(self, instance: str = "default", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.instance = instance
        self.address = socket_address(instance)
        self._methods: dict[str, _Method] = {}
        self._connections: dict[int, _Connection] = {}
        self._next_number = 1
        self._server: QLocalServer | None = None
        self._socket_id: tuple[int, int] | None = None
        self._cancelled: list[asyncio.Task[None]] = []
        # Every running handler task, of every connection (close() cancels them).
        self._tasks: set[asyncio.Task[None]] = set()
        self._keepalive = QTimer(self)
        self._keepalive.setInterval(KEEPALIVE_INTERVAL_MS)
        self._keepalive.timeout.connect(self._keep_socket_alive)
        self.register("ping", self._ping)
        self._publish_elsewhere.connect(self._publish_here, Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------ handlers

    @overload
    def register(
        self,
        method: str,
        handler: Callable[[NoParams], Awaitable[Any]],
        params_model: None = None,
    ) -> None: ...

    @overload
    def register(
        self, method: str, handler: Callable[[P], Awaitable[Any]], params_model: type[P]
    ) -> None: ...

    def register(
        self,
        method: str,
        handler: Callable[[Any], Awaitable[Any]],
        params_model: type[BaseModel] | None = None,
    ) -> None:
        """Serve `method`: params are validated with `params_model` (None: no params).

        The handler is a coroutine function taking the validated params; it may raise
        IpcError to answer a specific error (not_found, conflict, ...). Any other exception
        is logged and answered as internal_error without details.
        """
        if method in self._methods or method in BUILTIN_METHODS - {"ping"}:
            raise ValueError(f"IPC method {method!r} is already registered")
        self._methods[method] = _Method(handler, params_model or NoParams)

    @property
    def methods(self) -> list[str]:
        return sorted({*self._methods, *BUILTIN_METHODS})

    async def _ping(self, _params: NoParams) -> dict[str, Any]:
        return {"pong": True, "version": app.__version__, "pid": os.getpid()}

    # ------------------------------------------------------------ events

    def publish(self, topic: str, data: Any) -> int:
        """Push an event to the clients subscribed to `topic`; returns how many got it.

        Thread-safe: called from another thread (a log handler, the watcher), the event is
        handed to the server's thread and sent from there, and 0 is returned.
        """
        if topic not in TOPICS:
            raise ValueError(f"unknown IPC event topic {topic!r} (known: {', '.join(TOPICS)})")
        if QThread.currentThread() is not self.thread():
            self._publish_elsewhere.emit(topic, data)
            return 0
        return self._publish_here(topic, data)

    def _publish_here(self, topic: str, data: Any) -> int:
        receivers = [c for c in self._connections.values() if topic in c.topics]
        if not receivers:
            return 0
        try:
            line = encode_event(topic, data)
        except (TypeError, ValueError):
            log.exception("cannot encode the %s event; it was not sent", topic)
            return 0
        if len(line) > MAX_MESSAGE_BYTES:
            log.error("the %s event is %d bytes, over the IPC limit; not sent", topic, len(line))
            return 0
        for connection in receivers:
            connection.send(line)
        return len(receivers)

    @property
    def client_count(self) -> int:
        return len(self._connections)

    # ------------------------------------------------------------ lifecycle

    @property
    def listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def start(self) -> None:
        """Listen on the instance's socket; AlreadyRunningError if a live worker answers.

        Other failures (folder not private, socket cannot be created) raise OSError
        subclasses (RuntimeDirError, IpcListenError) with a readable message.
        """
        if self.listening:
            return
        self._take_name()
        self._keepalive.start()
        log.info("IPC server listening on %s", self.address.display)

    def _take_name(self) -> None:
        prepare_socket_dir(self.address)
        lock = filelock.FileLock(str(self.address.lock_path), timeout=START_LOCK_TIMEOUT_S)
        try:
            with lock:
                probe = probe_worker(self.address, PROBE_TIMEOUT_S)
                if probe.alive:
                    raise AlreadyRunningError(self.address, probe.pid)
                self._listen()
        except filelock.Timeout:
            raise IpcListenError(
                f"another WATS Station worker for instance '{self.instance}' is starting "
                f"(lock {self.address.lock_path} held for {START_LOCK_TIMEOUT_S:g} s)"
            ) from None

    def _listen(self) -> None:
        # Only reached after a connect attempt failed: what is left is a stale socket.
        QLocalServer.removeServer(self.address.name)
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        server.setMaxPendingConnections(64)
        if not server.listen(self.address.name):
            message = server.errorString()
            server.deleteLater()
            raise IpcListenError(f"cannot listen on {self.address.display}: {message}")
        server.newConnection.connect(self._on_new_connection)
        self._server = server
        self._socket_id = _file_id(self.address.path)

    def close(self) -> None:
        """Stop listening, drop every client and cancel running handlers.

        The cancelled handlers finish on the next loop iterations; `aclose()` waits for them.
        """
        self._keepalive.stop()
        # Including handlers of clients that already left (those are left to finish
        # while the worker runs: a disconnect must not interrupt a half-done action).
        for task in self._tasks:
            task.cancel()
        self._cancelled.extend(self._tasks)
        self._tasks.clear()
        for connection in list(self._connections.values()):
            connection.close(flush=True)
        self._connections.clear()
        if self._server is not None:
            self._close_listener()
            log.info("IPC server closed")

    def _close_listener(self) -> None:
        """Stop listening, without deleting a socket file that is no longer ours."""
        server, self._server = self._server, None
        if server is None:
            return
        path = self.address.path
        current = _file_id(path)
        if path is not None and current is not None and current != self._socket_id:
            # QLocalServer.close() deletes whatever file has our name, even another worker's
            # socket: park that file for the moment of the close.
            parked = path.with_name(f"{path.name}.{os.getpid()}.parked")
            os.rename(path, parked)
            try:
                server.close()
            finally:
                os.rename(parked, path)
        else:
            server.close()  # also removes our socket file on POSIX
        server.deleteLater()

    async def aclose(self) -> None:
        """close(), then wait until the cancelled handlers have finished."""
        self.close()
        cancelled, self._cancelled = self._cancelled, []
        if cancelled:
            await asyncio.gather(*cancelled, return_exceptions=True)

    def _keep_socket_alive(self) -> None:
        path = self.address.path
        if path is None:
            return
        if self._server is not None:
            if _file_id(path) == self._socket_id:
                try:
                    os.utime(path)
                except OSError:
                    log.warning("could not touch the IPC socket %s", path, exc_info=True)
                return
            log.warning("the IPC socket %s was removed or replaced by someone else", path)
            self._close_listener()
        try:
            self._take_name()
        except AlreadyRunningError as exc:
            # Another worker took the name while ours was missing: it serves the instance now.
            log.error("%s This worker can no longer be reached over IPC.", exc)
            self._keepalive.stop()
            self.listen_lost.emit(str(exc))
        except OSError:
            log.exception("could not listen again on the IPC socket; retrying later")
        else:
            log.info("IPC server listening again on %s", self.address.display)

    def _on_new_connection(self) -> None:
        server = self._server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            if socket is None:
                break
            number = self._next_number
            self._next_number += 1
            # Owned by us, not the QLocalServer: re-listening must not drop connected clients.
            socket.setParent(self)
            connection = _Connection(self, socket, number)
            self._connections[number] = connection
            log.debug("IPC client %d connected", number)
            if socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                connection.on_disconnected()
            elif socket.bytesAvailable() > 0:
                connection.read_available()

    def _forget(self, connection: _Connection) -> None:
        if self._connections.pop(connection.number, None) is not None:
            log.debug("IPC client %d disconnected", connection.number)
