"""Periods of the yield dashboard: current shift, today, last N units, rolling hours, a range.

A period is written as text so the GUI, the CLI and IPC share one grammar:

- `shift`           the shift running now (configured shift times; may cross midnight)
- `today`           local midnight to midnight
- `last:N`          the N newest units (by their first run)
- `hours:H`         the last H hours up to now (H may be fractional: `hours:0.5`)
- `FROM..TO`        a range of local dates or times: `2025-03-01..2025-03-07` (whole days,
                    TO included), `2025-03-01T06:00..2025-03-01T14:00` (TO excluded); a time
                    with an offset (`+01:00`, `Z`) is taken as such

Windows are epoch seconds, start included, end excluded. Local means the station's clock
and time zone (`SystemTimezone`), which follows daylight saving time like the OS does.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

from app.core.yield_settings import ShiftConfig

PeriodKind = Literal["shift", "today", "units", "hours", "range"]
PERIOD_HELP = "shift, today, last:N (units), hours:H, or FROM..TO (dates or local times)"
MAX_UNITS = 1_000_000
MAX_HOURS = 24 * 366


class PeriodError(ValueError):
    """A period text that cannot be read; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    kind: PeriodKind
    count: float = 0.0  # units for "units", hours for "hours"
    start: datetime | None = None  # "range": aware, or naive meaning local time
    end: datetime | None = None
    end_is_date: bool = False  # "range": TO was a date, so the whole day is included

    @property
    def text(self) -> str:
        if self.kind == "units":
            return f"last:{int(self.count)}"
        if self.kind == "hours":
            return f"hours:{self.count:g}"
        if self.kind == "range":
            assert self.start is not None
            assert self.end is not None
            if self.end_is_date:
                last_day = (self.end - timedelta(days=1)).date().isoformat()
                return f"{self.start.date().isoformat()}..{last_day}"
            return f"{self.start.isoformat()}..{self.end.isoformat()}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Window:
    """A resolved period. `end` None: open (up to now and beyond, for rolling hours).

    For "units" the start and end are unknown until the units are found: both None.
    """

    kind: PeriodKind
    label: str
    start: float | None
    end: float | None
    units: int = 0
    shift: str | None = None


def parse_period(text: str) -> PeriodSpec:
    raw = text.strip()
    word = raw.lower()
    if word in ("shift", "today"):
        return PeriodSpec(kind=word)  # type: ignore[arg-type]
    for prefix, kind in (("last:", "units"), ("units:", "units"), ("hours:", "hours")):
        if word.startswith(prefix):
            number = word[len(prefix) :].strip()
            try:
                value = float(number)
            except ValueError:
                raise PeriodError(f"{raw!r}: {number!r} is not a number") from None
            if kind == "units":
                if not value.is_integer() or not 1 <= value <= MAX_UNITS:
                    raise PeriodError(f"{raw!r}: the unit count must be 1..{MAX_UNITS}")
                return PeriodSpec(kind="units", count=value)
            if not 0 < value <= MAX_HOURS:
                raise PeriodError(f"{raw!r}: the hours must be more than 0 and at most a year")
            return PeriodSpec(kind="hours", count=value)
    if ".." in raw:
        left, right = (part.strip() for part in raw.split("..", 1))
        start, _ = _moment(left, raw)
        end, end_is_date = _moment(right, raw)
        if end_is_date:
            end = end + timedelta(days=1)
        if _comparable(end) <= _comparable(start):
            raise PeriodError(f"{raw!r}: the end must be after the start")
        return PeriodSpec(kind="range", start=start, end=end, end_is_date=end_is_date)
    raise PeriodError(f"{raw!r} is not a period; use {PERIOD_HELP}")


def _moment(text: str, whole: str) -> tuple[datetime, bool]:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time()), True
        return datetime.fromisoformat(text.replace("Z", "+00:00")), False
    except ValueError:
        raise PeriodError(
            f"{whole!r}: {text!r} is not a date (2025-03-01) or time (2025-03-01T06:00)"
        ) from None


def _comparable(moment: datetime) -> datetime:
    # Naive (local) and aware ends can only be ordered roughly before a zone is known.
    return moment.replace(tzinfo=None)


