"""Value types of the report queue, and the header extracted from a WSJF document.

The header columns are what survives after an uploaded report's payload is pruned: enough
for the history list, search and the yield dashboard without parsing JSON again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class ReportState(StrEnum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    UPLOADED = "uploaded"
    REJECTED = "rejected"


class FileState(StrEnum):
    DONE = "done"
    FAILED = "failed"


class QueueError(Exception):
    """The queue database cannot be used; the message is plain words for the operator."""


class QueueWriteError(QueueError):
    """A write did not happen (disk full, I/O error). Nothing was changed."""


class InvalidReportError(ValueError):
    """A report handed to the queue is unusable (bad id, payload not JSON, id mismatch)."""


@dataclass(frozen=True)
class ReportHeader:
    """The WSJF top-level fields the queue keeps in columns."""

    type: str | None = None
    pn: str | None = None
    rev: str | None = None
    sn: str | None = None
    process_code: int | None = None
    process_name: str | None = None
    result: str | None = None
    start: str | None = None  # ISO 8601 with offset, as in the report
    start_utc: float | None = None  # epoch seconds
    station: str | None = None
    location: str | None = None
    purpose: str | None = None
    operator: str | None = None
    fixture_id: str | None = None
    batch_sn: str | None = None
    socket_index: int | None = None
    failing_step_name: str | None = None
    failing_step_path: str | None = None

    @classmethod
    def from_wsjf(cls, doc: Mapping[str, Any]) -> ReportHeader:
        """Extract the header of a WSJF document (wats-api.md §3). Missing fields stay None."""
        unit = doc.get("uut") if doc.get("type") != "R" else doc.get("uur")
        unit = unit if isinstance(unit, Mapping) else {}
        start = _text(doc.get("start"))
        failing = _failing_step(doc) if doc.get("type") != "R" else None
        return cls(
            type=_text(doc.get("type")),
            pn=_text(doc.get("pn")),
            rev=_text(doc.get("rev")),
            sn=_text(doc.get("sn")),
            process_code=_int(doc.get("processCode")),
            process_name=_text(doc.get("processName")),
            result=_text(doc.get("result")),
            start=start,
            start_utc=_epoch(doc.get("startUTC")) or _epoch(start),
            station=_text(doc.get("machineName")),
            location=_text(doc.get("location")),
            purpose=_text(doc.get("purpose")),
            operator=_text(unit.get("user")),
            fixture_id=_text(unit.get("fixtureId")),
            batch_sn=_text(unit.get("batchSN")),
            socket_index=_int(unit.get("testSocketIndex")),
            failing_step_name=failing[0] if failing else None,
            failing_step_path=failing[1] if failing else None,
        )

    @classmethod
    def from_payload(cls, payload: bytes) -> ReportHeader:
        return cls.from_wsjf(parse_payload(payload))


HEADER_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ReportHeader))


@dataclass(frozen=True)
class QueuedReport:
    """One report to enqueue: its id (the upsert key), header and WSJF bytes."""

    id: str
    header: ReportHeader
    payload: bytes

    @classmethod
    def from_payload(cls, payload: bytes) -> QueuedReport:
        """Build from WSJF bytes alone: the id and header are read from the document."""
        doc = parse_payload(payload)
        header = ReportHeader.from_wsjf(doc)
        return cls(id=normalize_id(doc.get("id")), header=header, payload=payload)


@dataclass(frozen=True)
class SourceBatch:
    """All reports converted from one source file: enqueued all-or-nothing."""

    converter: str
    source_path: str
    source_sha256: str
    reports: Sequence[QueuedReport]

    @property
    def key(self) -> str:
        return source_key(self.converter, self.source_sha256, self.source_path)


@dataclass(frozen=True)
class EnqueueResult:
    """What happened to one source file's reports."""

    key: str
    inserted: int = 0
    already_queued: int = 0  # ids already in the queue (a re-found file after a crash)
    error: str | None = None  # set when nothing of this file was stored

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def all_already_queued(self) -> bool:
        return self.ok and self.inserted == 0 and self.already_queued > 0


