"""Loopback checks: the control endpoints and the default bind address stay on this machine."""

from __future__ import annotations

import ipaddress
import socket


def is_loopback_address(address: str | None) -> bool:
    """True if `address` (a peer IP as the socket reports it) is a loopback address.

    Accepts 127.0.0.0/8, ::1 and IPv4-mapped IPv6 forms such as ::ffff:127.0.0.1. Anything
    unparsable or missing (e.g. a Unix socket peer) is not loopback.
    """
    if not address:
        return False
    text = address.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    text = text.split("%", 1)[0]  # drop an IPv6 zone id
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def is_loopback_host(host: str) -> bool:
    """True if a bind host name or address refers only to loopback addresses.

    "localhost" and other names are resolved; a name that resolves to any non-loopback
    address, or does not resolve, is not loopback.
    """
    if is_loopback_address(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    addresses = {str(info[4][0]) for info in infos}
    return bool(addresses) and all(is_loopback_address(a) for a in addresses)
