"""The WATS server's base URL in one canonical form (wats-api.md §1.1)."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def normalize_base_url(url: str) -> str:
    """`https://host[/virtual/dir]/`: a trailing `/`, no trailing `/api`, no query.

    A URL without a scheme gets `https://`, the way a browser completes it. Credentials in
    the URL are refused: they belong in the token, and URLs end up in messages and logs.
    """
    text = url.strip()
    if not text:
        raise ValueError("the server URL is empty")
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"the server URL must start with https:// or http://, not {scheme}://")
    if not parts.hostname:
        raise ValueError(f"the server URL {url!r} has no host name")
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the server URL must not contain a user name or password: give them as the token"
        )
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"the server URL {url!r} has an invalid port") from exc
    path = parts.path.rstrip("/")
    if path.lower().endswith("/api"):
        path = path[: -len("/api")]
    return urlunsplit((scheme, parts.netloc, path + "/", "", ""))


def redact_url(url: str) -> str:
    """`url` with any password replaced by `***`, for messages about a proxy URL."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


def check_proxy_url(proxy: str) -> str:
    """`proxy` if it is a usable proxy URL; ValueError (without the password) otherwise."""
    parts = urlsplit(proxy.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"the proxy URL {redact_url(proxy)} must start with http:// or https://, "
            "e.g. http://proxy:3128"
        )
    if not parts.hostname:
        raise ValueError(f"the proxy URL {redact_url(proxy)} has no host name")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"the proxy URL {redact_url(proxy)} has an invalid port") from exc
    return proxy.strip()
