"""`WatsClient`: the station endpoints of the WATS REST API (wats-api.md §2) over httpx.

The client makes exactly one attempt per call and turns every failure into a `WatsError`
subclass that says what to do (see `_errors.py`); retries, backoff and pacing belong to the
uploader, which knows the queue.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from app import __version__
from app.wats._aiohttp_transport import AiohttpTransport, direct_connection
from app.wats._errors import NotFoundError, UnexpectedResponseError
from app.wats._failures import (
    RequestContext,
    RequestKind,
    error_for_status,
    error_for_transport,
    truncate,
)
from app.wats._identity import normalize_mac
from app.wats._json import to_json_bytes
from app.wats._models import Ping, Process, SubmitResult
from app.wats._report_body import ReportInput, encode_report
from app.wats._tls import make_ssl_context
from app.wats._urls import check_proxy_url, normalize_base_url

log = logging.getLogger(__name__)

_JSON = "application/json"
_MAX_HEADER_TOP = 10_000  # the server's $top limit (§2.6)


@functools.lru_cache(maxsize=64)
def _absolute_url(base_url: str, path: str) -> httpx.URL:
    """An endpoint's absolute URL, parsed once: httpx would merge and re-parse the base URL
    and the path on every request, a measurable share of an upload's CPU."""
    return httpx.URL(base_url + path)


def format_utc_offset(offset: timedelta) -> str:
    """A .NET TimeSpan string as `Client/Update` expects: `01:00:00`, `-05:30:00`."""
    total = round(offset.total_seconds())
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}"


def _field(data: Mapping[str, Any], name: str) -> Any:
    """`data[name]`, matching the key case-insensitively (servers mix PascalCase and camelCase)."""
    if name in data:
        return data[name]
    lowered = name.lower()
    for key, value in data.items():
        if key.lower() == lowered:
            return value
    return None


def _strings(data: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in data.items()}


