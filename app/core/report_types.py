"""Lenient scalar types of the WSJF report model (wats-api.md §3).

Each type reads what real testers and servers write (any letter case, C# numeric operator
codes, odd date forms, blanks for "no value") and always writes the one strict form the
server stores. The validators run once per value while parsing large reports, so each is a
dictionary lookup or a fast-path check that returns at once for well-formed input.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    TypeAdapter,
)
from pydantic_core import core_schema


class CompOp(StrEnum):
    """Comparison operator of a measurement (wats-api.md §3.5). WSJF writes the name."""

    EQ = "EQ"
    NE = "NE"
    GT = "GT"
    LT = "LT"
    GE = "GE"
    LE = "LE"
    GTLT = "GTLT"
    GELE = "GELE"
    GELT = "GELT"
    GTLE = "GTLE"
    LTGT = "LTGT"
    LEGE = "LEGE"
    LEGT = "LEGT"
    LTGE = "LTGE"
    LOG = "LOG"
    CASESENSIT = "CASESENSIT"
    IGNORECASE = "IGNORECASE"


# The C# API's enum values (Enums.cs): a few testers write these numbers instead of names.
COMP_OP_CODES: dict[int, CompOp] = {
    0: CompOp.EQ,
    1: CompOp.NE,
    2: CompOp.GT,
    3: CompOp.LT,
    4: CompOp.GE,
    5: CompOp.LE,
    6: CompOp.GTLT,
    7: CompOp.GELE,
    8: CompOp.GELT,
    9: CompOp.GTLE,
    10: CompOp.LTGT,
    11: CompOp.LEGE,
    12: CompOp.LEGT,
    13: CompOp.LTGE,
    14: CompOp.LOG,
    15: CompOp.CASESENSIT,
    16: CompOp.IGNORECASE,
}

_COMP_OP_BY_TEXT: dict[str, CompOp] = {op.value: op for op in CompOp}
_COMP_OP_BY_TEXT.update({str(code): op for code, op in COMP_OP_CODES.items()})
# Spellings seen in Virinco's own comments and in TestStand exports.
_COMP_OP_BY_TEXT.update(
    {
        "CASESENSITIVE": CompOp.CASESENSIT,
        "CASESENIT": CompOp.CASESENSIT,
        "IGNORECAS": CompOp.IGNORECASE,
        "NONE": CompOp.LOG,
    }
)


def _comp_op(value: object) -> CompOp:
    # Unknown or missing operators mean "log only" (§3.5): never reject a report for them.
    if isinstance(value, str):
        return _COMP_OP_BY_TEXT.get(value.strip().upper(), CompOp.LOG)
    if isinstance(value, bool):
        return CompOp.LOG
    if isinstance(value, int):
        return COMP_OP_CODES.get(value, CompOp.LOG)
    if isinstance(value, float) and value.is_integer():
        return COMP_OP_CODES.get(int(value), CompOp.LOG)
    return CompOp.LOG


@dataclass(frozen=True, eq=False)  # hashable by identity: typing hashes Annotated metadata
class _FastPathFirst:
    """Validate with the type's own schema first (in Rust); only values it rejects reach `fix`.

    Well-formed reports then never call Python for these fields, which keeps parsing of large
    reports fast. `fix` returns the corrected value or raises; a value neither path accepts
    gets one error, `error_type` with `message`, instead of one per path.
    """

    fix: Callable[[Any], Any]
    error_type: str
    message: str
    # The fast path's schema when it is not the annotated type's own.
    exact: core_schema.CoreSchema | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        exact = self.exact if self.exact is not None else handler(source)
        return core_schema.union_schema(
            [exact, core_schema.no_info_plain_validator_function(self.fix)],
            mode="left_to_right",
            custom_error_type=self.error_type,
            custom_error_message=self.message,
            serialization=exact.get("serialization"),
        )


LenientCompOp = Annotated[
    CompOp, _FastPathFirst(_comp_op, "wsjf_comp_op", "not a comparison operator")
]
"""A comparison operator in any case, or its C# code; unknown or missing reads as LOG."""

# ---------------------------------------------------------------- status letters

StepStatus = Literal["P", "F", "D", "S", "E", "T", "U"]
"""Passed, Failed, Done (no verdict), Skipped, Error, Terminated, Unknown."""
MeasurementStatus = Literal["P", "F", "S"]
ReportResult = Literal["P", "F", "E", "T"]
StepGroup = Literal["S", "M", "C"]
ReportType = Literal["T", "R"]

_STATUS_WORDS: dict[str, str] = {
    "PASSED": "P",
    "PASS": "P",
    "FAILED": "F",
    "FAIL": "F",
    "DONE": "D",
    "SKIPPED": "S",
    "SKIP": "S",
    "ERROR": "E",
    "TERMINATED": "T",
    "UNKNOWN": "U",
    # Group names as TestStand writes them.
    "SETUP": "S",
    "MAIN": "M",
    "CLEANUP": "C",
}


def _letter_of(allowed: tuple[str, ...], default: str | None) -> Callable[[Any], str]:
    def letter(value: Any) -> str:
        if default is not None and (value is None or _is_blank(value)):
            return default
        if isinstance(value, str):
            text = value.strip().upper()
            text = _STATUS_WORDS.get(text, text)
            if text in allowed:
                return text
        raise ValueError("not a known letter")

    return letter


