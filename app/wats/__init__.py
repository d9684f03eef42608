"""WATS server client (domain layer): async httpx, never imports Qt.

    async with WatsClient("https://acme.wats.com", token) as client:
        result = await client.submit_wsjf(report)

Every failure is a `WatsError` subclass that says what the caller should do; see `_errors`.
"""

from app.wats._client import WatsClient, format_utc_offset
from app.wats._diagnose import CheckResult, check_server, format_duration
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
from app.wats._failures import parse_retry_after
from app.wats._identity import basic_token, normalize_mac
from app.wats._models import Ping, Process, SubmitResult
from app.wats._report_body import IdentifiedReport, ReportInput, SupportsToJson
from app.wats._tls import explain_ssl_error, make_ssl_context
from app.wats._urls import check_proxy_url, normalize_base_url, redact_url

__all__ = [
    "AuthenticationError",
    "CheckResult",
    "IdentifiedReport",
    "NotFoundError",
    "Ping",
    "Process",
    "RateLimitedError",
    "RejectedError",
    "ReportInput",
    "SubmitResult",
    "SupportsToJson",
    "TlsError",
    "TransientError",
    "UnexpectedResponseError",
    "WatsClient",
    "WatsError",
    "basic_token",
    "check_proxy_url",
    "check_server",
    "explain_ssl_error",
    "format_duration",
    "format_utc_offset",
    "make_ssl_context",
    "normalize_base_url",
    "normalize_mac",
    "parse_retry_after",
    "redact_url",
]
