"""Plain-text layout for the worker commands: times, counts and aligned tables.

ASCII only, so the output reads the same in any console, in a log and in a support e-mail.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence

from app.core.duration_text import duration_text

MIN_LAST_COLUMN = 20
# `3 days`, `2 h 5 min`, `7 min 12 s`, `42 s`: the same words as `server check` uses.
duration = duration_text


def local_time(epoch: float | None, *, seconds: bool = True) -> str:
    """`2026-11-22 10:21:03` in the station's time zone; `-` when unknown."""
    if epoch is None:
        return "-"
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return time.strftime(pattern, time.localtime(epoch))


def count(number: int, noun: str, plural: str | None = None) -> str:
    """`1 report`, `1,234 reports`."""
    word = noun if number == 1 else (plural or f"{noun}s")
    return f"{number:,} {word}"


def one_line(text: str | None, limit: int | None = None) -> str:
    """Text on one line (newlines become " / "), cut with "..." beyond `limit` characters."""
    if not text:
        return "-"
    flat = " / ".join(part.strip() for part in str(text).splitlines() if part.strip())
    if limit is not None and len(flat) > limit:
        return flat[: max(0, limit - 3)] + "..."
    return flat


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, width: int = 0) -> list[str]:
    """Aligned columns; the last column is cut to fit the terminal (never below 20 chars)."""
    if not rows:
        return []
    width = width or shutil.get_terminal_size((120, 24)).columns
    columns = len(headers)
    widths = [max(len(headers[i]), *(len(row[i]) for row in rows)) for i in range(columns - 1)]
    used = sum(widths) + 2 * (columns - 1)
    last = max(MIN_LAST_COLUMN, width - used - 1)
    lines = []
    for number, row in enumerate([headers, *rows]):
        cells = [row[i].ljust(widths[i]) for i in range(columns - 1)]
        cells.append(row[-1] if number == 0 else one_line(row[-1], last))
        lines.append("  ".join(cells).rstrip())
    return lines
