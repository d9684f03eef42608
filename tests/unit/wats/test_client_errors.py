"""Every way a request can fail, and the WatsError class and words it becomes."""

import errno
import socket
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from app.wats import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TlsError,
    TransientError,
    UnexpectedResponseError,
    WatsError,
)

from .conftest import json_response

REPORT = {"id": "c3eef2e0-034f-4ae1-9f8a-498a6e213775", "type": "T"}
VERSION_URL = "https://wats.example.test/api/App/Version"


def _grouped_failure() -> OSError:
    try:
        raise OSError("All connection attempts failed") from ExceptionGroup(
            "multiple connection attempts failed",
            [OSError(errno.EADDRNOTAVAIL, "Cannot assign address"), ConnectionRefusedError()],
        )
    except OSError as exc:
        return exc


def _raiser(exc_type, message="", cause=None):
    def handler(request):
        exc = exc_type(message, request=request)
        if cause is not None:
            raise exc from cause
        raise exc

    return handler


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (
            _raiser(
                httpx.ConnectError,
                "[Errno -2] Name or service not known",
                socket.gaierror(-2, "Name or service not known"),
            ),
            "the name wats.example.test could not be resolved (DNS)",
        ),
        (
            _raiser(
                httpx.ConnectError,
                "All connection attempts failed",
                ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            ),
            "connection refused",
        ),
        (
            _raiser(httpx.ConnectError, "x", OSError(errno.ENETUNREACH, "Network is unreachable")),
            "network is unreachable",
        ),
        (_raiser(httpx.ConnectError, "[Errno 11001] getaddrinfo failed"), "could not be resolved"),
        (
            # anyio tries every address of the host and groups the failures.
            _raiser(httpx.ConnectError, "All connection attempts failed", _grouped_failure()),
            "connection refused",
        ),
        (_raiser(httpx.ConnectTimeout, "timed out"), "no connection within 3 s"),
    ],
)
async def test_connection_failures_are_transient_and_name_the_server(mock_client, handler, reason):
    client, _ = mock_client(handler, connect_timeout=3)
    async with client:
        with pytest.raises(TransientError) as info:
            await client.version()
    error = info.value
    assert type(error) is TransientError
    assert str(error).startswith("cannot reach the WATS server at https://wats.example.test/: ")
    assert reason in str(error)
    assert error.status is None
    assert error.url == VERSION_URL


async def test_read_timeout_uses_the_get_or_post_timeout(mock_client):
    client, _ = mock_client(_raiser(httpx.ReadTimeout, "timed out"), get_timeout=4, post_timeout=90)
    async with client:
        with pytest.raises(TransientError, match=r"did not answer GET api/App/Version within 4 s"):
            await client.version()
        with pytest.raises(
            TransientError, match=r"did not answer POST api/Report/WSJF within 90 s"
        ):
            await client.submit_wsjf(REPORT)


async def test_timeouts_are_passed_to_httpx_per_request(mock_client):
    seen = {}

    def handler(request):
        seen[request.method] = request.extensions["timeout"]
        return json_response([{"ID": REPORT["id"]}] if request.method == "POST" else "1")

    client, _ = mock_client(handler, connect_timeout=2, get_timeout=7, post_timeout=55)
    async with client:
        await client.version()
        await client.submit_wsjf(REPORT)
    assert seen["GET"] == {"connect": 2, "read": 7, "write": 7, "pool": 7}
    assert seen["POST"] == {"connect": 2, "read": 55, "write": 55, "pool": 55}


@pytest.mark.parametrize(
    ("exc_type", "message"),
    [
        (httpx.RemoteProtocolError, "Server disconnected without sending a response."),
        (httpx.ReadError, "Connection reset by peer"),
        (httpx.WriteError, "Broken pipe"),
    ],
)
async def test_dropped_connection_is_transient(mock_client, exc_type, message):
    client, _ = mock_client(_raiser(exc_type, message))
    async with client:
        with pytest.raises(TransientError) as info:
            await client.submit_wsjf(REPORT)
    assert str(info.value) == (
        "the connection to the WATS server at https://wats.example.test/ broke during "
        f"POST api/Report/WSJF: {message}"
    )