class SystemTimezone(tzinfo):
    """The operating system's local time, daylight saving time included.

    `datetime.now().astimezone().tzinfo` is a fixed offset and would put midnight an hour off
    for half of the year; this asks the OS for the offset of each moment instead.
    """

    _EPOCH = datetime(1970, 1, 1)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(seconds=_time.localtime().tm_gmtoff)
        naive = dt.replace(tzinfo=None)
        stamp = _time.mktime((*naive.timetuple()[:8], -1))
        return timedelta(seconds=_time.localtime(stamp).tm_gmtoff)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        if dt is None:
            return _time.strftime("%Z")
        return _time.localtime(self._stamp(dt)).tm_zone

    def fromutc(self, dt: datetime) -> datetime:
        stamp = (dt.replace(tzinfo=None) - self._EPOCH).total_seconds()
        local = _time.localtime(stamp)
        return datetime(*local[:6], microsecond=dt.microsecond, tzinfo=self)

    def _stamp(self, dt: datetime) -> float:
        naive = dt.replace(tzinfo=None)
        return _time.mktime((*naive.timetuple()[:8], -1))

    def __repr__(self) -> str:
        return "SystemTimezone()"


def local_datetime(epoch: float, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz)


def _at(day: date, tz: tzinfo, hour: int = 0, minute: int = 0) -> float:
    """Epoch seconds of a local wall-clock time on `day`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).timestamp()


def shift_window(
    now: datetime, shifts: Sequence[ShiftConfig]
) -> tuple[ShiftConfig, float, float] | None:
    """The shift running at `now` (aware) and its start and end, or the last one that ended.

    A shift crossing midnight started yesterday when `now` is before its end time.
    In a gap between shifts the shift that ended last is the "current" one (its figures
    are what the line just produced). None only when no shifts are configured.
    """
    tz = now.tzinfo
    assert tz is not None, "now must be timezone-aware"
    stamp = now.timestamp()
    best: tuple[ShiftConfig, float, float] | None = None
    for shift in shifts:
        start_t, end_t = shift.start_time, shift.end_time
        crosses = (end_t.hour, end_t.minute) <= (start_t.hour, start_t.minute)
        for offset in (-1, 0, 1):
            day = now.date() + timedelta(days=offset)
            start = _at(day, tz, start_t.hour, start_t.minute)
            end_day = day + timedelta(days=1) if crosses else day
            end = _at(end_day, tz, end_t.hour, end_t.minute)
            if start <= stamp < end:
                return shift, start, end
            if end <= stamp and (best is None or end > best[2]):
                best = (shift, start, end)
    return best


def resolve(spec: PeriodSpec, now: datetime, shifts: Sequence[ShiftConfig]) -> Window:
    """The window of a period at `now` (timezone-aware, in the station's zone)."""
    tz = now.tzinfo
    assert tz is not None, "now must be timezone-aware"
    if spec.kind == "shift":
        found = shift_window(now, shifts)
        if found is None:  # no shifts configured: the day is the shift
            return _today(now, tz, "Today (no shifts configured)")
        shift, start, end = found
        begin = local_datetime(start, tz)
        finish = local_datetime(end, tz)
        label = f"{shift.name} shift {begin:%a %d %b %H:%M}–{finish:%H:%M}"
        return Window("shift", label, start, end, shift=shift.name)
    if spec.kind == "today":
        return _today(now, tz, f"Today {now:%a %d %b %Y}")
    if spec.kind == "units":
        count = int(spec.count)
        return Window("units", f"Last {count} units", None, None, units=count)
    if spec.kind == "hours":
        start = now.timestamp() - spec.count * 3600
        return Window("hours", f"Last {spec.count:g} h", start, None)
    assert spec.start is not None
    assert spec.end is not None
    begin_dt = spec.start if spec.start.tzinfo else spec.start.replace(tzinfo=tz)
    end_dt = spec.end if spec.end.tzinfo else spec.end.replace(tzinfo=tz)
    if spec.end_is_date:
        last_day = end_dt - timedelta(days=1)
        label = f"{begin_dt:%d %b %Y}–{last_day:%d %b %Y}"
    else:
        label = f"{begin_dt:%d %b %Y %H:%M}–{end_dt:%d %b %Y %H:%M}"
    return Window("range", label, begin_dt.timestamp(), end_dt.timestamp())


def _today(now: datetime, tz: tzinfo, label: str) -> Window:
    day = now.date()
    start = _at(day, tz)
    end = _at(day + timedelta(days=1), tz)
    return Window("today", label, start, end)
