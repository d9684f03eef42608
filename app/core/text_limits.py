"""The server's text rules (wats-api.md §3.9, §6.5): trim, strip unstorable characters, limit.

The server stores reports as XML and its schema caps many strings. Before a report is
queued, `enforce_limits` trims the limited fields, removes characters XML cannot hold from
every string, and then either cuts over-long values ("truncate") or refuses the report
naming the field and its limit ("reject") — the C# API's AutoTruncate / ThrowExceptions.

Lengths count UTF-16 code units, as the server (C#) does: an emoji counts two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeVar

from pydantic import BaseModel

from app.core.report import (
    AdditionalData,
    Attachment,
    BinaryData,
    BooleanMeasurement,
    Chart,
    Failure,
    MessagePopup,
    MiscInfo,
    NumericMeasurement,
    ReportBase,
    ReportError,
    SequenceCall,
    Step,
    StringMeasurement,
    SubUnit,
    UURInfo,
    UURReport,
    UUTInfo,
    UUTReport,
)

ValidationMode = Literal["reject", "truncate"]

# Python field names per model class → maximum length (§3.9, plus the §3.1 binaryData and
# additionalData limits; a step attachment has the binaryData shape).
_HEADER = {"pn": 100, "sn": 100, "rev": 100, "machine_name": 100, "location": 100, "purpose": 100}
LIMITS: dict[type[BaseModel], dict[str, int]] = {
    UUTReport: _HEADER,
    UURReport: _HEADER,
    UUTInfo: {
        "user": 100,
        "comment": 5000,
        "fixture_id": 100,
        "batch_sn": 100,
        "error_message": 500,
    },
    UURInfo: {"user": 100, "comment": 5000},
    Step: {"name": 100, "error_message": 200, "report_text": 100_000, "ts_guid": 30},
    SequenceCall: {"path": 500, "name": 200, "version": 30},
    NumericMeasurement: {"name": 100, "unit": 20},
    BooleanMeasurement: {"name": 100},
    StringMeasurement: {"name": 100, "value": 100, "limit": 100},
    Chart: {
        "chart_type": 30,
        "label": 50,
        "x_label": 50,
        "y_label": 50,
        "x_unit": 20,
        "y_unit": 20,
    },
    MessagePopup: {"response": 200},
    MiscInfo: {"description": 100, "text": 100, "typedef": 30},
    SubUnit: {"part_type": 50, "pn": 100, "rev": 100, "sn": 100},
    Failure: {"com_ref": 50, "comment": 5000},
    BinaryData: {"content_type": 100, "name": 256},
    Attachment: {"content_type": 100, "name": 256},
    AdditionalData: {"name": 200},
}

# XML 1.0 cannot hold C0 controls other than tab, LF and CR, lone surrogates, U+FFFE/U+FFFF.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Bound, not constrained: callers holding `UUTReport | UURReport` get that union back.
ReportT = TypeVar("ReportT", bound=ReportBase)


@dataclass(frozen=True, slots=True)
class _FieldPlan:
    name: str
    wire_name: str
    limit: int | None


def enforce_limits(report: ReportT, mode: ValidationMode) -> ReportT:
    """Trim, clean and limit every string of `report` in place; return the same report.

    In "reject" mode a value over its limit raises `ReportError` ("sn: 130 characters, the
    limit is 100") and the report is left unchanged; in "truncate" mode it is cut to fit.
    """
    if mode not in ("reject", "truncate"):
        raise ValueError(f"unknown validation mode {mode!r}")
    changes: list[tuple[BaseModel, str, str]] = []
    too_long: list[ReportError] = []
    _walk(report, "", mode, changes, too_long)
    if too_long:
        first = too_long[0]
        raise ReportError(first.problem, field=first.field, problems=[str(e) for e in too_long])
    for owner, name, value in changes:
        setattr(owner, name, value)
    return report


def clean_text(text: str) -> str:
    """`text` without the characters the server cannot store (see module docstring)."""
    return _UNSTORABLE.sub("", text) if _UNSTORABLE.search(text) else text


def utf16_length(text: str) -> int:
    """Length as the server counts it: characters beyond U+FFFF take two code units."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def cut_to(text: str, limit: int) -> str:
    """The longest prefix of `text` whose UTF-16 length is at most `limit`."""
    if utf16_length(text) <= limit:
        return text
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


_PLANS: dict[type[BaseModel], tuple[_FieldPlan, ...]] = {}


def _plan(model: type[BaseModel]) -> tuple[_FieldPlan, ...]:
    # Per class, once: which fields to visit, their wire names and limits.
    plan = _PLANS.get(model)
    if plan is None:
        limits = LIMITS.get(model, {})
        plan = tuple(
            _FieldPlan(name, info.serialization_alias or info.alias or name, limits.get(name))
            for name, info in model.model_fields.items()
            if not info.exclude
        )
        _PLANS[model] = plan
    return plan


def _walk(
    node: BaseModel,
    path: str,
    mode: ValidationMode,
    changes: list[tuple[BaseModel, str, str]],
    too_long: list[ReportError],
) -> None:
    values = node.__dict__
    for field in _plan(type(node)):
        value = values.get(field.name)
        if value is None:
            continue
        if isinstance(value, str):
            fixed = _fixed_text(value, field.limit)
            if field.limit is not None and utf16_length(fixed) > field.limit:
                if mode == "reject":
                    problem = f"{utf16_length(fixed)} characters, the limit is {field.limit}"
                    too_long.append(ReportError(problem, field=_join(path, field.wire_name)))
                    continue
                fixed = cut_to(fixed, field.limit)
            if fixed != value:
                changes.append((node, field.name, fixed))
        elif isinstance(value, BaseModel):
            _walk(value, _join(path, field.wire_name), mode, changes, too_long)
        elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
            base = _join(path, field.wire_name)
            for index, item in enumerate(value):
                _walk(item, f"{base}[{index}]", mode, changes, too_long)


def _fixed_text(value: str, limit: int | None) -> str:
    cleaned = clean_text(value)
    return cleaned.strip() if limit is not None else cleaned


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


__all__ = [
    "LIMITS",
    "ValidationMode",
    "clean_text",
    "cut_to",
    "enforce_limits",
    "utf16_length",
]
