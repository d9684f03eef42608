"""The local server's report validation (wats-api.md §6.4), on the raw WSJF dict.

A failed check is a 400 whose `Message` names the field, so a converter author sees at once
what to fix, and a station client can tell "never retry" (400) from "retry later" (5xx).
"""

from __future__ import annotations

import uuid
from collections.abc import Container
from typing import Any

from app.devserver.jsonio import ApiError

REQUIRED_FIELDS = ("type", "id", "pn", "sn", "rev", "processCode", "machineName")
NON_BLANK_FIELDS = ("pn", "sn", "machineName")  # rev may be empty: real exports have Rev=""
REPORT_TYPES = ("T", "R")


def invalid(message: str) -> ApiError:
    return ApiError(400, message)


def canonical_uuid(value: Any, field: str = "id") -> str:
    """The lower-case hyphenated form of a UUID, or a 400 naming the field."""
    if not isinstance(value, str):
        raise invalid(f"Field '{field}' must be a UUID string, got {type(value).__name__}")
    try:
        parsed = uuid.UUID(value.strip())
    except ValueError:
        raise invalid(f"Field '{field}' is not a UUID: {value!r}") from None
    if parsed.int == 0:
        raise invalid(f"Field '{field}' must not be the all-zero UUID")
    return str(parsed)


def validate_wsjf(report: Any, known_process_codes: Container[int] | None) -> str:
    """Check a WSJF report and return its canonical id, or raise a 400 ApiError.

    `known_process_codes` None skips the process-code check (`--accept-unknown-process`).
    """
    if not isinstance(report, dict):
        kind = "an array" if isinstance(report, list) else type(report).__name__
        raise invalid(f"The report must be a JSON object, got {kind}")
    missing = [name for name in REQUIRED_FIELDS if report.get(name) is None]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise invalid(f"Missing required field{'s' if len(missing) > 1 else ''}: {names}")
    report_type = report["type"]
    if report_type not in REPORT_TYPES:
        raise invalid(f"Field 'type' must be 'T' (test) or 'R' (repair), got {report_type!r}")
    report_id = canonical_uuid(report["id"])
    for name in ("pn", "sn", "rev", "machineName"):
        if not isinstance(report[name], str):
            raise invalid(f"Field '{name}' must be a string, got {type(report[name]).__name__}")
    for name in NON_BLANK_FIELDS:
        if not report[name].strip():
            raise invalid(f"Field '{name}' must not be empty")
    code = report["processCode"]
    if isinstance(code, bool) or not isinstance(code, int):
        raise invalid(f"Field 'processCode' must be an integer, got {code!r}")
    if known_process_codes is not None and code not in known_process_codes:
        raise invalid(f"Field 'processCode' {code} is not a process known to this server")
    if report_type == "T" and not isinstance(report.get("root"), dict):
        if report.get("root") is None:
            raise invalid("Field 'root' is required: a test report (type T) needs a root step")
        raise invalid("Field 'root' must be a step object")
    return report_id
