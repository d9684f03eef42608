"""The proxy option against a real forwarding proxy on loopback."""

import base64

import pytest

from app.wats import AuthenticationError, WatsClient

from .loopback import http_reply, serve


async def test_requests_go_through_the_proxy_with_its_credentials():
    async with serve(http_reply(b'"2023.2"')) as (port, seen):
        proxy = f"http://bob:s3cret@127.0.0.1:{port}"
        async with WatsClient("http://wats.example.test/", "tok", proxy=proxy) as client:
            assert await client.version() == "2023.2"
    head = seen.heads[0]
    lines = head.split("\r\n")
    assert lines[0] == "GET http://wats.example.test/api/App/Version HTTP/1.1"
    headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"bob:s3cret").decode()
    assert headers["authorization"] == "Basic tok"
    assert headers["host"] == "wats.example.test"


async def test_environment_proxy_is_used_when_none_is_configured(monkeypatch):
    async with serve(http_reply(b'"1"')) as (port, seen):
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        async with WatsClient("http://wats.example.test/", None) as client:
            assert await client.version() == "1"
    assert seen.heads[0].startswith("GET http://wats.example.test/api/App/Version HTTP/1.1")


async def test_proxy_refusing_credentials_is_an_authentication_error():
    reply = http_reply(b"", "407 Proxy Authentication Required", "text/plain")
    async with serve(reply) as (port, _):
        proxy = f"http://bob:wrong@127.0.0.1:{port}"
        async with WatsClient("http://wats.example.test/", "t", proxy=proxy) as client:
            with pytest.raises(AuthenticationError) as info:
                await client.version()
    assert "authentication failed at the proxy" in str(info.value)
    assert "wrong" not in str(info.value)