def _lenient_letter(letters: Any, default: str | None = None) -> _FastPathFirst:
    allowed: tuple[str, ...] = get_args(letters)
    return _FastPathFirst(
        _letter_of(allowed, default), "wsjf_letter", "must be one of " + ", ".join(allowed)
    )


# Upper-case letters and whole words ("passed", "Skipped", "Cleanup") are read too.
LenientStepStatus = Annotated[StepStatus, _lenient_letter(StepStatus)]
LenientMeasurementStatus = Annotated[MeasurementStatus, _lenient_letter(MeasurementStatus)]
LenientResult = Annotated[ReportResult, _lenient_letter(ReportResult)]
# The C# model's group is a non-nullable char: a null or blank group is the main group.
LenientGroup = Annotated[StepGroup, _lenient_letter(StepGroup, default="M")]


def _none_is_false(value: object) -> bool:
    if value is None:
        return False
    raise ValueError("not true or false")


LenientBool = Annotated[bool, _FastPathFirst(_none_is_false, "wsjf_bool", "not true or false")]
"""A flag; null (written by some exporters) reads as false."""


def _none_is_empty(value: object) -> object:
    return [] if value is None else value


NullIsEmpty = BeforeValidator(_none_is_empty)
"""For list fields: Newtonsoft writes an unset list as null; read it as an empty list."""

# ---------------------------------------------------------------- numbers


def _is_blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def _blank_is_none(value: object) -> object:
    # Testers write "" (or spaces) for "no limit"; that is a missing value, not a bad number.
    return None if _is_blank(value) else value


def _blank_or_raise(value: object) -> None:
    if _is_blank(value):
        return None
    raise ValueError("not a number")


# Numbers also arrive as strings ("5.02"); pydantic's lax mode reads those on the fast path.
OptionalFloat = Annotated[
    float | None, _FastPathFirst(_blank_or_raise, "wsjf_number", "not a number")
]
OptionalInt = Annotated[
    int | None, _FastPathFirst(_blank_or_raise, "wsjf_integer", "not a whole number")
]
Int16 = Annotated[int, Field(ge=-32768, le=32767)]
# Rare fields: a Python check keeps pydantic's own range message ("less than or equal to").
OptionalInt16 = Annotated[Int16 | None, BeforeValidator(_blank_is_none)]

# ---------------------------------------------------------------- ids

_NIL_UUID = uuid.UUID(int=0)


def _optional_uuid(value: object) -> object:
    # Empty and all-zero ids mean "no id yet" (Virinco's converter makes a new one then).
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if value == _NIL_UUID:
        return None
    if isinstance(value, str) and not value.strip(" {}-0"):
        return None
    return value


OptionalUUID = Annotated[uuid.UUID | None, BeforeValidator(_optional_uuid)]

# ---------------------------------------------------------------- dates and times

# "2020-01-01T08:00:00.Z": a decimal point with no digits before the zone (Virinco's samples).
_EMPTY_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})\.(?=$|[Zz+-])")
_ANY_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def as_local(value: datetime) -> datetime:
    """A naive time read as this station's local time (testers write their wall clock)."""
    if value.utcoffset() is not None:
        return value
    try:
        return value.astimezone()
    except (OverflowError, OSError, ValueError):
        # Far outside the platform's time range (C# DateTime.MinValue): keep it, as UTC.
        return value.replace(tzinfo=UTC)


def in_station_zone(value: datetime) -> datetime:
    """The same instant in this station's zone (a naive value is read as local time)."""
    try:
        return value.astimezone()
    except (OverflowError, OSError, ValueError):
        return as_local(value)


def as_utc(value: datetime) -> datetime:
    """A naive time read as UTC; an aware one converted to UTC."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return value.replace(tzinfo=UTC)


def _lenient_datetime(value: Any) -> datetime:
    # Only what the fast path (an ISO 8601 time with a zone) rejects comes here: naive
    # times, and forms pydantic does not read, such as "2020-01-01T08:00:00.Z".
    try:
        return _ANY_DATETIME.validate_python(value)
    except ValueError:
        if not isinstance(value, str):
            raise
    return datetime.fromisoformat(_EMPTY_FRACTION.sub(r"\1", value.strip()))


def _local_datetime(value: Any) -> datetime | None:
    return None if _is_blank(value) else as_local(_lenient_datetime(value))


def _utc_datetime(value: Any) -> datetime | None:
    return None if _is_blank(value) else as_utc(_lenient_datetime(value))


def _iso_utc(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


_AWARE = core_schema.datetime_schema(tz_constraint="aware")

LocalDateTime = Annotated[
    datetime,
    _FastPathFirst(_local_datetime, "wsjf_datetime", "not a date and time", exact=_AWARE),
]
"""A time with its UTC offset; a naive input is this station's local time; blank is None."""

UtcDateTime = Annotated[
    datetime,
    _FastPathFirst(_utc_datetime, "wsjf_datetime", "not a date and time", exact=_AWARE),
    PlainSerializer(_iso_utc, return_type=str, when_used="json"),
]
"""An aware time, written in UTC with a trailing Z; a naive input is UTC; blank is None."""
