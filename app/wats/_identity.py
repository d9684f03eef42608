"""Credentials and station identity in the forms the WATS server expects (wats-api.md §1)."""

from __future__ import annotations

import base64
import re

_MAC_SEPARATORS = re.compile(r"[\s:\-.]")
_MAC = re.compile(r"[0-9A-F]{12}")


def basic_token(user: str, password: str) -> str:
    """The `Authorization: Basic` value for a user and password: base64 of `user:password`.

    Server-issued API tokens are already in this form and are used as they are. After
    registration a station authenticates as `basic_token(mac, passcode)`.
    """
    return base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def normalize_mac(mac: str) -> str:
    """A MAC address as WATS keys stations by: 12 uppercase hex digits, no separators.

    Accepts `4c:5f:70:d6:2f:f4`, `4C-5F-70-D6-2F-F4`, `4c5f.70d6.2ff4` and `4C5F70D62FF4`.
    """
    compact = _MAC_SEPARATORS.sub("", mac).upper()
    if not _MAC.fullmatch(compact):
        raise ValueError(
            f"{mac!r} is not a MAC address: expected 12 hex digits, e.g. 4C5F70D62FF4 "
            "or 4c:5f:70:d6:2f:f4"
        )
    return compact
