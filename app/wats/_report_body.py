"""A report to submit, as the JSON bytes to send plus the report id the server must echo."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from uuid import UUID

from app.wats._json import to_json_bytes


@runtime_checkable
class SupportsToJson(Protocol):
    """Any report object that serializes itself to WSJF (e.g. a pydantic model)."""

    def to_json(self) -> bytes | str: ...


@dataclass(frozen=True, slots=True)
class IdentifiedReport:
    """WSJF bytes together with the id inside them, for a caller that already knows it (the
    worker's queue stores both): spares parsing a whole report only to find its id."""

    id: str
    body: bytes

    def to_json(self) -> bytes:
        return self.body


ReportInput = Mapping[str, Any] | bytes | SupportsToJson


def _id_text(value: object) -> str | None:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _id_in_json(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ValueError(f"the report is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("the report must be a JSON object")
    return _id_text(data.get("id"))


def encode_report(report: ReportInput) -> tuple[bytes, str]:
    """(body, id). Raises ValueError for a report that is not JSON or has no `id`.

    The id must come with the report: it is the upsert key that makes retries safe
    (wats-api.md §6.1), so the client never invents one.
    """
    report_id: str | None
    if isinstance(report, bytes | bytearray | memoryview):
        body = bytes(report)
        report_id = _id_in_json(body)
    elif isinstance(report, Mapping):
        body = to_json_bytes(report)
        report_id = _id_text(report.get("id"))
    elif isinstance(report, SupportsToJson):
        encoded = report.to_json()
        body = encoded.encode("utf-8") if isinstance(encoded, str) else bytes(encoded)
        # An object that knows its id spares parsing a report of several MB on the event loop.
        report_id = _id_text(getattr(report, "id", None)) or _id_in_json(body)
    else:
        raise TypeError(
            f"cannot submit a {type(report).__name__}: give a mapping, JSON bytes or an object "
            "with to_json()"
        )
    if report_id is None:
        raise ValueError("the report has no id: every report gets its id before it is queued")
    return body, report_id
