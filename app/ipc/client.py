"""Asynchronous IPC client for the GUI: QLocalSocket, Qt signals, asyncio futures.

Runs on the GUI's qasync loop. `await client.request("queue.list", {...})` sends a request and
resolves with its result (or raises IpcError); many requests may be in flight at once.
Events the worker pushes arrive as the `event(topic, data)` signal, so widgets never poll.

Reconnecting: `connect_to_worker(timeout)` keeps trying until the worker listens (it may
just have been spawned) and, once connected, subscribes again to the topics asked for
before, so a GUI that lost its worker only needs to call it again after `disconnected`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalSocket

from app.ipc.names import SocketAddress, socket_address
from app.ipc.protocol import (
    MAX_MESSAGE_BYTES,
    TOPICS,
    ConnectionLost,
    ErrorCode,
    Event,
    IpcError,
    IpcTimeout,
    LineBuffer,
    MessageTooLong,
    RequestId,
    WorkerNotRunning,
    encode_request,
    parse_server_message,
)

log = logging.getLogger(__name__)

# Between connection attempts while waiting for a worker to start listening.
RETRY_INTERVAL_S = 0.05
DEFAULT_REQUEST_TIMEOUT_S = 30.0

_NOT_RUNNING_ERRORS = (
    QLocalSocket.LocalSocketError.ServerNotFoundError,
    QLocalSocket.LocalSocketError.ConnectionRefusedError,
)


class IpcClient(QObject):
    """The GUI's connection to the worker of one instance."""

    # (topic, data) for every event of a subscribed topic.
    # Shadows QObject.event(QEvent) for Python callers only; Qt's C++ event dispatch is
    # unaffected (PySide only treats functions as virtual overrides).
    event = Signal(str, object)  # type: ignore[assignment]
    connected = Signal()
    disconnected = Signal()

    def __init__(
        self,
        instance: str = "default",
        parent: QObject | None = None,
        *,
        address: SocketAddress | None = None,
    ) -> None:
        super().__init__(parent)
        self.instance = instance
        self.address = address or socket_address(instance)
        self._socket: QLocalSocket | None = None
        self._lines = LineBuffer(MAX_MESSAGE_BYTES)
        self._ids = itertools.count(1)
        self._pending: dict[RequestId, asyncio.Future[Any]] = {}
        self._topics: set[str] = set()

    # ------------------------------------------------------------ connection

    @property
    def is_connected(self) -> bool:
        return (
            self._socket is not None
            and self._socket.state() == QLocalSocket.LocalSocketState.ConnectedState
        )

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._topics)

    async def connect_to_worker(self, timeout: float = 5.0) -> None:
        """Connect (retrying until `timeout` s) and re-subscribe; WorkerNotRunning if none."""
        if self.is_connected:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            error = await self._attempt(max(remaining, 0.001))
            if error is None:
                break
            if loop.time() + RETRY_INTERVAL_S >= deadline:
                raise WorkerNotRunning(self.instance, error)
            await asyncio.sleep(RETRY_INTERVAL_S)
        if self._topics:
            await self.request("subscribe", {"topics": sorted(self._topics)}, timeout=timeout)
        self.connected.emit()

    async def _attempt(self, timeout: float) -> str | None:
        """One connection attempt; None on success, else why it failed."""
        self._drop_socket()
        socket = QLocalSocket(self)
        outcome: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        def on_connected() -> None:
            if not outcome.done():
                outcome.set_result(None)

        def on_error(_error: QLocalSocket.LocalSocketError) -> None:
            if not outcome.done():
                outcome.set_result(socket.errorString())

        socket.connected.connect(on_connected)
        socket.errorOccurred.connect(on_error)
        socket.connectToServer(self.address.name)
        try:
            reason = await asyncio.wait_for(outcome, timeout)
        except TimeoutError:
            reason = f"no connection within {timeout:g} s"
        socket.connected.disconnect(on_connected)
        socket.errorOccurred.disconnect(on_error)
        if reason is not None or socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
            if socket.error() not in _NOT_RUNNING_ERRORS and reason is not None:
                log.debug("IPC connect to %s failed: %s", self.address.display, reason)
            socket.abort()
            socket.deleteLater()
            return reason or "connection closed"
        self._lines = LineBuffer(MAX_MESSAGE_BYTES)
        socket.readyRead.connect(self._on_ready_read)
        socket.disconnected.connect(self._on_disconnected)
        self._socket = socket
        return None

    def disconnect_from_worker(self) -> None:
        """Close the connection; pending requests fail with ConnectionLost."""
        if self._socket is None:
            return
        was_connected = self.is_connected
        self._drop_socket()
        if was_connected:
            self.disconnected.emit()

    def _drop_socket(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None:
            socket.readyRead.disconnect(self._on_ready_read)
            socket.disconnected.disconnect(self._on_disconnected)
            socket.abort()
            socket.deleteLater()
        self._fail_pending(ConnectionLost())

    def _on_disconnected(self) -> None:
        log.info("IPC connection to the worker closed")
        socket, self._socket = self._socket, None
        if socket is not None:
            socket.readyRead.disconnect(self._on_ready_read)
            socket.disconnected.disconnect(self._on_disconnected)
            socket.deleteLater()
        self._fail_pending(ConnectionLost("the worker closed the connection"))
        self.disconnected.emit()

    def _fail_pending(self, error: IpcError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    # ------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        params: dict[str, Any] | BaseModel | None = None,
        timeout: float | None = DEFAULT_REQUEST_TIMEOUT_S,
    ) -> asyncio.Future[Any]:
        """Send a request; the future resolves with its result or raises IpcError.

        Must be called on the running (qasync) loop. `timeout=None` waits for ever.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        socket = self._socket
        if socket is None or not self.is_connected:
            future.set_exception(ConnectionLost("not connected to the worker"))
            return future
        request_id: RequestId = next(self._ids)
        try:
            line = encode_request(request_id, method, params)
        except (TypeError, ValueError) as exc:
            future.set_exception(IpcError(ErrorCode.INVALID_PARAMS, f"cannot send params: {exc}"))
            return future
        self._pending[request_id] = future
        if timeout is not None:
            handle = loop.call_later(timeout, self._expire, request_id, method, timeout)
            future.add_done_callback(lambda _f: handle.cancel())
        socket.write(line)
        return future

    def _expire(self, request_id: RequestId, method: str, timeout: float) -> None:
        future = self._pending.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(
                IpcTimeout(f"the worker did not answer {method} within {timeout:g} s")
            )

    async def subscribe(self, topics: Iterable[str]) -> frozenset[str]:
        """Receive events for `topics` (kept across reconnects); returns all subscribed."""
        wanted = set(topics)
        unknown = wanted - set(TOPICS)
        if unknown:
            raise ValueError(f"unknown topics {sorted(unknown)} (known: {', '.join(TOPICS)})")
        self._topics |= wanted
        if self.is_connected:
            await self.request("subscribe", {"topics": sorted(wanted)})
        return frozenset(self._topics)

    async def unsubscribe(self, topics: Iterable[str]) -> frozenset[str]:
        dropped = set(topics) & self._topics
        self._topics -= dropped
        if dropped and self.is_connected:
            await self.request("unsubscribe", {"topics": sorted(dropped)})
        return frozenset(self._topics)

    # ------------------------------------------------------------ receiving

    def _on_ready_read(self) -> None:
        socket = self._socket
        if socket is None:
            return
        try:
            lines = self._lines.feed(socket.readAll().data())
        except MessageTooLong:
            log.error("the worker sent a message over the size limit; reconnect needed")
            self._abort_connection()
            return
        for line in lines:
            try:
                message = parse_server_message(line)
            except IpcError as exc:
                log.warning("ignoring a malformed message from the worker: %s", exc)
                continue
            if isinstance(message, Event):
                self.event.emit(message.event, message.data)
                continue
            future = self._pending.pop(message.id, None) if message.id is not None else None
            if future is None:
                if message.error is not None:
                    log.warning(
                        "worker error without a matching request: %s", message.error.message
                    )
                continue
            if future.done():
                continue
            if message.error is not None:
                future.set_exception(IpcError(message.error.code, message.error.message))
            else:
                future.set_result(message.result)

    def _abort_connection(self) -> None:
        socket = self._socket
        if socket is not None:
            socket.abort()  # emits disconnected -> _on_disconnected
        if self._socket is not None:
            self._on_disconnected()
