"""check_server step by step against fake WATS servers on loopback (real sockets and TLS)."""

import json
import socket
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from app.wats import AuthenticationError, TlsError, TransientError, check_server, format_duration

from .loopback import http_reply, serve, tunnel_proxy

SERVER_TIME = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def wats(version: str = "2023.2.1.4", auth_status: str | None = None):
    """A fake WATS server answering the three calls check_server makes."""

    def reply(head: str) -> bytes:
        if auth_status:
            return http_reply(b'{"Message": "no"}', auth_status)
        path = head.split(" ", 2)[1]
        if path.endswith("/api/internal/Client/ServerInfo"):
            return http_reply(json.dumps({"Version": version}).encode())
        if path.endswith("/api/App/Version"):
            return http_reply(json.dumps(version).encode())
        if path.endswith("/api/internal/Client/Ping"):
            body = {"ServerName": "fake", "ServerTime": SERVER_TIME.isoformat()}
            return http_reply(json.dumps(body).encode())
        return http_reply(b"{}", "404 Not Found")

    return reply


def fixed(when: datetime):
    return lambda: when


def outcomes(results):
    return [(r.name, r.outcome) for r in results]


async def test_everything_ok_over_plain_http_on_loopback():
    async with serve(wats()) as (port, seen):
        results = await check_server(f"http://127.0.0.1:{port}", "tok", clock=fixed(SERVER_TIME))
    assert outcomes(results) == [
        ("reachable", "ok"),
        ("TLS", "ok"),
        ("auth", "ok"),
        ("server version", "ok"),
        ("clock", "ok"),
    ]
    assert results[0].detail.startswith(f"127.0.0.1 accepts connections on port {port} (")
    assert results[1].detail == "not needed: plain http:// to this computer"
    assert results[3].detail == "2023.2.1.4"
    assert results[4].detail == "this station's clock is within 0 s of the server's"
    assert all(r.error is None for r in results)
    requested = [head.split(" ")[1] for head in seen.heads]
    assert requested == [
        "/api/internal/Client/ServerInfo",
        "/api/App/Version",
        "/api/internal/Client/Ping",
    ]
    assert all("Authorization: Basic tok" in head for head in seen.heads)


@pytest.mark.parametrize(
    ("local", "words"),
    [
        (SERVER_TIME - timedelta(minutes=7, seconds=12), "the server's clock is 7 min 12 s ahead"),
        (SERVER_TIME + timedelta(hours=2, minutes=5), "this station's clock is 2 h 5 min ahead"),
    ],
)
async def test_clock_skew_above_five_minutes_warns_and_says_who_is_ahead(local, words):
    async with serve(wats()) as (port, _):
        results = await check_server(f"http://127.0.0.1:{port}", "tok", clock=fixed(local))
    clock = results[-1]
    assert (clock.name, clock.outcome) == ("clock", "warn")
    assert clock.detail.startswith(words)


async def test_clock_skew_under_five_minutes_is_ok():
    local = SERVER_TIME + timedelta(minutes=4, seconds=59)
    async with serve(wats()) as (port, _):
        results = await check_server(f"http://127.0.0.1:{port}", "tok", clock=fixed(local))
    assert results[-1].outcome == "ok"
    assert results[-1].detail == "this station's clock is within 4 min 59 s of the server's"


@pytest.mark.parametrize(
    ("status", "words"), [("401 Unauthorized", "401 Unauthorized"), ("403 Forbidden", "403")]
)
async def test_refused_token_fails_auth_and_skips_the_rest(status, words):
    async with serve(wats(auth_status=status)) as (port, _):
        results = await check_server(f"http://127.0.0.1:{port}", "bad")
    assert outcomes(results)[2:] == [
        ("auth", "fail"),
        ("server version", "skip"),
        ("clock", "skip"),
    ]
    assert isinstance(results[2].error, AuthenticationError)
    assert results[2].detail.startswith("authentication failed at the WATS server")
    assert words in results[2].detail


async def test_missing_token_is_named_as_the_cause():
    async with serve(wats(auth_status="401 Unauthorized")) as (port, _):
        results = await check_server(f"http://127.0.0.1:{port}", None)
    assert results[2].detail.startswith("authentication failed: no token was given")


async def test_old_server_version_warns():
    async with serve(wats(version="2020.1.0.0")) as (port, _):
        results = await check_server(f"http://127.0.0.1:{port}", "t", clock=fixed(SERVER_TIME))
    assert results[3].outcome == "warn"
    assert (
        results[3].detail == "2020.1.0.0: older than 2021.2, which the official WATS client refuses"
    )


async def test_unreachable_port_fails_first_step_with_a_transient_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    results = await check_server(f"http://127.0.0.1:{port}", "t")
    assert outcomes(results) == [
        ("reachable", "fail"),
        ("TLS", "skip"),
        ("auth", "skip"),
        ("server version", "skip"),
        ("clock", "skip"),
    ]
    assert (
        results[0].detail
        == f"nothing accepts connections on port {port} of 127.0.0.1: connection refused"
    )
    assert isinstance(results[0].error, TransientError)
    assert f"http://127.0.0.1:{port}/" in str(results[0].error)


@pytest.fixture
def ca():
    return trustme.CA()


def _tls(ca, name="127.0.0.1"):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return context


