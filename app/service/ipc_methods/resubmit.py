"""Header edits for resubmitting a rejected report (queue.resubmit).

The server rejects a report for reasons a person can often fix in its header: an unknown
part number or process code, a serial number that is too long, a wrong station name. The
edit is applied to the stored WSJF document, which is then read again with the report model
and checked against the server's text limits, so what goes back into the queue is a report
the worker would have produced itself. The id never changes: the server upserts by it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.core.config import ValidationMode
from app.core.report import parse_report
from app.core.report_errors import ReportError
from app.core.text_limits import enforce_limits

# Top-level WSJF header fields that may be edited (wats-api.md §3.1).
HEADER_FIELDS = frozenset(
    {
        "pn",
        "sn",
        "rev",
        "processCode",
        "processName",
        "machineName",
        "location",
        "purpose",
        "start",
        "startUTC",
        "result",
    }
)
# The unit objects whose scalar fields may be edited as "uut.<field>" / "uur.<field>".
UNIT_OBJECTS = ("uut", "uur")
FIXED_FIELDS = frozenset({"id", "type"})
# The server needs these; an empty value removes any other field.
REQUIRED_FIELDS = frozenset({"pn", "sn", "rev"})
Scalar = str | int | float | bool | None


class ChangeError(ValueError):
    """A change that cannot be applied; `str()` names the field ("changes.sn: ...")."""


def apply_changes(
    payload: bytes, changes: Mapping[str, Any], validation_mode: ValidationMode
) -> bytes:
    """The WSJF bytes of the stored report with `changes` applied and validated again."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChangeError(f"the stored report is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ChangeError("the stored report is not a JSON object")
    for key, value in changes.items():
        _apply(doc, key.strip(), value)
    try:
        report = enforce_limits(parse_report(doc), validation_mode)
    except ReportError as exc:
        field = exc.field or ""
        where = f"changes.{field}" if field and _changed(field, changes) else "report"
        raise ChangeError(f"{where}: {exc.problem}") from None
    # The id is not editable, so it is the stored one; ReportQueue.resubmit checks it again.
    return report.to_json()


def _apply(doc: dict[str, Any], key: str, value: Any) -> None:
    if key in FIXED_FIELDS:
        raise ChangeError(f"changes.{key}: the {key} of a queued report cannot be changed")
    if not isinstance(value, Scalar):
        raise ChangeError(f"changes.{key}: must be text, a number, true/false or null")
    if isinstance(value, str) and not value.strip():
        if key in REQUIRED_FIELDS:
            raise ChangeError(f"changes.{key}: must not be empty")
        value = None
    if key == "operator":
        key = f"{'uur' if doc.get('type') == 'R' else 'uut'}.user"
    owner, _, field = key.partition(".")
    if field:
        if owner not in UNIT_OBJECTS or not field or "." in field:
            raise ChangeError(f"changes.{key}: not a header field that can be changed")
        expected = "uur" if doc.get("type") == "R" else "uut"
        if owner != expected:
            raise ChangeError(f"changes.{key}: this report has {expected}, not {owner}")
        unit = doc.setdefault(owner, {})
        if not isinstance(unit, dict):
            raise ChangeError(f"changes.{key}: the report's {owner} is not an object")
        if isinstance(unit.get(field), dict | list):
            raise ChangeError(f"changes.{key}: not a single value")
        _set(unit, field, value)
        return
    if key not in HEADER_FIELDS:
        allowed = ", ".join(sorted(HEADER_FIELDS))
        raise ChangeError(
            f"changes.{key}: not a header field that can be changed (use {allowed}, "
            "operator, or uut.<field> / uur.<field>)"
        )
    _set(doc, key, value)


def _set(target: dict[str, Any], key: str, value: Scalar) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def _changed(field: str, changes: Mapping[str, Any]) -> bool:
    """Whether the field the model complained about is one the caller changed."""
    return any(field == key or field.startswith(f"{key}.") for key in changes)
