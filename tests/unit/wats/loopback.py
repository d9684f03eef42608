"""A tiny HTTP/1.1 server on loopback (optionally TLS) for tests that need real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
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
    reply: bytes, *, tls: ssl.SSLContext | None = None, greet_first: bool = False
) -> AsyncIterator[tuple[int, Seen]]:
    """Answers every connection with `reply`. `greet_first` sends it before reading anything
    (a plain HTTP server met by a TLS client)."""
    seen = Seen()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not greet_first:
                head = await reader.readuntil(b"\r\n\r\n")
                seen.heads.append(head.decode("latin-1"))
            writer.write(reply)
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
