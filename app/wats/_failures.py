"""Turns httpx failures and non-2xx answers into the client's `WatsError` classes.

Status codes follow wats-api.md §2.7 and §6: 400/413/422 (and 404 on a submit) are final
rejections, 401/403 need new credentials, 429 asks to slow down, 408 and 5xx are transient.
Anything else is unexpected and treated as transient (see `UnexpectedResponseError`).
"""

from __future__ import annotations

import errno
import json
import math
import re
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Literal

import httpx

from app.wats._errors import (
    AuthenticationError,
    NotFoundError,
    RateLimitedError,
    RejectedError,
    TlsError,
    TransientError,
    UnexpectedResponseError,
    WatsError,
)
from app.wats._tls import explain_ssl_error, find_ssl_error

# "submit": a report upload, where 404 means the server refused the report's content.
# "call": everything else, where 404 means the thing asked for does not exist.
RequestKind = Literal["call", "submit"]

SERVER_MESSAGE_LIMIT = 500

_MESSAGE_KEYS = ("message", "Message", "error", "detail", "title")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a message about a failed request needs to say."""

    base_url: str
    method: str
    url: str
    connect_timeout: float
    read_timeout: float

    @property
    def what(self) -> str:
        """`GET api/App/Version`: the request, relative to the server URL, without a query."""
        path = httpx.URL(self.url).path
        base_path = httpx.URL(self.base_url).path
        if path.startswith(base_path):
            path = path[len(base_path) :]
        return f"{self.method} {path}"


def truncate(text: str, limit: int = SERVER_MESSAGE_LIMIT) -> str:
    text = _WHITESPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _message_in(data: Any) -> str | None:
    """The human message in a JSON error body of any of the usual shapes, or None."""
    if isinstance(data, str):
        return data.strip() or None
    if isinstance(data, list) and len(data) == 1:
        return _message_in(data[0])
    if not isinstance(data, dict):
        return None
    for key in _MESSAGE_KEYS:
        value = data.get(key)
        # {"error": {"message": "..."}} nests the message one level down.
        found = _message_in(value) if isinstance(value, str | dict) else None
        if found:
            errors = data.get("errors")
            if isinstance(errors, dict) and errors:
                # ASP.NET validation problem details: say which fields failed.
                details = "; ".join(
                    f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                    for field, msgs in errors.items()
                )
                return f"{found} ({details})"
            return found
    return None


def server_message(response: httpx.Response) -> str:
    """The server's explanation in an error reply, as short plain text.

    Reads `message`, `Message`, `error`, `detail` or `title` from a JSON body (as pyWATS
    does), the title of an HTML error page, else the raw text; falls back to the status.
    """
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = response.content.decode("utf-8", errors="replace")
    found: str | None = None
    try:
        found = _message_in(json.loads(text)) or text
    except ValueError:
        title = _HTML_TITLE.search(text) if "<html" in text[:500].lower() else None
        found = title.group(1) if title else text
    if found and found.strip():
        return truncate(found)
    return status_text(response.status_code)


def status_text(status: int) -> str:
    """`503 Service Unavailable`."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delay seconds or an HTTP date.

    None when absent or unreadable; a date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def error_for_status(
    response: httpx.Response, context: RequestContext, kind: RequestKind
) -> WatsError:
    """The error for a reply that is not 2xx."""
    status = response.status_code
    where = f"the WATS server at {context.base_url}"
    url = context.url
    what = context.what
    if status == 401:
        return AuthenticationError(
            f"authentication failed at the WATS server {context.base_url} (401 Unauthorized: "
            "the token is wrong, expired or missing)",
            url=url,
            status=status,
        )
    if status == 403:
        return AuthenticationError(
            f"authentication failed at the WATS server {context.base_url} (403 Forbidden: "
            f"the token is valid but has no permission for {what})",
            url=url,
            status=status,
        )
    if status == 407:
        return AuthenticationError(
            "authentication failed at the proxy (407 Proxy Authentication Required): give "
            "the proxy user and password in the proxy URL, e.g. http://user:password@proxy:3128",
            url=url,
            status=status,
        )
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = f"; it asks to wait {retry_after:g} s" if retry_after is not None else ""
        return RateLimitedError(
            f"{where} is limiting the request rate (429 Too Many Requests){wait}",
            url=url,
            status=status,
            retry_after=retry_after,
        )
    if status == 404 and kind == "call":
        return NotFoundError(
            f"{where} has nothing at {what} (404 Not Found): {server_message(response)}",
            url=url,
            status=status,
        )
    if status in (400, 404, 413, 422):
        message = server_message(response)
        return RejectedError(
            f"{where} rejected {what} ({status_text(status)}): {message}",
            url=url,
            status=status,
            server_message=message,
        )
    if status == 408 or status >= 500:
        return TransientError(
            f"{where} failed to answer {what} ({status_text(status)}): {server_message(response)}",
            url=url,
            status=status,
        )
    if 300 <= status < 400:
        location = response.headers.get("Location", "another address")
        return UnexpectedResponseError(
            f"{where} redirected {what} to {location} ({status_text(status)}); use the "
            "address it redirects to as the server URL",
            url=url,
            status=status,
        )
    return UnexpectedResponseError(
        f"{where} gave an unexpected answer to {what} ({status_text(status)}): "
        f"{server_message(response)}",
        url=url,
        status=status,
    )


