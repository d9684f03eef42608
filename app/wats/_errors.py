"""Errors of the WATS client, sorted by what the caller does about them.

- `TransientError` and its subclasses: retry later with backoff; the report stays queued.
- `RateLimitedError`: the same, but wait at least `retry_after` seconds.
- `UnexpectedResponseError`: the same. The answer made no sense, so it is unknown whether the
  request took effect; re-sending is safe because reports upsert by id.
- `TlsError`: the uploader retries it like a transient error, but it usually needs a
  configuration change (CA certificate, clock, proxy), so `server check` explains it.
- `RejectedError`: park the report with `server_message`; never retry it unchanged.
- `NotFoundError`: what was read does not exist (or is not processed yet).
- `AuthenticationError`: stop uploading and ask for a new token or permission.

Every error has a plain-words `str()` that names the server URL, `.status` (the HTTP status,
or None when no answer arrived) and `.url` (the full request URL).
"""

from __future__ import annotations


class WatsError(Exception):
    """Base class of every error the WATS client raises."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return self.message


class TransientError(WatsError):
    """Network failure, timeout, dropped connection or 5xx: try again later."""


class RateLimitedError(TransientError):
    """HTTP 429: the server asks the client to slow down."""

    def __init__(
        self, message: str, *, url: str, status: int | None = 429, retry_after: float | None
    ) -> None:
        super().__init__(message, url=url, status=status)
        # Seconds to wait before the next request, from the Retry-After header; None if absent.
        self.retry_after = retry_after


class UnexpectedResponseError(TransientError):
    """A reply the client cannot trust: malformed JSON, a wrong echoed report id, a redirect.

    It is transient on purpose. After such a reply the client cannot tell whether the server
    stored the report, and the WATS server upserts by report id, so sending the same report
    again later is safe and either confirms it or fixes it. Parking the report instead would
    need a person to resubmit reports that may well be fine.
    """


class TlsError(WatsError):
    """The TLS handshake failed: untrusted or expired certificate, name mismatch, old protocol.

    Not a `TransientError`: retrying rarely helps without a configuration change. The
    uploader still retries it (a certificate renewal on the server fixes it without us), while
    `server check` explains the reason.
    """


class RejectedError(WatsError):
    """The server refused the request or report (400, 404 on submit, 413, 422)."""

    def __init__(self, message: str, *, url: str, status: int | None, server_message: str) -> None:
        super().__init__(message, url=url, status=status)
        # The server's own explanation, as plain text (truncated), to show next to the report.
        self.server_message = server_message


class NotFoundError(WatsError):
    """HTTP 404 on a read: no such report (or not processed yet)."""


class AuthenticationError(WatsError):
    """HTTP 401 (wrong or missing credentials) or 403 (credentials lack a permission)."""
