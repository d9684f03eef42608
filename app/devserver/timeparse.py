"""Lenient ISO 8601 parsing for report times (wats-api.md §3: "parse leniently")."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Virinco's own samples contain "2020-01-01T08:00:00.Z" (a dot with no digits) and some
# writers emit 7 fractional digits (.NET ticks), which datetime.fromisoformat refuses.
_EMPTY_FRACTION = re.compile(r"\.(?=[Zz+-]|$)")
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: object) -> datetime | None:
    """An aware datetime from an ISO 8601 string, or None if it cannot be read.

    A time without an offset is taken as UTC: the server cannot know the station's zone.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = _LONG_FRACTION.sub(r"\1", _EMPTY_FRACTION.sub("", text.strip()))
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
