"""Period texts, shift windows (midnight, daylight saving, gaps) and the yield config section."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from app.core.config import ConfigError, StationConfig, validate_config, with_value
from app.core.yield_periods import (
    PeriodError,
    SystemTimezone,
    parse_period,
    resolve,
    shift_window,
)
from app.core.yield_settings import ShiftConfig, YieldSettings, default_shifts
from tests.unit.core.yield_support import at


def test_period_texts() -> None:
    assert parse_period("shift").kind == "shift"
    assert parse_period(" Today ").kind == "today"
    assert parse_period("last:200").count == 200
    assert parse_period("units:5").text == "last:5"
    assert parse_period("hours:0.5").count == 0.5
    spec = parse_period("2025-03-01..2025-03-07")
    assert spec.kind == "range"
    assert spec.end == datetime(2025, 3, 8)  # TO is a whole day, included
    assert spec.text == "2025-03-01..2025-03-07"
    exact = parse_period("2025-03-01T06:00..2025-03-01T14:00")
    assert exact.end == datetime(2025, 3, 1, 14)
    utc = parse_period("2025-03-01T06:00Z..2025-03-01T14:00Z")
    assert utc.start == datetime(2025, 3, 1, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("week", "is not a period"),
        ("last:0", "1..1000000"),
        ("last:2.5", "1..1000000"),
        ("hours:-1", "more than 0"),
        ("hours:x", "'x' is not a number"),
        ("2025-03-07..2025-03-01", "end must be after the start"),
        ("2025-13-01..2025-03-01", "is not a date"),
    ],
)
def test_bad_period_texts_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(PeriodError, match=words):
        parse_period(text)


def test_shift_windows_around_midnight() -> None:
    shifts = default_shifts()
    found = shift_window(at("2025-03-05 05:59"), shifts)
    assert found is not None
    assert found[0].name == "Night"
    assert found[1] == at("2025-03-04 22:00").timestamp()
    morning = shift_window(at("2025-03-05 06:00"), shifts)
    assert morning is not None
    assert morning[0].name == "Morning"
    assert shift_window(at("2025-03-05 12:00"), []) is None


def test_ranges_in_local_time_and_labels() -> None:
    window = resolve(parse_period("2025-03-01..2025-03-02"), at("2025-03-10 10:00"), [])
    assert window.start == at("2025-03-01 00:00").timestamp()
    assert window.end == at("2025-03-03 00:00").timestamp()
    assert window.label == "01 Mar 2025–02 Mar 2025"
    no_shifts = resolve(parse_period("shift"), at("2025-03-10 10:00"), [])
    assert no_shifts.kind == "today"
    assert "no shifts" in no_shifts.label


def test_system_timezone_follows_the_os_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")
    monkeypatch.setenv("TZ", "Europe/Oslo")
    time.tzset()
    try:
        tz = SystemTimezone()
        winter = datetime(2025, 1, 15, 12, 0, tzinfo=tz)
        summer = datetime(2025, 7, 15, 12, 0, tzinfo=tz)
        assert winter.utcoffset() == timedelta(hours=1)
        assert summer.utcoffset() == timedelta(hours=2)
        assert datetime.fromtimestamp(summer.timestamp(), tz).hour == 12
        # A night shift on the night clocks go forward is seven hours long.
        window = shift_window(datetime(2025, 3, 30, 5, 0, tzinfo=tz), default_shifts())
        assert window is not None
        assert window[2] - window[1] == 7 * 3600
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert os.environ.get("TZ") is None


def test_the_yield_section_of_config_json() -> None:
    config = StationConfig()
    data = config.to_json_dict()
    assert [s["name"] for s in data["yield"]["shifts"]] == ["Morning", "Afternoon", "Night"]
    changed = with_value(config, "yield.alarms.consecutive_failures", "3")
    assert changed.yield_settings.alarms.consecutive_failures == 3
    targets = with_value(
        config, "yield.targets", '[{"process_code": 50, "fpy_warning": 95, "fpy_alarm": 0.9}]'
    )
    assert targets.yield_settings.targets[0].fpy_warning == pytest.approx(0.95)
    assert targets.yield_settings.target_for(50, "ANY") is not None
    assert validate_config(targets.to_json_dict()) == targets


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"shifts": [{"name": "A", "start": "6", "end": "14:00"}]}, "not a time of day"),
        ({"shifts": [{"name": "A", "start": "25:00", "end": "14:00"}]}, "not a time of day"),
        (
            {
                "shifts": [
                    {"name": "A", "start": "06:00", "end": "15:00"},
                    {"name": "B", "start": "14:00", "end": "22:00"},
                ]
            },
            "overlap",
        ),
        (
            {
                "shifts": [
                    {"name": "N", "start": "22:00", "end": "06:00"},
                    {"name": "M", "start": "05:00", "end": "07:00"},
                ]
            },
            "overlap",
        ),
        ({"targets": [{"process_code": 50, "fpy_warning": 0.8, "fpy_alarm": 0.9}]}, "alarm level"),
        (
            {
                "targets": [
                    {"process_code": 50, "fpy_warning": 0.8},
                    {"process_code": 50, "fpy_warning": 0.9},
                ]
            },
            "two targets",
        ),
    ],
)
def test_bad_yield_settings_name_the_problem(section: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        validate_config({"yield": section})


def test_shift_minutes_cross_midnight() -> None:
    night = ShiftConfig(name="N", start="22:00", end="06:00")
    assert night.minutes() == range(22 * 60, 30 * 60)
    assert YieldSettings(shifts=[night]).shifts[0].end == "06:00"
