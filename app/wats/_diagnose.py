"""Connection diagnosis, step by step, in plain words: `server check` and the GUI's test button.

Each step narrows down where a connection problem is: name resolution and TCP (network,
firewall, wrong host or port), TLS (certificates, company CA, clock), credentials, the server
itself, and finally this station's clock, which stamps every report. Steps after a failure are
skipped: their results would only repeat it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

from app.core.duration_text import duration_text
from app.wats._client import WatsClient
from app.wats._errors import AuthenticationError, TlsError, TransientError, WatsError
from app.wats._tls import explain_ssl_error, make_ssl_context
from app.wats._urls import normalize_base_url, redact_url

Outcome = Literal["ok", "warn", "fail", "skip"]

CLOCK_SKEW_LIMIT = timedelta(minutes=5)  # the official client warns above this (§2.2)
CERT_EXPIRY_WARNING = timedelta(days=14)
OLDEST_SUPPORTED_VERSION = (2021, 2)  # the official client refuses older servers (§1.3)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One step of `check_server`. `error` is set for a failure the server client raised."""

    name: str
    outcome: Outcome
    detail: str
    error: WatsError | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def format_duration(delta: timedelta) -> str:
    """`9 days`, `2 h 5 min`, `7 min 12 s`, `42 s` (the sign is dropped)."""
    return duration_text(abs(delta.total_seconds()))


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Diagnosis:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        proxy: str | None,
        verify: bool | str,
        connect_timeout: float,
        get_timeout: float,
        clock: Callable[[], datetime],
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        parts = urlsplit(self.base_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.token = token
        self.proxy = proxy
        self.verify = verify
        self.ssl_context = make_ssl_context(verify)
        self.connect_timeout = connect_timeout
        self.get_timeout = get_timeout
        self.clock = clock
        self.results: list[CheckResult] = []

    def add(self, name: str, outcome: Outcome, detail: str, error: WatsError | None = None) -> None:
        self.results.append(CheckResult(name, outcome, detail, error))

    @property
    def failed(self) -> bool:
        return any(result.outcome == "fail" for result in self.results)

    def _transient(self, reason: str) -> TransientError:
        return TransientError(
            f"cannot reach the WATS server at {self.base_url}: {reason}", url=self.base_url
        )

    # ------------------------------------------------------------------ steps

    async def reachable(self) -> None:
        """DNS and TCP, to the server or, with a proxy, to the proxy."""
        if self.proxy:
            proxy_parts = urlsplit(self.proxy)
            host = proxy_parts.hostname or ""
            port = proxy_parts.port or (443 if proxy_parts.scheme == "https" else 80)
            what = f"the proxy {redact_url(self.proxy)}"
        else:
            host, port, what = self.host, self.port, self.host
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), self.connect_timeout
            )
        except (OSError, TimeoutError) as exc:
            reason = f"the name {host} could not be resolved (DNS)"
            if isinstance(exc, OSError) and exc.strerror:
                reason += f": {exc.strerror}"
            self.add("reachable", "fail", reason, self._transient(reason))
            return
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        problems: list[str] = []
        for address in addresses:
            started = time.perf_counter()
            try:
                _, writer = await asyncio.wait_for(
                    asyncio.open_connection(address, port), self.connect_timeout
                )
            except TimeoutError:
                problems.append(f"no answer within {self.connect_timeout:g} s")
                continue
            except OSError as exc:
                refused = isinstance(exc, ConnectionRefusedError)
                problems.append("connection refused" if refused else str(exc.strerror or exc))
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            shown = what if address == host else f"{what} ({address})"
            detail = f"{shown} accepts connections on port {port} ({elapsed_ms:.0f} ms)"
            if self.proxy:
                detail += "; the server is reached through it"
            self.add("reachable", "ok", detail)
            return
        if len(addresses) > 1:  # say which address gave which answer
            problems = [f"{a}: {p}" for a, p in zip(addresses, problems, strict=True)]
        reason = f"nothing accepts connections on port {port} of {what}: " + "; ".join(problems)
        self.add("reachable", "fail", reason, self._transient(reason))

    async def tls_handshake(self) -> None:
        """A direct TLS handshake with the verification the client will use (no proxy)."""
        context = self.ssl_context
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.host, self.port, ssl=context, server_hostname=self.host
                ),
                self.connect_timeout,
            )
        except ssl.SSLError as exc:
            reason = explain_ssl_error(exc)
            error = TlsError(
                f"TLS problem with the WATS server at {self.base_url}: {reason}",
                url=self.base_url,
            )
            self.add("TLS", "fail", reason, error)
            return
        except (OSError, TimeoutError) as exc:
            reason = f"the TLS handshake did not complete: {getattr(exc, 'strerror', None) or exc}"
            self.add("TLS", "fail", reason, self._transient(reason))
            return
        ssl_object = writer.get_extra_info("ssl_object")
        version = ssl_object.version() if ssl_object is not None else None
        cert = writer.get_extra_info("peercert") or {}
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
        self.add("TLS", *self._describe_certificate(version, cert))

    def _describe_certificate(
        self, version: str | None, cert: dict[str, object]
    ) -> tuple[Outcome, str]:
        protocol = f"{version}, " if version else ""
        if self.verify is False:
            return (
                "warn",
                f"{protocol}certificate NOT checked (--insecure): anyone on the network path "
                "could read the token and the reports",
            )
        store = (
            "the operating system's certificate store"
            if self.verify is True
            else f"the CA bundle {self.verify}"
        )
        detail = f"{protocol}certificate for {self.host} verified against {store}"
        not_after = cert.get("notAfter")
        if isinstance(not_after, str):
            expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(not_after), UTC)
            left = expires - self.clock()
            detail += f"; valid until {expires:%Y-%m-%d}"
            if left < CERT_EXPIRY_WARNING:
                return "warn", detail + f" (expires in {format_duration(left)})"
        return "ok", detail

    def plain_http(self) -> None:
        if _is_loopback(self.host):
            self.add("TLS", "ok", "not needed: plain http:// to this computer")
        else:
            self.add(
                "TLS",
                "warn",
                "not used: http:// sends the token and the reports over the network unencrypted",
            )

    async def server_calls(self, client: WatsClient) -> None:
        """Credentials (ServerInfo), server version and clock, through the real client."""
        try:
            info = await client.server_info()
        except WatsError as error:
            if self.proxy and self.https:
                if isinstance(error, TlsError):
                    self.add("TLS", "fail", str(error), error)
                    return
                if error.status is not None:  # an HTTP answer came back over TLS
                    self.add("TLS", "ok", "certificate verified through the proxy")
            self.add("auth", "fail", self._auth_failure(error), error)
            return
        if self.proxy and self.https:
            self.add("TLS", "ok", "certificate verified through the proxy")
        if self.token:
            self.add("auth", "ok", "the server accepted the token (ServerInfo answered)")
        else:
            self.add("auth", "warn", "no token given, yet the server answered without one")
        await self._version(client, info)
        if not self.failed:
            await self._clock(client)

    def _auth_failure(self, error: WatsError) -> str:
        if isinstance(error, AuthenticationError) and not self.token and error.status == 401:
            return (
                f"authentication failed: no token was given and the WATS server at "
                f"{self.base_url} requires one (401 Unauthorized)"
            )
        return str(error)

    async def _version(self, client: WatsClient, info: dict[str, str]) -> None:
        try:
            version = await client.version()
        except WatsError as error:
            self.add("server version", "fail", str(error), error)
            return
        detail = version
        if info.get("Version") and info["Version"] != version:
            detail += f" (ServerInfo says {info['Version']})"
        numbers = version.split(".")
        try:
            year_minor = (int(numbers[0]), int(numbers[1]))
        except (ValueError, IndexError):
            self.add("server version", "warn", f"{detail}: not a version number WATS uses")
            return
        if year_minor < OLDEST_SUPPORTED_VERSION:
            oldest = ".".join(map(str, OLDEST_SUPPORTED_VERSION))
            self.add(
                "server version",
                "warn",
                f"{detail}: older than {oldest}, which the official WATS client refuses",
            )
            return
        self.add("server version", "ok", detail)

    async def _clock(self, client: WatsClient) -> None:
        before = self.clock()
        try:
            ping = await client.ping()
        except WatsError as error:
            self.add("clock", "fail", str(error), error)
            return
        after = self.clock()
        # The server read its clock somewhere in the round trip: compare with the middle.
        local = before + (after - before) / 2
        skew = ping.server_time - local
        if abs(skew) <= CLOCK_SKEW_LIMIT:
            self.add(
                "clock",
                "ok",
                f"this station's clock is within {format_duration(skew)} of the server's",
            )
            return
        if skew > timedelta(0):
            detail = f"the server's clock is {format_duration(skew)} ahead of this station's"
        else:
            detail = f"this station's clock is {format_duration(skew)} ahead of the server's"
        self.add("clock", "warn", detail + "; reports will carry wrong times: fix the clock")


