"""Failures over real loopback sockets, where the OS (not a mock) produces the error."""

import socket

import pytest

from app.wats import TransientError, WatsClient


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_connection_refused_names_the_server():
    port = _closed_port()
    async with WatsClient(f"http://127.0.0.1:{port}", "t") as client:
        with pytest.raises(TransientError) as info:
            await client.ping()
    assert str(info.value) == (
        f"cannot reach the WATS server at http://127.0.0.1:{port}/: connection refused "
        "(nothing listens on that port, or a firewall refuses)"
    )
    assert info.value.url == f"http://127.0.0.1:{port}/api/internal/Client/Ping"
