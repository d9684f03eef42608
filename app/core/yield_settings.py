"""The `yield` section of config.json: shift times, FPY targets and the alarm rules.

Yields are fractions 0..1; a value above 1 is read as a percentage (95 means 0.95), so a
person editing the file can write either. Every level is optional except a target's FPY
warning level, which is the target itself: below it a figure is "off target".

This module is plain pydantic (no Qt, no I/O) so the engine, the worker and the CLI share it.
"""

from __future__ import annotations

import re
from datetime import time

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_HHMM = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
MINUTES_PER_DAY = 24 * 60


class _Section(BaseModel):
    # Unknown keys are kept, as in every other config section (app.core.config).
    model_config = ConfigDict(extra="allow")


def _fraction(value: object) -> object:
    """95 → 0.95; 0.95 stays; anything else is left for pydantic to refuse."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
        return value / 100
    return value


def parse_clock(text: str) -> time:
    """ "06:00" → time(6, 0); ValueError with plain words otherwise."""
    match = _HHMM.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time of day like 06:00")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day like 06:00")
    return time(hour, minute)


class ShiftConfig(_Section):
    """One shift of the working day. An end at or before the start crosses midnight."""

    name: str = Field(min_length=1, max_length=40)
    start: str
    end: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("must not be empty")
        return text

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        return parse_clock(value).strftime("%H:%M")

    @property
    def start_time(self) -> time:
        return parse_clock(self.start)

    @property
    def end_time(self) -> time:
        return parse_clock(self.end)

    def minutes(self) -> range:
        """The minutes of the day this shift covers (past midnight: beyond 1440)."""
        start = self.start_time.hour * 60 + self.start_time.minute
        end = self.end_time.hour * 60 + self.end_time.minute
        if end <= start:
            end += MINUTES_PER_DAY
        return range(start, end)


def default_shifts() -> list[ShiftConfig]:
    """Three eight-hour shifts, the night shift crossing midnight."""
    return [
        ShiftConfig(name="Morning", start="06:00", end="14:00"),
        ShiftConfig(name="Afternoon", start="14:00", end="22:00"),
        ShiftConfig(name="Night", start="22:00", end="06:00"),
    ]


class YieldTarget(_Section):
    """FPY goal of one process, or of one product in a process (which then wins).

    `fpy_warning` is the target: below it the FPY tile turns amber and a warning is raised;
    below `fpy_alarm` it turns red and an alarm is raised. The report-yield and units/hour
    levels only colour their tiles.
    """

    process_code: int = Field(ge=0, le=32767)
    pn: str | None = Field(default=None, max_length=100)
    fpy_warning: float = Field(ge=0, le=1)
    fpy_alarm: float | None = Field(default=None, ge=0, le=1)
    report_yield_warning: float | None = Field(default=None, ge=0, le=1)
    report_yield_alarm: float | None = Field(default=None, ge=0, le=1)
    units_per_hour_warning: float | None = Field(default=None, ge=0)

    @field_validator(
        "fpy_warning", "fpy_alarm", "report_yield_warning", "report_yield_alarm", mode="before"
    )
    @classmethod
    def _percent(cls, value: object) -> object:
        return _fraction(value)

    @field_validator("pn")
    @classmethod
    def _pn(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return value.strip() or None

    @model_validator(mode="after")
    def _levels_in_order(self) -> YieldTarget:
        if self.fpy_alarm is not None and self.fpy_alarm > self.fpy_warning:
            raise ValueError(
                f"fpy_alarm ({self.fpy_alarm:.1%}) must not be above fpy_warning "
                f"({self.fpy_warning:.1%}): the alarm level is the lower one"
            )
        if (
            self.report_yield_alarm is not None
            and self.report_yield_warning is not None
            and self.report_yield_alarm > self.report_yield_warning
        ):
            raise ValueError("report_yield_alarm must not be above report_yield_warning")
        return self

    @property
    def subject(self) -> str:
        return f"process {self.process_code}" + (f", {self.pn}" if self.pn else "")


class YieldAlarmSettings(_Section):
    """When the worker raises yield alarms (docs/yield.md, "Targets and alarms")."""

    enabled: bool = True
    # FPY is judged over the newest `window_units` units first tested within `window_hours`,
    # and only once at least `min_units` of them exist (two failures in three units say little).
    window_units: int = Field(default=50, ge=1, le=100_000)
    window_hours: float = Field(default=8.0, gt=0, le=24 * 31)
    min_units: int = Field(default=10, ge=1, le=100_000)
    # This many newest units in a row failing their first test (0 = off).
    consecutive_failures: int = Field(default=5, ge=0, le=10_000)
    # One failing step "suddenly dominates" when it caused at least `step_share` of the newest
    # `step_recent_failures` failed runs, at least `step_min_failures` of them, and at least
    # `step_surge` times its share among the `step_baseline_failures` failures before those.
    step_recent_failures: int = Field(default=10, ge=0, le=10_000)
    step_share: float = Field(default=0.6, gt=0, le=1)
    step_min_failures: int = Field(default=5, ge=1, le=10_000)
    step_surge: float = Field(default=2.0, ge=1)
    step_baseline_failures: int = Field(default=40, ge=0, le=100_000)

    @field_validator("step_share", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        return _fraction(value)


class YieldSettings(_Section):
    """The whole `yield` section."""

    shifts: list[ShiftConfig] = Field(default_factory=default_shifts)
    targets: list[YieldTarget] = Field(default_factory=list)
    alarms: YieldAlarmSettings = Field(default_factory=YieldAlarmSettings)

    @model_validator(mode="after")
    def _consistent(self) -> YieldSettings:
        names: set[str] = set()
        covered: dict[int, str] = {}
        for shift in self.shifts:
            key = shift.name.casefold()
            if key in names:
                raise ValueError(f"two shifts are named {shift.name!r}")
            names.add(key)
            for minute in shift.minutes():
                other = covered.get(minute % MINUTES_PER_DAY)
                if other is not None:
                    raise ValueError(f"shifts {other!r} and {shift.name!r} overlap")
                covered[minute % MINUTES_PER_DAY] = shift.name
        seen: set[tuple[int, str | None]] = set()
        for target in self.targets:
            scope = (target.process_code, target.pn.casefold() if target.pn else None)
            if scope in seen:
                raise ValueError(f"{target.subject} has two targets")
            seen.add(scope)
        return self

    def target_for(self, process_code: int, pn: str | None) -> YieldTarget | None:
        """The product's own target if it has one, else the process's, else None."""
        general: YieldTarget | None = None
        for target in self.targets:
            if target.process_code != process_code:
                continue
            if target.pn is None:
                general = target
            elif pn is not None and target.pn.casefold() == pn.casefold():
                return target
        return general