CHECK_NAMES = ("reachable", "TLS", "auth", "server version", "clock")


def _effective_proxy(proxy: str | None, base_url: str) -> str | None:
    """The configured proxy, else the one from the environment (HTTPS_PROXY, NO_PROXY...),
    which the client uses too, so the checks take the same path as the uploads."""
    if proxy:
        return proxy
    parts = urlsplit(base_url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme) or None


async def check_server(
    base_url: str,
    token: str | None,
    *,
    proxy: str | None = None,
    verify: bool | str = True,
    connect_timeout: float = 10,
    get_timeout: float = 10,
    clock: Callable[[], datetime] = _utc_now,
) -> list[CheckResult]:
    """Check a WATS server connection step by step: reachable, TLS, auth, version, clock.

    Returns one result per step, in that order. Never raises for a connection problem: the
    results say what went wrong. A bad URL, proxy URL or CA bundle raises ValueError.
    """
    used_proxy = _effective_proxy(proxy, normalize_base_url(base_url))
    diagnosis = _Diagnosis(
        base_url,
        token,
        proxy=used_proxy,
        verify=verify,
        connect_timeout=connect_timeout,
        get_timeout=get_timeout,
        clock=clock,
    )
    client = WatsClient(
        diagnosis.base_url,
        token,
        proxy=used_proxy,
        verify=verify,
        connect_timeout=connect_timeout,
        get_timeout=get_timeout,
    )
    async with client:
        await diagnosis.reachable()
        if not diagnosis.failed:
            if not diagnosis.https:
                diagnosis.plain_http()
            elif not used_proxy:
                await diagnosis.tls_handshake()
        if not diagnosis.failed:
            await diagnosis.server_calls(client)
    done = {result.name for result in diagnosis.results}
    for name in CHECK_NAMES:
        if name not in done:
            diagnosis.add(name, "skip", "not checked because another check failed")
    return sorted(diagnosis.results, key=lambda result: CHECK_NAMES.index(result.name))