@dataclass(frozen=True)
class ClaimedReport:
    """A report moved to `uploading`, ready to be sent."""

    id: str
    payload: bytes
    attempts: int


@dataclass(frozen=True)
class ReportRow:
    """One row of the queue. `payload` is None in listings and after pruning."""

    id: str
    state: ReportState
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    updated_at: float
    uploaded_at: float | None
    source_path: str | None
    source_sha256: str | None
    converter: str | None
    payload_size: int
    pruned: bool
    header: ReportHeader
    payload: bytes | None = None


@dataclass(frozen=True)
class Page:
    """One page of a listing and the number of rows matching the filter."""

    rows: list[ReportRow] = field(default_factory=list)
    total: int = 0


@dataclass(frozen=True)
class FailedFile:
    key: str
    path: str
    converter: str
    sha256: str
    error: str | None
    updated_at: float


@dataclass(frozen=True)
class FileCounts:
    done: int = 0
    failed: int = 0


def source_key(converter: str, sha256: str, path: str) -> str:
    return f"{converter}:{sha256.lower()}:{path}"


def normalize_id(value: object) -> str:
    """The canonical form of a report id: a lowercase hyphenated UUID."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidReportError("the report has no id")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise InvalidReportError(f"the report id {value!r} is not a UUID") from None


def parse_payload(payload: bytes) -> Mapping[str, Any]:
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidReportError(f"the report is not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidReportError("the report is not a JSON object")
    return doc


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _epoch(value: object) -> float | None:
    """Epoch seconds of an ISO 8601 time; lenient as wats-api.md §3 asks ("…00.Z")."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(".Z", "Z").replace(".z", "Z")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        # A time without an offset: wats-api.md says `start` carries one, so this is a
        # converter's local time. Take it as UTC rather than guess the station's zone.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _failing_step(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    """Name and path ("MainSequence Callback/Group/Step") of the step that failed the UUT.

    The same choice as `app.core.report_header`: the first step flagged
    `causedUUTFailure`, else the step named by `uut.stepIdCausedUUTFailure`; and, for a
    failed report that marks nothing (Import mode), the first innermost failed step.
    """
    root = doc.get("root")
    if not isinstance(root, Mapping):
        return None
    unit = doc.get("uut")
    wanted = _int(unit.get("stepIdCausedUUTFailure")) if isinstance(unit, Mapping) else None
    top = (_text(root.get("name")) or "?",)
    steps = [(root, top), *_walk(root, top)]
    for step, path in steps:
        if step.get("causedUUTFailure") is True:
            return _named(step, path)
    if wanted is not None:
        for step, path in steps:
            if _int(step.get("id")) == wanted:
                return _named(step, path)
    if str(doc.get("result") or "").upper() not in {"F", "E", "T"}:
        return None
    # Take the innermost step: where the failure happened, not where it propagated to.
    for step, path in steps[1:]:
        if _failed(step) and not any(_failed(child) for child in _children(step)):
            return _named(step, path)
    return None


def _walk(
    step: Mapping[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[Mapping[str, Any], tuple[str, ...]]]:
    """The steps below `step`, depth-first in tree order, each with its path of names."""
    for child in _children(step):
        child_path = (*path, _text(child.get("name")) or "?")
        yield child, child_path
        yield from _walk(child, child_path)


def _children(step: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    steps = step.get("steps")
    if not isinstance(steps, list):
        return []
    return [s for s in steps if isinstance(s, Mapping)]


def _failed(step: Mapping[str, Any]) -> bool:
    return str(step.get("status") or "").upper() in {"F", "E", "T"}


def _named(step: Mapping[str, Any], path: tuple[str, ...]) -> tuple[str, str]:
    return (_text(step.get("name")) or "?", "/".join(path))
