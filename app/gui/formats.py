"""How times and numbers are written on screen.

Language-neutral by default (ISO 8601 dates, 24-hour times, '.' decimals, thin-space digit
groups) so that a screenshot or a phone call reads the same in every plant; the Settings page
can switch to the system's regional formats.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDateTime, QLocale

_neutral = True


def use_neutral_formats(neutral: bool) -> None:
    global _neutral
    _neutral = neutral


def neutral_formats() -> bool:
    return _neutral


def _to_datetime(value: float | str | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value)).astimezone()
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone() if parsed.tzinfo is not None else parsed


def format_time(value: float | str | None, *, seconds: bool = True) -> str:
    """Epoch seconds or ISO text → local date and time; '' when unknown."""
    moment = _to_datetime(value)
    if moment is None:
        return ""
    if _neutral:
        return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    qt = QDateTime.fromSecsSinceEpoch(int(moment.timestamp()))
    return QLocale.system().toString(qt, QLocale.FormatType.ShortFormat)


def format_clock(value: float | str | None) -> str:
    """Only the time of day (today's activity)."""
    moment = _to_datetime(value)
    if moment is None:
        return ""
    if _neutral:
        return moment.strftime("%H:%M:%S")
    qt = QDateTime.fromSecsSinceEpoch(int(moment.timestamp())).time()
    return str(QLocale.system().toString(qt, QLocale.FormatType.ShortFormat))


def format_count(value: int | None) -> str:
    if value is None:
        return "–"
    if _neutral:
        return f"{value:,}".replace(",", "\u2009")
    return QLocale.system().toString(int(value))


def format_number(value: float | None, digits: int = 6) -> str:
    if value is None:
        return ""
    if _neutral:
        return f"{value:.{digits}g}"
    return QLocale.system().toString(float(value), "g", digits)


def format_duration(seconds: float | None) -> str:
    """'3 s', '4 min 10 s', '2 h 5 min', '3 d 4 h'."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