def _os_errors_in(exc: BaseException) -> list[OSError]:
    """Every OSError behind `exc`: its cause chain and, for happy-eyeballs connects that try
    several addresses, the members of exception groups."""
    found: list[OSError] = []
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError):
            found.append(current)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        following = current.__cause__ or current.__context__
        if following is not None:
            pending.append(following)
    return found


def _connect_reason(exc: httpx.TransportError, host: str) -> str:
    """Why a connection could not be made, in plain words."""
    os_errors = _os_errors_in(exc)
    if any(isinstance(e, socket.gaierror) for e in os_errors):
        return f"the name {host} could not be resolved (DNS)"
    if any(
        isinstance(e, ConnectionRefusedError) or e.errno == errno.ECONNREFUSED for e in os_errors
    ):
        return "connection refused (nothing listens on that port, or a firewall refuses)"
    # The innermost error with an OS reason ("Network is unreachable") says most.
    for error in reversed(os_errors):
        if error.errno is not None and error.strerror:
            return error.strerror[0].lower() + error.strerror[1:]
    text = str(exc).strip()
    lowered = text.lower()
    # Some event loops flatten the OSError into text only.
    if "name or service not known" in lowered or "getaddrinfo" in lowered:
        return f"the name {host} could not be resolved (DNS)"
    if "refused" in lowered:
        return "connection refused (nothing listens on that port, or a firewall refuses)"
    return text or type(exc).__name__


def error_for_transport(exc: httpx.TransportError, context: RequestContext) -> WatsError:
    """The error for a request that got no (complete) answer."""
    url = context.url
    base = context.base_url
    ssl_error = find_ssl_error(exc)
    if ssl_error is not None:
        return TlsError(
            f"TLS problem with the WATS server at {base}: {explain_ssl_error(ssl_error)}",
            url=url,
        )
    if isinstance(exc, httpx.ConnectTimeout):
        return TransientError(
            f"cannot reach the WATS server at {base}: no connection within "
            f"{context.connect_timeout:g} s",
            url=url,
        )
    if isinstance(exc, httpx.ReadTimeout):
        return TransientError(
            f"the WATS server at {base} did not answer {context.what} within "
            f"{context.read_timeout:g} s",
            url=url,
        )
    if isinstance(exc, httpx.WriteTimeout):
        return TransientError(
            f"sending {context.what} to the WATS server at {base} took longer than "
            f"{context.read_timeout:g} s",
            url=url,
        )
    if isinstance(exc, httpx.PoolTimeout):
        return TransientError(
            f"no free connection to the WATS server at {base} within "
            f"{context.read_timeout:g} s (too many requests in flight)",
            url=url,
        )
    if isinstance(exc, httpx.ProxyError):
        detail = str(exc).strip() or type(exc).__name__
        if detail.startswith("407"):
            return AuthenticationError(
                "authentication failed at the proxy (407 Proxy Authentication Required): give "
                "the proxy user and password in the proxy URL",
                url=url,
                status=407,
            )
        return TransientError(
            f"cannot reach the WATS server at {base} through the proxy: {detail}", url=url
        )
    if isinstance(exc, httpx.ConnectError):
        host = httpx.URL(url).host
        return TransientError(
            f"cannot reach the WATS server at {base}: {_connect_reason(exc, host)}", url=url
        )
    # ReadError, WriteError, RemoteProtocolError, CloseError: the connection broke mid-way.
    detail = str(exc).strip() or type(exc).__name__
    return TransientError(
        f"the connection to the WATS server at {base} broke during {context.what}: {detail}",
        url=url,
    )
