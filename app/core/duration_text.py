"""A span of time in the words an operator reads: `3 days`, `2 h 5 min`, `42 s`.

The CLI (`wats-station status`) and the server check (`wats-station server check`, the
clock-skew and certificate notes) say durations the same way.
"""

from __future__ import annotations

_DAY = 86400
_HOUR = 3600


def duration_text(seconds: float) -> str:
    """`3 days` (two days or more), `2 h 5 min`, `7 min 12 s`, `42 s`; negative counts as 0."""
    total = max(0, round(seconds))
    if total >= 2 * _DAY:
        return f"{total // _DAY} days"
    hours, rest = divmod(total, _HOUR)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


__all__ = ["duration_text"]