async def test_write_and_pool_timeouts_are_transient(mock_client):
    for exc_type, words in [
        (httpx.WriteTimeout, "took longer than"),
        (httpx.PoolTimeout, "no free connection"),
    ]:
        client, _ = mock_client(_raiser(exc_type, "timed out"))
        async with client:
            with pytest.raises(TransientError, match=words):
                await client.version()


async def test_tls_failure_is_a_tls_error_not_a_transient_one(mock_client):
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "certificate has expired"
    client, _ = mock_client(_raiser(httpx.ConnectError, "certificate verify failed", cause))
    async with client:
        with pytest.raises(TlsError) as info:
            await client.version()
    assert not isinstance(info.value, TransientError)
    assert str(info.value) == (
        "TLS problem with the WATS server at https://wats.example.test/: the server's "
        "certificate is not trusted: certificate has expired (the certificate has expired, or "
        "this computer's clock is wrong)"
    )


async def test_proxy_errors(mock_client):
    client, _ = mock_client(_raiser(httpx.ProxyError, "407 Proxy Authentication Required"))
    async with client:
        with pytest.raises(AuthenticationError, match="authentication failed at the proxy"):
            await client.version()
    client, _ = mock_client(_raiser(httpx.ProxyError, "502 Bad Gateway"))
    async with client:
        with pytest.raises(TransientError, match="through the proxy: 502 Bad Gateway"):
            await client.version()


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_server_errors_are_transient_with_the_server_message(mock_client, status):
    client, _ = mock_client(lambda r: json_response({"Message": "database busy"}, status))
    async with client:
        with pytest.raises(TransientError) as info:
            await client.submit_wsjf(REPORT)
    error = info.value
    assert type(error) is TransientError
    assert error.status == status
    assert (
        "the WATS server at https://wats.example.test/ failed to answer POST api/Report/WSJF"
        in str(error)
    )
    assert str(error).endswith(": database busy")


async def test_429_with_seconds(mock_client):
    client, _ = mock_client(lambda r: json_response({}, 429, **{"Retry-After": "30"}))
    async with client:
        with pytest.raises(RateLimitedError) as info:
            await client.submit_wsjf(REPORT)
    assert isinstance(info.value, TransientError)
    assert info.value.retry_after == 30.0
    assert info.value.status == 429
    assert "limiting the request rate (429 Too Many Requests); it asks to wait 30 s" in str(
        info.value
    )


async def test_429_with_http_date(mock_client):
    when = datetime.now(UTC) + timedelta(seconds=120)
    header = format_datetime(when, usegmt=True)
    client, _ = mock_client(lambda r: json_response({}, 429, **{"Retry-After": header}))
    async with client:
        with pytest.raises(RateLimitedError) as info:
            await client.version()
    assert info.value.retry_after is not None
    assert 100 <= info.value.retry_after <= 120


async def test_429_without_retry_after(mock_client):
    client, _ = mock_client(lambda r: httpx.Response(429))
    async with client:
        with pytest.raises(RateLimitedError) as info:
            await client.version()
    assert info.value.retry_after is None
    assert "wait" not in str(info.value)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (401, "(401 Unauthorized: the token is wrong, expired or missing)"),
        (403, "(403 Forbidden: the token is valid but has no permission for POST api/Report/WSJF)"),
    ],
)
async def test_401_and_403_say_authentication_failed_and_which(mock_client, status, words):
    client, _ = mock_client(lambda r: json_response({"Message": "nope"}, status))
    async with client:
        with pytest.raises(AuthenticationError) as info:
            await client.submit_wsjf(REPORT)
    assert str(info.value) == (
        f"authentication failed at the WATS server https://wats.example.test/ {words}"
    )
    assert info.value.status == status


async def test_407_from_a_forwarding_proxy_is_an_authentication_error(mock_client):
    client, _ = mock_client(lambda r: httpx.Response(407))
    async with client:
        with pytest.raises(AuthenticationError, match="at the proxy"):
            await client.version()


@pytest.mark.parametrize("status", [400, 404, 413, 422])
async def test_submit_rejections_carry_the_server_message(mock_client, status):
    client, _ = mock_client(lambda r: json_response({"Message": "processCode 999 unknown"}, status))
    async with client:
        with pytest.raises(RejectedError) as info:
            await client.submit_wsjf(REPORT)
    error = info.value
    assert error.server_message == "processCode 999 unknown"
    assert error.status == status
    assert str(error).startswith(
        "the WATS server at https://wats.example.test/ rejected POST api/Report/WSJF ("
    )
    assert str(error).endswith("): processCode 999 unknown")


