"""Culture-aware numbers, booleans and dates shared by the converters."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.converters._numbers import parse_bool, parse_datetime, parse_float, parse_int


@pytest.mark.parametrize(
    ("text", "culture", "expected"),
    [
        ("1.5", "invariant", 1.5),
        (" -3.2E+01 ", "invariant", -32.0),
        (".5", "en-US", 0.5),
        ("1,234.5", "en-US", 1234.5),
        ("1,5", "de-DE", 1.5),
        ("1.234,5", "de-DE", 1234.5),
        ("1 234,5", "fr-FR", 1234.5),
        ("1\u00a0234,5", "nb-NO", 1234.5),
        ("1\u202f234,5", "sv-SE", 1234.5),
        ("2.5", "de-DE", 2.5),  # machine-written values ignore regional settings
        ("1e-3", "sv-SE", 0.001),
        ("Infinity", "invariant", math.inf),
        ("-inf", "de-DE", -math.inf),
    ],
)
def test_parse_float(text: str, culture: str, expected: float) -> None:
    assert parse_float(text, culture) == expected


def test_parse_float_nan() -> None:
    assert math.isnan(parse_float("NaN"))


@pytest.mark.parametrize(
    ("text", "culture", "reason"),
    [
        ("", "invariant", "empty"),
        ("1,5", "invariant", "culture parameter"),
        ("1.5,3", "de-DE", "not a number in culture de-DE"),
        ("abc", "invariant", "not a number"),
        ("1_000", "invariant", "not a number"),
        ("0x10", "invariant", "not a number"),
    ],
)
def test_parse_float_refuses(text: str, culture: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_float(text, culture)


def test_parse_int() -> None:
    assert parse_int("3.0") == 3
    assert parse_int("-12") == -12
    with pytest.raises(ValueError, match="whole number"):
        parse_int("3.5")
    with pytest.raises(ValueError, match="whole number"):
        parse_int("inf")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("TRUE", True), ("false", False), ("1", True), ("0", False), ("Passed", True), ("n", False)],
)
def test_parse_bool(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_parse_bool_refuses() -> None:
    with pytest.raises(ValueError, match="not true or false"):
        parse_bool("maybe")


@pytest.mark.parametrize(
    ("text", "culture", "expected"),
    [
        ("2024-01-02T03:04:05", "invariant", datetime(2024, 1, 2, 3, 4, 5)),
        ("2024-01-02 03:04:05.25", "invariant", datetime(2024, 1, 2, 3, 4, 5, 250000)),
        ("2020-01-01T08:00:00.Z", "invariant", datetime(2020, 1, 1, 8, tzinfo=UTC)),
        (
            "2020-08-05T07:03:58.7257865Z",
            "invariant",
            datetime(2020, 8, 5, 7, 3, 58, 725786, tzinfo=UTC),
        ),
        (
            "2024-01-02T03:04:05+0130",
            "invariant",
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=1, minutes=30))),
        ),
        ("2024-01-02", "invariant", datetime(2024, 1, 2)),
        ("06.05.2024 08:00:00", "de-DE", datetime(2024, 5, 6, 8)),
        ("6.5.24 8:00", "nb-NO", datetime(2024, 5, 6, 8)),
        ("5/6/2024 2:03:04 PM", "en-US", datetime(2024, 5, 6, 14, 3, 4)),
        ("12/1/2024 12:00:00 AM", "en-US", datetime(2024, 12, 1, 0, 0)),
        ("06/05/2024 14:03", "fr-FR", datetime(2024, 5, 6, 14, 3)),
        ("26-FEB-16  14:10:50", "invariant", datetime(2016, 2, 26, 14, 10, 50)),
        ("3-Mai-2021 07:00", "de-DE", datetime(2021, 5, 3, 7)),
    ],
)
def test_parse_datetime(text: str, culture: str, expected: datetime) -> None:
    assert parse_datetime(text, culture) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("yesterday", "not a date in a known format"),
        ("2024-13-02T03:04:05", "not a valid date"),
        ("31.02.2024", "not a valid date"),
        ("13/13/2024", "not a valid date"),
        ("1-Foo-24 10:00", "unknown month"),
        ("13/1/2024 13:00 PM", "AM/PM"),
    ],
)
def test_parse_datetime_refuses(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_datetime(text)
