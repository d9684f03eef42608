"""Blocking IPC client for the CLI (and for the worker's "is one already running?" probe).

Transport choice:
- POSIX: a plain `socket.AF_UNIX` socket on the instance's socket file. No Qt is imported,
  so CLI commands start fast and work without any Qt plugin.
- Windows: QLocalServer listens on a named pipe (`\\\\.\\pipe\\<name>`), which plain sockets
  cannot open. There the client uses QLocalSocket's blocking `waitFor*` calls, which work
  without a QCoreApplication or an event loop, so the CLI still creates no application
  object. Waits are sliced (200 ms) so Ctrl-C is handled promptly.
The Qt transport also runs on POSIX (`transport="qt"`), which is how the tests cover it.
"""

from __future__ import annotations

import collections
import itertools
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel

from app.core.closing import ClosesOnExit
from app.ipc.names import SocketAddress, socket_address
from app.ipc.protocol import (
    MAX_MESSAGE_BYTES,
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

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalSocket

TransportKind = Literal["auto", "socket", "qt"]
# Events received while waiting for a reply are kept for iter_events(), up to this many.
MAX_QUEUED_EVENTS = 10_000
_RECV_CHUNK = 256 * 1024
_QT_WAIT_SLICE_MS = 200


class _Transport(Protocol):
    def send(self, data: bytes, timeout: float) -> None: ...

    def recv(self, timeout: float | None) -> bytes:
        """Some bytes; b"" when the worker closed the connection."""
        ...

    def close(self) -> None: ...


class _SocketTransport:
    """AF_UNIX stream socket (POSIX)."""

    def __init__(self, address: SocketAddress, timeout: float) -> None:
        assert address.path is not None
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(str(address.path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            raise WorkerNotRunning(address.instance) from exc
        except TimeoutError:
            # Something holds the socket but does not accept: alive, but stuck.
            sock.close()
            raise IpcTimeout(_no_connect(timeout)) from None
        except OSError as exc:
            sock.close()
            raise IpcError(
                ErrorCode.UNAVAILABLE,
                f"cannot connect to the worker at {address.display}: {exc.strerror or exc}",
            ) from None
        self._sock = sock

    def send(self, data: bytes, timeout: float) -> None:
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(data)
        except TimeoutError:
            raise IpcTimeout(_not_reading(timeout)) from None
        except OSError as exc:
            raise ConnectionLost(f"the connection to the worker failed: {exc}") from None

    def recv(self, timeout: float | None) -> bytes:
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv(_RECV_CHUNK)
        except TimeoutError:
            raise IpcTimeout(_silent(timeout)) from None
        except OSError as exc:
            raise ConnectionLost(f"the connection to the worker failed: {exc}") from None

    def close(self) -> None:
        self._sock.close()


class _QtTransport:
    """QLocalSocket with blocking waits, no QCoreApplication needed (named pipes on Windows)."""

    def __init__(self, address: SocketAddress, timeout: float) -> None:
        from PySide6.QtNetwork import QLocalSocket

        self._socket: QLocalSocket = QLocalSocket()
        self._socket.connectToServer(address.name)
        if not self._socket.waitForConnected(_ms(timeout)):
            error = self._socket.error()
            message = self._socket.errorString()
            self._socket.abort()
            if error in (
                QLocalSocket.LocalSocketError.ServerNotFoundError,
                QLocalSocket.LocalSocketError.ConnectionRefusedError,
            ):
                raise WorkerNotRunning(address.instance)
            if error == QLocalSocket.LocalSocketError.SocketTimeoutError:
                raise IpcTimeout(_no_connect(timeout))
            raise IpcError(
                ErrorCode.UNAVAILABLE,
                f"cannot connect to the worker at {address.display}: {message}",
            )

    def _connected(self) -> bool:
        from PySide6.QtNetwork import QLocalSocket

        return self._socket.state() == QLocalSocket.LocalSocketState.ConnectedState

    def send(self, data: bytes, timeout: float) -> None:
        if not self._connected():
            raise ConnectionLost()
        self._socket.write(data)
        deadline = time.monotonic() + timeout
        while self._socket.bytesToWrite() > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise IpcTimeout(_not_reading(timeout))
            written = self._socket.waitForBytesWritten(min(_ms(remaining), _QT_WAIT_SLICE_MS))
            if not written and not self._connected():
                raise ConnectionLost()

    def recv(self, timeout: float | None) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._socket.bytesAvailable() == 0:
            if not self._connected():
                return b""
            wait_ms = _QT_WAIT_SLICE_MS
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise IpcTimeout(_silent(timeout))
                wait_ms = min(wait_ms, _ms(remaining))
            self._socket.waitForReadyRead(wait_ms)
        return bytes(self._socket.readAll().data())

    def close(self) -> None:
        self._socket.abort()


def _no_connect(timeout: float) -> str:
    return f"the worker did not accept the connection within {timeout:g} s"


def _not_reading(timeout: float) -> str:
    return f"the worker did not read the request within {timeout:g} s"


def _silent(timeout: float | None) -> str:
    return f"nothing arrived from the worker within {timeout or 0:g} s"


def _no_reply(method: str, timeout: float) -> str:
    return f"the worker did not answer {method} within {timeout:g} s"


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def open_transport(
    address: SocketAddress, timeout: float, kind: TransportKind = "auto"
) -> _Transport:
    """Connect to the worker; WorkerNotRunning when nothing listens."""
    if kind == "auto":
        kind = "qt" if sys.platform == "win32" else "socket"
    if kind == "socket":
        return _SocketTransport(address, timeout)
    return _QtTransport(address, timeout)


class LineConnection(ClosesOnExit):
    """One blocking, framed connection: send lines, receive lines."""

    def __init__(self, transport: _Transport) -> None:
        self._transport = transport
        self._lines = LineBuffer(MAX_MESSAGE_BYTES)
        self._ready: collections.deque[bytes] = collections.deque()
        self._closed = False

    @classmethod
    def open(
        cls, address: SocketAddress, timeout: float, kind: TransportKind = "auto"
    ) -> LineConnection:
        return cls(open_transport(address, timeout, kind))

    def send(self, data: bytes, timeout: float = 5.0) -> None:
        if self._closed:
            raise ConnectionLost()
        self._transport.send(data, timeout)

    def receive(self, timeout: float | None = 5.0) -> bytes:
        """The next line (without newline); IpcTimeout, or ConnectionLost at end of stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._ready:
            if self._closed:
                raise ConnectionLost()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                raise IpcTimeout(_silent(timeout))
            try:
                chunk = self._transport.recv(remaining)
            except IpcTimeout:
                raise IpcTimeout(_silent(timeout)) from None
            if not chunk:
                self.close()
                raise ConnectionLost("the worker closed the connection")
            try:
                self._ready.extend(self._lines.feed(chunk))
            except MessageTooLong:
                self.close()
                raise ConnectionLost("the worker sent a message over the size limit") from None
        return self._ready.popleft()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport.close()


Params = dict[str, Any] | BaseModel | None


class BlockingIpcClient(ClosesOnExit):
    """Request/response over one connection, for scripts and the CLI.

    `call()` raises IpcError with the worker's error code and message, WorkerNotRunning when
    nothing answers, IpcTimeout when the reply does not come within the timeout.
    """

    def __init__(
        self,
        instance: str = "default",
        timeout: float = 5.0,
        *,
        address: SocketAddress | None = None,
        transport: TransportKind = "auto",
    ) -> None:
        self.instance = instance
        self.timeout = timeout
        self.address = address or socket_address(instance)
        self._kind = transport
        self._connection: LineConnection | None = None
        self._ids = itertools.count(1)
        self._events: collections.deque[tuple[str, Any]] = collections.deque(
            maxlen=MAX_QUEUED_EVENTS
        )

    def connect(self) -> None:
        if self._connection is None:
            self._connection = LineConnection.open(self.address, self.timeout, self._kind)

    def _ensure_connected(self) -> LineConnection:
        self.connect()
        assert self._connection is not None
        return self._connection

    def call(self, method: str, params: Params = None, timeout: float | None = None) -> Any:
        """Send one request and wait for its reply; returns the result."""
        connection = self._ensure_connected()
        timeout = self.timeout if timeout is None else timeout
        request_id: RequestId = next(self._ids)
        try:
            line = encode_request(request_id, method, params)
        except (TypeError, ValueError) as exc:
            raise IpcError(ErrorCode.INVALID_PARAMS, f"cannot send params: {exc}") from None
        connection.send(line, timeout)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise IpcTimeout(_no_reply(method, timeout))
            try:
                message = parse_server_message(connection.receive(remaining))
            except IpcTimeout:
                raise IpcTimeout(_no_reply(method, timeout)) from None
            if isinstance(message, Event):
                self._events.append((message.event, message.data))
                continue
            if message.id != request_id:
                continue  # the late reply of an earlier request that timed out
            if message.error is not None:
                raise IpcError(message.error.code, message.error.message)
            return message.result

    def iter_events(
        self, topics: Iterable[str], idle_timeout: float | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Subscribe now, then yield (topic, data) as the worker pushes them, until the worker
        goes away (ConnectionLost) or nothing arrives for `idle_timeout` s (IpcTimeout)."""
        self.call("subscribe", {"topics": list(topics)})
        return self._events_after_subscribe(self._ensure_connected(), idle_timeout)

    def _events_after_subscribe(
        self, connection: LineConnection, idle_timeout: float | None
    ) -> Iterator[tuple[str, Any]]:
        while True:
            while self._events:
                yield self._events.popleft()
            message = parse_server_message(connection.receive(idle_timeout))
            if isinstance(message, Event):
                yield message.event, message.data

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass(frozen=True)
class ProbeResult:
    alive: bool
    pid: int | None = None


def probe_worker(address: SocketAddress, timeout: float = 2.0) -> ProbeResult:
    """Does a worker answer on `address`? Anything that accepts the connection counts as
    alive (even if it does not answer the ping): its socket must not be taken away."""
    client = BlockingIpcClient(address.instance, timeout, address=address)
    try:
        client.connect()
    except WorkerNotRunning:
        return ProbeResult(alive=False)
    except IpcError:
        return ProbeResult(alive=True)
    try:
        reply = client.call("ping")
    except IpcError:
        return ProbeResult(alive=True)
    finally:
        client.close()
    pid = reply.get("pid") if isinstance(reply, dict) else None
    return ProbeResult(alive=True, pid=pid if isinstance(pid, int) else None)


def worker_answers(instance: str, timeout: float = 2.0) -> bool:
    """Whether a worker holds the instance's socket (answering or not: see `probe_worker`)."""
    return probe_worker(socket_address(instance), timeout).alive