class WatsClient:
    """Async client for one WATS server.

    `token` is the `Authorization: Basic` value: an API token as issued, or
    `basic_token(user, password)`; None sends no credentials. `verify`: True checks the
    server's certificate against the operating system's store, a str names a CA bundle, False
    disables checking (unsafe: anyone on the path can read the token and the reports).
    `proxy` may carry credentials (`http://user:pass@proxy:3128`). Timeouts are in seconds:
    GETs wait `get_timeout` for an answer, POSTs `post_timeout`. `transport` replaces the
    network (tests); `proxy` and `verify` then do not apply.

    Use as `async with WatsClient(...) as client:` or call `aclose()`.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        proxy: str | None = None,
        verify: bool | str = True,
        connect_timeout: float = 10,
        get_timeout: float = 10,
        post_timeout: float = 100,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self.connect_timeout = connect_timeout
        self.get_timeout = get_timeout
        self.post_timeout = post_timeout
        headers = {
            "Accept": _JSON,
            "User-Agent": user_agent or f"wats-station/{__version__} httpx/{httpx.__version__}",
        }
        credentials = _clean_token(token)
        if credentials:
            headers["Authorization"] = f"Basic {credentials}"
        if transport is not None:
            self._http = httpx.AsyncClient(
                base_url=self.base_url, headers=headers, transport=transport, trust_env=False
            )
        elif direct_connection(self.base_url, proxy, trust_env=True):
            # No proxy in the way: aiohttp moves the bytes for a third of httpcore's CPU
            # (see _aiohttp_transport.py); httpx still builds requests and reports errors.
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers=headers,
                transport=AiohttpTransport(make_ssl_context(verify)),
                trust_env=False,
            )
        else:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                headers=headers,
                verify=make_ssl_context(verify),
                proxy=None if proxy is None else check_proxy_url(proxy),
                # Honour HTTPS_PROXY/NO_PROXY when no proxy is configured: stations behind a
                # corporate proxy often have it set system-wide.
                trust_env=True,
            )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _url(self, path: str) -> httpx.URL:
        return _absolute_url(self.base_url, path)

    # ------------------------------------------------------------------ transport

    async def _request(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
        kind: RequestKind = "call",
    ) -> httpx.Response:
        read_timeout = self.get_timeout if method == "GET" else self.post_timeout
        timeout = httpx.Timeout(read_timeout, connect=self.connect_timeout)
        headers = {"Content-Type": content_type} if content_type else None
        request = self._http.build_request(
            method,
            self._url(path),
            params=params,
            content=content,
            headers=headers,
            timeout=timeout,
        )
        context = RequestContext(
            base_url=self.base_url,
            method=method,
            url=str(request.url),
            connect_timeout=self.connect_timeout,
            read_timeout=read_timeout,
        )
        started = time.perf_counter()
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            error = error_for_transport(exc, context)
            log.debug("%s -> %s", context.what, type(error).__name__)
            raise error from exc
        if log.isEnabledFor(logging.DEBUG):  # `what` parses URLs: not for every upload
            log.debug(
                "%s -> %d in %.0f ms",
                context.what,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        if not response.is_success:
            raise error_for_status(response, context, kind)
        return response

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise self._unexpected(response, "is not valid JSON") from exc

    def _unexpected(self, response: httpx.Response, problem: str) -> UnexpectedResponseError:
        request = response.request
        what = RequestContext(
            self.base_url, request.method, str(request.url), self.connect_timeout, 0
        ).what
        snippet = truncate(response.content[:200].decode("utf-8", errors="replace"), 120)
        return UnexpectedResponseError(
            f"the WATS server at {self.base_url} answered {what} with a reply that "
            f"{problem}: {snippet or '(empty)'}",
            url=str(request.url),
            status=response.status_code,
        )

    def _string(self, response: httpx.Response) -> str:
        """A reply that is a JSON string; a bare text/plain line is accepted too."""
        try:
            value = response.json()
        except ValueError:
            text = response.text.strip()
            is_text = response.headers.get("Content-Type", "").startswith("text/plain")
            if is_text and text and "\n" not in text:
                return text
            raise self._unexpected(response, "is not a JSON string") from None
        if not isinstance(value, str):
            raise self._unexpected(response, "is not a JSON string")
        return value

    def _object(self, response: httpx.Response) -> dict[str, Any]:
        value = self._json(response)
        if not isinstance(value, dict):
            raise self._unexpected(response, "is not a JSON object")
        return value

    def _list_of_objects(self, response: httpx.Response) -> list[dict[str, Any]]:
        value = self._json(response)
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self._unexpected(response, "is not a JSON array of objects")
        return value

    # ------------------------------------------------------------------ server and station

    async def version(self) -> str:
        """The server's version, e.g. `2023.2.1.4` (`GET api/App/Version`)."""
        return self._string(await self._request("GET", "api/App/Version"))

    async def server_info(self) -> dict[str, str]:
        """`GET api/internal/Client/ServerInfo`: `Version` and other facts, all strings.

        The official client calls it to verify credentials.
        """
        return _strings(self._object(await self._request("GET", "api/internal/Client/ServerInfo")))

    async def ping(self) -> Ping:
        """`GET api/internal/Client/Ping`: the server's name and clock.

        A server time without a UTC offset is taken as UTC.
        """
        response = await self._request("GET", "api/internal/Client/Ping")
        data = self._object(response)
        name = _field(data, "ServerName")
        raw_time = _field(data, "ServerTime")
        if not isinstance(raw_time, str):
            raise self._unexpected(response, "has no ServerTime")
        try:
            server_time = datetime.fromisoformat(raw_time.strip())
        except ValueError as exc:
            raise self._unexpected(response, "has a ServerTime that is not a date") from exc
        if server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=UTC)
        return Ping(server_name="" if name is None else str(name), server_time=server_time)

    async def module_versions(self) -> list[dict[str, str]]:
        """`GET api/internal/Client/Version`: `[{Module, Name, Version}]`; empty = offline."""
        response = await self._request("GET", "api/internal/Client/Version")
        return [_strings(item) for item in self._list_of_objects(response)]

    async def register(
        self,
        mac: str,
        name: str,
        *,
        location: str | None = None,
        purpose: str | None = None,
        description: str | None = None,
        utc_offset_h: float | None = None,
        version: str | None = None,
    ) -> str:
        """Register this station as a WATS client and return its passcode (§1.3).

        Afterwards authenticate as `basic_token(normalize_mac(mac), passcode)`.
        """
        params = {"mac": normalize_mac(mac), "name": name}
        optional = {
            "location": location,
            "purpose": purpose,
            "description": description,
            "utcOffset": None if utc_offset_h is None else format(utc_offset_h, "g"),
            "version": version,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        response = await self._request(
            "POST", "api/internal/Client/Register", params=params, content=b""
        )
        passcode = self._string(response).strip().strip('"')
        if not passcode:
            raise self._unexpected(response, "holds no passcode")
        return passcode

    async def update_client(
        self, name: str, utc_offset: timedelta, misc_info_xml: str
    ) -> dict[str, Any]:
        """`POST api/internal/Client/Update`: this station's name, UTC offset and misc info.

        Returns the server's client record (§2.4), or {} when it answers 204 No Content.
        """
        body = {
            "name": name,
            "utcoffset": format_utc_offset(utc_offset),
            "miscinfo": misc_info_xml,
        }
        response = await self._request(
            "POST",
            "api/internal/Client/Update",
            content=to_json_bytes(body),
            content_type=_JSON,
        )
        if response.status_code == 204 or not response.content.strip():
            return {}
        return self._object(response)

    async def upload_log(self, mac: str, text: str) -> None:
        """`POST api/internal/Blob/clientlog/{mac}`: the station's log as plain text."""
        await self._request(
            "POST",
            f"api/internal/Blob/clientlog/{normalize_mac(mac)}",
            content=text.encode("utf-8"),
            content_type="text/plain; charset=utf-8",
        )

    async def processes(
        self,
        include_test: bool = True,
        include_repair: bool = True,
        include_wip: bool = False,
        include_inactive: bool = False,
    ) -> list[Process]:
        """`GET api/App/Processes`: the server's processes (operations) and their codes."""
        params = {
            "includeTestOperations": _bool(include_test),
            "includeRepairOperations": _bool(include_repair),
            "includeWipOperations": _bool(include_wip),
            "includeInactiveProcesses": _bool(include_inactive),
        }
        response = await self._request("GET", "api/App/Processes", params=params)
        items = self._list_of_objects(response)
        try:
            return [Process.model_validate(item) for item in items]
        except ValueError as exc:  # pydantic.ValidationError
            raise self._unexpected(response, "lists a process without code or name") from exc

    # ------------------------------------------------------------------ reports

    async def submit_wsjf(self, report: ReportInput) -> SubmitResult:
        """`POST api/Report/WSJF`: upload one report; safe to repeat (upsert by `id`).

        Raises ValueError (before sending) for a report without an id. After a 2xx, checks
        that the server echoed the same id (in an object or a one-element array, as `ID`,
        `id` or `uuid`), else raises `UnexpectedResponseError`.
        """
        body, sent_id = encode_report(report)
        response = await self._request(
            "POST", "api/Report/WSJF", content=body, content_type=_JSON, kind="submit"
        )
        data = self._json(response)
        if isinstance(data, list):
            if len(data) != 1:
                raise self._unexpected(response, f"holds {len(data)} results instead of one")
            data = data[0]
        if not isinstance(data, dict):
            raise self._unexpected(response, "is not an insert result")
        echoed = next(
            (str(data[key]) for key in ("ID", "id", "uuid") if data.get(key) is not None), None
        )
        if echoed is None:
            raise self._unexpected(response, "does not name the stored report's id")
        if echoed.strip().strip("{}").lower() != sent_id.strip("{}").lower():
            raise self._unexpected(response, f"names report {echoed} instead of {sent_id}")
        return SubmitResult(id=echoed)

    async def get_wsjf(self, id: str) -> dict[str, Any]:
        """`GET api/Report/Wsjf/{id}`: a stored report.

        Raises `NotFoundError` for an unknown id and for a report the server has not finished
        processing (it answers an empty body then).
        """
        response = await self._request("GET", f"api/Report/Wsjf/{id}")
        if not response.content.strip() or response.content.strip() == b"null":
            raise NotFoundError(
                f"the WATS server at {self.base_url} has no report {id} yet (empty answer)",
                url=str(response.request.url),
                status=response.status_code,
            )
        return self._object(response)

    async def query_headers(
        self,
        filter: str | None = None,
        top: int = 10,
        orderby: str | None = None,
        skip: int = 0,
    ) -> list[dict[str, Any]]:
        """`GET api/Report/Query/Header` with OData `$filter`, `$top`, `$orderby`, `$skip`.

        E.g. `query_headers("serialNumber eq 'SN1'", orderby="start desc")`.
        """
        if not 1 <= top <= _MAX_HEADER_TOP:
            raise ValueError(f"top must be between 1 and {_MAX_HEADER_TOP}, not {top}")
        if skip < 0:
            raise ValueError(f"skip must not be negative, not {skip}")
        params = {"$top": str(top)}
        if skip:
            params["$skip"] = str(skip)
        if filter:
            params["$filter"] = filter
        if orderby:
            params["$orderby"] = orderby
        response = await self._request("GET", "api/Report/Query/Header", params=params)
        return self._list_of_objects(response)

    async def dynamic_yield(
        self, filter: Mapping[str, Any], dimensions: str | None = None
    ) -> list[dict[str, Any]]:
        """`POST api/App/DynamicYield`: yield rows grouped by `dimensions` (§2.5).

        `dimensions` goes in the body and in the query, as pyWATS sends it.
        """
        body = dict(filter)
        params = None
        if dimensions is not None:
            body["dimensions"] = dimensions
            params = {"dimensions": dimensions}
        response = await self._request(
            "POST",
            "api/App/DynamicYield",
            params=params,
            content=to_json_bytes(body),
            content_type=_JSON,
        )
        return self._list_of_objects(response)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _clean_token(token: str | None) -> str | None:
    """The token without surrounding blanks or a pasted `Basic ` prefix; None if empty."""
    if token is None:
        return None
    text = token.strip()
    if text[:6].lower() == "basic ":
        text = text[6:].strip()
    return text or None
