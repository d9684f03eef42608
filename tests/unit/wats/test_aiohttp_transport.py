"""The aiohttp transport under `WatsClient` for direct connections: real sockets on loopback.

Every failure must reach the caller as the same `WatsError` (and words) as with httpx's own
transport; the request on the wire must be the one httpx built.
"""

import asyncio
import contextlib
import gzip
import socket
import ssl
from types import SimpleNamespace

import aiohttp
import httpx
import pytest

from app.wats import TransientError, WatsClient
from app.wats._aiohttp_transport import AiohttpTransport, _httpx_error, direct_connection

from .loopback import http_reply, serve


def _uses_aiohttp(client: WatsClient) -> bool:
    return isinstance(client._http._transport, AiohttpTransport)


def test_direct_connection_only_when_no_proxy_applies(monkeypatch):
    url = "https://wats.example.test/"
    assert direct_connection(url, None, trust_env=True)
    assert not direct_connection(url, "http://proxy:3128", trust_env=True)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert not direct_connection(url, None, trust_env=True)
    assert direct_connection("http://wats.example.test/", None, trust_env=True)
    assert direct_connection(url, None, trust_env=False)
    monkeypatch.setenv("ALL_PROXY", "http://proxy:3128")
    assert not direct_connection("http://wats.example.test/", None, trust_env=True)


async def test_client_picks_the_transport_by_proxy(monkeypatch):
    async with WatsClient("http://127.0.0.1:9/", "t") as direct:
        assert _uses_aiohttp(direct)
    async with WatsClient("http://127.0.0.1:9/", "t", proxy="http://127.0.0.1:8") as proxied:
        assert not _uses_aiohttp(proxied)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:8")
    async with WatsClient("http://127.0.0.1:9/", "t") as from_environment:
        assert not _uses_aiohttp(from_environment)


async def test_the_request_on_the_wire_is_the_one_httpx_built():
    async with (
        serve(http_reply(b"[]")) as (port, seen),
        WatsClient(f"http://127.0.0.1:{port}/", "tok", user_agent="ua/1") as client,
    ):
        assert _uses_aiohttp(client)
        await client.query_headers("partNumber eq 'A B/1+2'", top=5)
    head = seen.heads[0]
    request_line, *lines = head.split("\r\n")
    # httpx's encoding of the OData query stands: aiohttp must not re-quote it.
    expected = httpx.URL(
        f"http://127.0.0.1:{port}/api/Report/Query/Header",
        params={"$top": "5", "$filter": "partNumber eq 'A B/1+2'"},
    )
    assert request_line.split(" ")[1] == expected.raw_path.decode()
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines if line)}
    assert headers["authorization"] == "Basic tok"
    assert headers["user-agent"] == "ua/1"
    assert headers["accept"] == "application/json"


async def test_post_body_and_content_type_arrive_unchanged():
    report = b'{"id": "c3eef2e0-034f-4ae1-9f8a-498a6e213775", "type": "T"}'
    bodies: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = int(
            next(h for h in head.split("\r\n") if h.lower().startswith("content-length")).split(
                ":"
            )[1]
        )
        bodies.append(head.encode() + await reader.readexactly(length))
        writer.write(http_reply(b'{"ID": "c3eef2e0-034f-4ae1-9f8a-498a6e213775"}'))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with WatsClient(f"http://127.0.0.1:{port}/", "tok") as client:
            result = await client.submit_wsjf(report)
    finally:
        server.close()
        await server.wait_closed()
    assert str(result.id) == "c3eef2e0-034f-4ae1-9f8a-498a6e213775"
    head, _, body = bodies[0].partition(b"\r\n\r\n")
    assert body == report
    assert b"\r\ncontent-type: application/json" in head.lower()


async def test_gzip_reply_is_decoded_by_httpx():
    body = gzip.compress(b'"2024.1"')
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    async with serve(reply) as (port, _), WatsClient(f"http://127.0.0.1:{port}/", None) as client:
        assert await client.version() == "2024.1"


async def test_connections_are_kept_alive_between_requests():
    peers: list[tuple[str, int]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peers.append(writer.get_extra_info("peername"))
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"1"')
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with WatsClient(f"http://127.0.0.1:{port}/", None) as client:
            for _ in range(5):
                assert await client.version() == "1"
    finally:
        server.close()
        await server.wait_closed()
    assert len(peers) == 1


async def test_refused_connection_says_so():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with WatsClient(f"http://127.0.0.1:{port}/", None) as client:
        with pytest.raises(TransientError) as info:
            await client.version()
    assert f"cannot reach the WATS server at http://127.0.0.1:{port}/" in str(info.value)
    assert "connection refused" in str(info.value)


async def test_silent_server_is_a_read_timeout():
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await release.wait()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with WatsClient(f"http://127.0.0.1:{port}/", None, get_timeout=0.2) as client:
            with pytest.raises(TransientError) as info:
                await client.version()
    finally:
        release.set()
        server.close()
        await server.wait_closed()
    assert "did not answer GET api/App/Version within 0.2 s" in str(info.value)


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (b"", "Server disconnected"),  # closed without a word
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", "broke during GET"),
        (b"NOT HTTP AT ALL\r\n\r\n", "broke during GET"),
    ],
)
async def test_broken_replies_are_transient(reply, words):
    async with serve(reply) as (port, _), WatsClient(f"http://127.0.0.1:{port}/", None) as client:
        with pytest.raises(TransientError) as info:
            await client.version()
    assert str(info.value).startswith(
        f"the connection to the WATS server at http://127.0.0.1:{port}/"
    )
    assert words in str(info.value)
    assert info.value.status is None


def test_every_aiohttp_failure_maps_to_the_httpx_error_httpx_would_raise():
    request = httpx.Request("GET", "http://x.test/")
    key = SimpleNamespace(host="x.test", port=80, ssl=True)  # what aiohttp reads of it
    cases = [
        (aiohttp.ConnectionTimeoutError("timeout"), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError("timeout"), httpx.ReadTimeout),
        (aiohttp.ServerTimeoutError("timeout"), httpx.ReadTimeout),
        (
            aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused")),
            httpx.ConnectError,
        ),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), httpx.ReadError),
    ]
    for failure, expected in cases:
        error = _httpx_error(failure, request)
        assert type(error) is expected, failure
        assert error.request is request


async def test_closing_the_client_closes_the_session():
    async with serve(http_reply(b'"1"')) as (port, _):
        transport = AiohttpTransport(ssl.create_default_context())
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(f"http://127.0.0.1:{port}/")
            assert response.json() == "1"
            session = transport._session
            assert session is not None
            assert not session.closed
        assert session.closed
