"""A tiny HTTP/1.1 server on loopback (optionally TLS) for tests that need real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass
class Seen:
    """The request heads the server received, decoded."""

    heads: list[str] = field(default_factory=list)


def http_reply(
    body: bytes, status: str = "200 OK", content_type: str = "application/json"
) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


@contextlib.asynccontextmanager
async def serve(
    reply: bytes | Callable[[str], bytes],
    *,
    tls: ssl.SSLContext | None = None,
    greet_first: bool = False,
) -> AsyncIterator[tuple[int, Seen]]:
    """Answers every connection with `reply`, or `reply(request head)`. `greet_first` sends a
    bytes reply before reading anything (a plain HTTP server met by a TLS client)."""
    seen = Seen()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            answer = reply if isinstance(reply, bytes) else b""
            if not greet_first:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                seen.heads.append(head)
                if callable(reply):
                    answer = reply(head)
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass  # the client gave up, e.g. after refusing our certificate
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, seen
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def tunnel_proxy(target_port: int) -> AsyncIterator[tuple[int, Seen]]:
    """An HTTP CONNECT proxy that tunnels every connection to 127.0.0.1:`target_port`."""
    seen = Seen()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        seen.heads.append(head)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, seen
    finally:
        server.close()
        await server.wait_closed()