async def test_tls_verified_with_a_ca_bundle_names_expiry(ca, tmp_path):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    async with serve(wats(), tls=_tls(ca)) as (port, _):
        results = await check_server(
            f"https://127.0.0.1:{port}", "t", verify=str(bundle), clock=fixed(SERVER_TIME)
        )
    assert outcomes(results) == [
        ("reachable", "ok"),
        ("TLS", "ok"),
        ("auth", "ok"),
        ("server version", "ok"),
        ("clock", "ok"),
    ]
    assert results[1].detail.startswith("TLSv1.")
    assert results[1].detail.endswith(
        f"certificate for 127.0.0.1 verified against the CA bundle {bundle}; valid until 3000-01-01"
    )


async def test_tls_certificate_about_to_expire_warns(ca, tmp_path):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    almost = datetime(2999, 12, 25, tzinfo=UTC)  # trustme certificates end on 3000-01-01
    async with serve(wats(), tls=_tls(ca)) as (port, _):
        results = await check_server(
            f"https://127.0.0.1:{port}", "t", verify=str(bundle), clock=fixed(almost)
        )
    assert results[1].outcome == "warn"
    assert results[1].detail.endswith("valid until 3000-01-01 (expires in 7 days)")


async def test_untrusted_certificate_fails_tls_with_the_reason(ca):
    async with serve(wats(), tls=_tls(ca)) as (port, seen):
        results = await check_server(f"https://127.0.0.1:{port}", "t")
    assert outcomes(results)[:3] == [("reachable", "ok"), ("TLS", "fail"), ("auth", "skip")]
    assert results[1].detail.startswith("the server's certificate is not trusted: ")
    assert isinstance(results[1].error, TlsError)
    assert seen.heads == []  # the token was never sent to an untrusted server


async def test_insecure_warns_that_nothing_was_verified(ca):
    async with serve(wats(), tls=_tls(ca)) as (port, _):
        results = await check_server(
            f"https://127.0.0.1:{port}", "t", verify=False, clock=fixed(SERVER_TIME)
        )
    assert results[1].outcome == "warn"
    assert "certificate NOT checked (--insecure)" in results[1].detail
    assert results[2].outcome == "ok"


async def test_through_a_proxy_to_a_remote_plain_http_server():
    async with serve(wats()) as (port, seen):
        results = await check_server(
            "http://wats.example.test/",
            "t",
            proxy=f"http://bob:s3cret@127.0.0.1:{port}",
            clock=fixed(SERVER_TIME),
        )
    assert outcomes(results) == [
        ("reachable", "ok"),
        ("TLS", "warn"),
        ("auth", "ok"),
        ("server version", "ok"),
        ("clock", "ok"),
    ]
    assert results[0].detail.startswith(f"the proxy http://bob:***@127.0.0.1:{port} accepts")
    assert results[0].detail.endswith("; the server is reached through it")
    assert results[1].detail.startswith("not used: http:// sends the token")
    assert seen.heads[0].startswith("GET http://wats.example.test/api/internal/Client/ServerInfo ")
    assert all("s3cret" not in r.detail for r in results)


async def test_bad_arguments_raise_value_error_without_secrets(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        await check_server("https://h/", "t", verify=str(tmp_path / "none.pem"))
    with pytest.raises(ValueError, match=r"the proxy URL socks5://u:\*\*\*@p:1 must start") as info:
        await check_server("https://h/", "t", proxy="socks5://u:pw@p:1")
    assert "pw" not in str(info.value)
    with pytest.raises(ValueError, match="must start with https:// or http://"):
        await check_server("ftp://h/", "t")


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=42), "42 s"),
        (timedelta(minutes=-7, seconds=-12), "7 min 12 s"),
        (timedelta(minutes=5), "5 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(hours=2, minutes=5, seconds=30), "2 h 5 min"),
        (timedelta(hours=47), "47 h"),
        (timedelta(days=9, hours=23), "9 days"),
    ],
)
def test_format_duration(delta, text):
    assert format_duration(delta) == text


async def test_https_through_a_tunnelling_proxy_checks_tls_with_the_first_call(ca, tmp_path):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    async with (
        serve(wats(), tls=_tls(ca, "wats.example.test")) as (server_port, _),
        tunnel_proxy(server_port) as (proxy_port, seen),
    ):
        results = await check_server(
            "https://wats.example.test/",
            "t",
            proxy=f"http://127.0.0.1:{proxy_port}",
            verify=str(bundle),
            clock=fixed(SERVER_TIME),
        )
    assert outcomes(results) == [
        ("reachable", "ok"),
        ("TLS", "ok"),
        ("auth", "ok"),
        ("server version", "ok"),
        ("clock", "ok"),
    ]
    assert results[1].detail == "certificate verified through the proxy"
    assert seen.heads[0].startswith("CONNECT wats.example.test:443 HTTP/1.1")


async def test_untrusted_certificate_through_a_proxy_fails_tls(ca):
    async with (
        serve(wats(), tls=_tls(ca, "wats.example.test")) as (server_port, _),
        tunnel_proxy(server_port) as (proxy_port, _),
    ):
        results = await check_server(
            "https://wats.example.test/", "t", proxy=f"http://127.0.0.1:{proxy_port}"
        )
    assert outcomes(results)[:3] == [("reachable", "ok"), ("TLS", "fail"), ("auth", "skip")]
    assert isinstance(results[1].error, TlsError)
    assert "certificate is not trusted" in results[1].detail