async def test_404_on_a_read_is_not_found(mock_client):
    client, _ = mock_client(lambda r: httpx.Response(404, text="Not Found"))
    async with client:
        with pytest.raises(NotFoundError) as info:
            await client.get_wsjf("abc")
    assert not isinstance(info.value, RejectedError)
    assert str(info.value) == (
        "the WATS server at https://wats.example.test/ has nothing at GET api/Report/Wsjf/abc "
        "(404 Not Found): Not Found"
    )


async def test_400_on_a_query_is_a_rejection(mock_client):
    client, _ = mock_client(lambda r: json_response({"title": "bad $filter"}, 400))
    async with client:
        with pytest.raises(RejectedError, match="bad \\$filter"):
            await client.query_headers("nonsense")


async def test_redirect_is_unexpected_and_says_where_to(mock_client):
    client, _ = mock_client(
        lambda r: httpx.Response(
            301, headers={"Location": "https://new.example.test/api/App/Version"}
        )
    )
    async with client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.version()
    assert "redirected GET api/App/Version to https://new.example.test/api/App/Version" in str(
        info.value
    )


async def test_other_status_is_unexpected_and_transient(mock_client):
    client, _ = mock_client(lambda r: httpx.Response(405, text="Method Not Allowed"))
    async with client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.version()
    assert isinstance(info.value, TransientError)
    assert "(405 Method Not Allowed)" in str(info.value)


@pytest.mark.parametrize(
    ("call", "body", "problem"),
    [
        ("version", b"<html>login</html>", "is not a JSON string"),
        ("version", b"42", "is not a JSON string"),
        ("server_info", b"{not json", "is not valid JSON"),
        ("server_info", b"[]", "is not a JSON object"),
        ("ping", b'{"ServerName": "x"}', "has no ServerTime"),
        ("ping", b'{"ServerTime": "yesterday"}', "has a ServerTime that is not a date"),
        ("module_versions", b'{"a": 1}', "is not a JSON array of objects"),
        ("processes", b'[{"name": "no code"}]', "lists a process without code or name"),
        ("processes", b"\xff\xfe garbage", "is not valid JSON"),
    ],
)
async def test_malformed_bodies_are_unexpected(mock_client, call, body, problem):
    client, _ = mock_client(
        lambda r: httpx.Response(200, content=body, headers={"Content-Type": "application/json"})
    )
    async with client:
        with pytest.raises(UnexpectedResponseError) as info:
            await getattr(client, call)()
    assert problem in str(info.value)
    assert str(info.value).startswith(
        "the WATS server at https://wats.example.test/ answered GET api/"
    )


@pytest.mark.parametrize(
    ("echo", "problem"),
    [
        (
            {"ID": "00000000-0000-0000-0000-000000000000"},
            "names report 00000000-0000-0000-0000-000000000000 instead of c3eef2e0",
        ),
        ([], "holds 0 results instead of one"),
        ([{"ID": REPORT["id"]}, {"ID": REPORT["id"]}], "holds 2 results instead of one"),
        ({"Report_ID": 5}, "does not name the stored report's id"),
        ("ok", "is not an insert result"),
    ],
)
async def test_submit_echo_mismatch_is_unexpected(mock_client, echo, problem):
    client, _ = mock_client(lambda r: json_response(echo))
    async with client:
        with pytest.raises(UnexpectedResponseError) as info:
            await client.submit_wsjf(REPORT)
    assert problem in str(info.value)
    assert isinstance(info.value, TransientError)


async def test_submit_malformed_json_answer_is_unexpected(mock_client):
    client, _ = mock_client(lambda r: httpx.Response(200, content=b'{"ID": '))
    async with client:
        with pytest.raises(UnexpectedResponseError, match="is not valid JSON"):
            await client.submit_wsjf(REPORT)


def test_every_error_is_a_wats_error_with_status_and_url():
    error = RejectedError("words", url="https://h/api/x", status=400, server_message="m")
    assert isinstance(error, WatsError)
    assert (str(error), error.status, error.url, error.server_message) == (
        "words",
        400,
        "https://h/api/x",
        "m",
    )
    assert not issubclass(TlsError, TransientError)
    assert issubclass(RateLimitedError, TransientError)
    assert issubclass(UnexpectedResponseError, TransientError)
