"""TLS settings of the WATS client and plain-words reasons for TLS failures.

Stations sit in corporate networks whose proxies and servers use certificates from a company
CA that IT installs in the operating system's store, not in Python's certifi bundle. So the
default verifies against the OS store through `truststore`.
"""

from __future__ import annotations

import ssl
from pathlib import Path

import truststore


def make_ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The SSL context for `verify`.

    True: the operating system's certificate store. A str: a CA bundle file (PEM) or a folder
    of hashed CA certificates, for servers whose CA is not in the OS store. False: no
    verification at all; unsafe (anyone on the network path can read the token and the
    reports), for a first test against a server with a self-made certificate only.
    """
    if verify is True:
        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    path = Path(verify)
    if path.is_dir():
        return ssl.create_default_context(capath=str(path))
    if path.is_file():
        try:
            return ssl.create_default_context(cafile=str(path))
        except ssl.SSLError as exc:
            raise ValueError(f"the CA bundle {path} holds no usable certificate: {exc}") from exc
    raise ValueError(f"the CA bundle {path} does not exist")


def find_ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The ssl.SSLError somewhere in the cause chain of `exc` (httpx wraps it twice)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# OpenSSL reasons that have a likely everyday cause worth naming.
_REASON_HINTS: dict[str, str] = {
    "WRONG_VERSION_NUMBER": "the port does not speak TLS; if the server uses plain HTTP, use an "
    "http:// URL",
    "UNSUPPORTED_PROTOCOL": "the server only offers an old TLS version that is not allowed",
    "TLSV1_ALERT_PROTOCOL_VERSION": "the server and this computer share no TLS version",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server and this computer share no TLS cipher",
    "TLSV1_UNRECOGNIZED_NAME": "the server does not know the host name in the URL",
}

_VERIFY_HINTS: tuple[tuple[str, str], ...] = (
    (
        "unable to get local issuer certificate",
        "the certificate's issuer (CA) is not in this computer's certificate store; install "
        "the company CA certificate or give a CA bundle file",
    ),
    (
        "self-signed certificate",
        "the certificate is self-signed; install its CA certificate or give a CA bundle file",
    ),
    ("certificate has expired", "the certificate has expired, or this computer's clock is wrong"),
    ("not yet valid", "the certificate is not valid yet, or this computer's clock is wrong"),
    ("hostname mismatch", "the certificate was issued for another host name than the URL's"),
    ("ip address mismatch", "the certificate was issued for another address than the URL's"),
)


def explain_ssl_error(error: ssl.SSLError) -> str:
    """A short plain-words reason for a TLS failure, e.g. for `server check`."""
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = (error.verify_message or error.reason or str(error)).strip()
        lowered = detail.lower()
        for needle, hint in _VERIFY_HINTS:
            if needle in lowered:
                return f"the server's certificate is not trusted: {detail} ({hint})"
        return f"the server's certificate is not trusted: {detail}"
    reason: str = error.reason or ""
    hint_for_reason = _REASON_HINTS.get(reason)
    readable = reason.replace("_", " ").lower() if reason else str(error)
    if hint_for_reason:
        return f"the TLS handshake failed: {readable} ({hint_for_reason})"
    return f"the TLS handshake failed: {readable}"
