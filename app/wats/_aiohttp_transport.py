"""An httpx transport that sends requests over aiohttp, for direct connections to the server.

Why: httpx's own transport (httpcore on anyio) spends about 0.7 ms of CPU per request in
Python (cancel scopes, locks, h11 state machine); aiohttp's C-accelerated HTTP/1.1 client
does the same exchange for about a third of that (measured against the local server). The
worker uploads hundreds of reports a second on a two-core test PC, where that difference is
what separates keeping up with the testers from falling behind.

httpx stays the client's API: requests are built, redirects/auth/cookies handled and errors
reported exactly as before. This transport only moves bytes, and turns every aiohttp failure
into the httpx exception that httpx's own transport would have raised, with the original
error as the cause, so `_failures.error_for_transport` reads both the same way.

Proxies are left to httpx: `WatsClient` uses this transport only when no proxy applies (see
`direct_connection`). Responses are read whole (WATS replies are small); `auto_decompress`
is off so httpx decodes `Content-Encoding` itself, as it does for its own transport.
"""

from __future__ import annotations

import ssl
import urllib.request
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    import aiohttp

# Keep-alive for idle pooled connections: below the usual server idle timeouts (IIS: 120 s)
# so the client, not the server, closes them.
_KEEPALIVE_S = 30.0


def direct_connection(base_url: str, proxy: str | None, trust_env: bool) -> bool:
    """True when requests to `base_url` go straight to the server, without any proxy.

    Conservative: any proxy in the environment for the URL's scheme (even one that NO_PROXY
    might exempt) sends the client down httpx's own proxy-aware path.
    """
    if proxy:
        return False
    if not trust_env:
        return True
    proxies = urllib.request.getproxies()
    scheme = httpx.URL(base_url).scheme
    return not (proxies.get(scheme) or proxies.get("all"))


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests over one aiohttp session (a pool of keep-alive connections).

    The session is made on first use, on the loop that uses it: the worker runs its client on
    a thread of its own (app/service/http_thread.py). `aclose()` must run on that loop too.
    """

    def __init__(self, ssl_context: ssl.SSLContext, *, limit: int = 100) -> None:
        self._ssl = ssl_context
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _session_for_loop(self) -> aiohttp.ClientSession:
        import aiohttp  # on first use: a station behind a proxy never needs it (~9 MB)

        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._limit, ssl=self._ssl, keepalive_timeout=_KEEPALIVE_S
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
                trust_env=False,  # proxies are httpx's business (see direct_connection)
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import aiohttp
        from yarl import URL

        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        connect = timeouts.get("connect")
        read = timeouts.get("read")
        write = timeouts.get("write")
        # aiohttp times the connect and each read; a write to a server that stops reading has
        # no timer of its own, so the whole exchange gets an outer bound as well.
        parts = [t for t in (connect, read, write) if t is not None]
        total = sum(parts) if len(parts) == 3 else None
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        body = await request.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        session = self._session_for_loop()
        try:
            async with session.request(
                request.method,
                URL(str(request.url), encoded=True),  # as httpx encoded it: no re-quoting
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
                compress=None,
            ) as reply:
                content = await reply.read()
                reason = reply.reason or ""
                return httpx.Response(
                    reply.status,
                    headers=list(reply.raw_headers),
                    stream=httpx.ByteStream(content),
                    extensions={
                        "http_version": b"HTTP/1.1",
                        "reason_phrase": reason.encode("latin-1", errors="replace"),
                    },
                    request=request,
                )
        except aiohttp.ClientError as exc:
            raise _httpx_error(exc, request) from _original(exc)
        except TimeoutError as exc:  # the outer bound
            raise httpx.ReadTimeout("the exchange took too long", request=request) from exc


def _httpx_error(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx exception httpx's own transport raises for the same failure."""
    import aiohttp

    text = str(exc) or type(exc).__name__
    error: type[httpx.TransportError]
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        error = httpx.ConnectTimeout
    elif isinstance(exc, aiohttp.ServerTimeoutError):
        error = httpx.ReadTimeout
    elif isinstance(exc, aiohttp.ClientConnectorError):  # refused, DNS, TLS handshake
        error = httpx.ConnectError
    elif isinstance(
        # ClientResponseError: a reply that is not valid HTTP
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        error = httpx.RemoteProtocolError
    else:  # ClientOSError mid-exchange (reset, broken pipe) and the rest
        error = httpx.ReadError
    return error(text, request=request)


def _original(exc: aiohttp.ClientError) -> BaseException:
    """The error to chain: for TLS failures the `ssl` error itself, which aiohttp wraps in a
    class that also derives from `ssl.SSLError` but lacks its attributes."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return exc.certificate_error
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ClientConnectorError):
        return exc.os_error
    return exc
