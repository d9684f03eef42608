"""The worker's status model: one object with everything the tray, monitor and CLI show.

Updated as things happen (never polled), it notifies listeners (the IPC server pushes a
`status` event) and writes each meaningful change to the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

log = logging.getLogger("wats.status")

WorkerState = Literal["starting", "running", "stopping", "stopped"]
ServerState = Literal["not_configured", "unknown", "online", "offline", "auth_failed"]
ConverterState = Literal["idle", "watching", "converting", "error", "disabled"]

# What each alarm means is documented in docs/pipeline.md ("Alarms").
ALARM_KINDS = (
    "auth_failed",  # the server refused the token: uploads are paused until it is fixed
    "write_failed",  # the queue could not be written (disk full, permissions): files wait
    "reports_rejected",  # the server rejected reports: they are parked, fix and resubmit
    "converter_failing",  # a converter failed on several files in a row
    "folder_missing",  # a watch folder does not exist (or is unreachable)
    "clock_skew",  # the station clock differs from the server's by more than 5 minutes
    # Yield monitor (docs/yield.md): FPY below target, units failing in a row, a dominant step.
    "yield_fpy",
    "yield_failures",
    "yield_step",
)


@dataclass
class Alarm:
    kind: str
    message: str
    since: float
    subject: str = ""  # e.g. the converter name for per-converter alarms


@dataclass
class ConverterStatus:
    """One converter as the status page shows it; the pipeline keeps one per converter."""

    name: str
    converter: str
    folder: str
    enabled: bool = True
    state: ConverterState = "idle"
    files_done_today: int = 0
    files_failed_today: int = 0
    last_file: str | None = None
    last_file_at: float | None = None
    last_error: str | None = None


@dataclass
class WorkerStatus:
    instance: str
    pid: int
    version: str
    worker_state: WorkerState = "starting"
    server_state: ServerState = "unknown"
    server_url: str | None = None
    server_version: str | None = None
    clock_skew_s: float | None = None
    last_ping_at: float | None = None
    uploads: str = "idle"  # idle | uploading | paused | backing_off | auth_failed
    backoff_until: float | None = None
    queue: dict[str, int] = field(
        default_factory=lambda: {"queued": 0, "uploading": 0, "uploaded": 0, "rejected": 0}
    )
    uploaded_session: int = 0
    converters: list[ConverterStatus] = field(default_factory=list)
    last_error: str | None = None
    alarms: list[Alarm] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)


class StatusModel:
    """Holds a WorkerStatus; every change goes through here so listeners hear about it."""

    def __init__(self, status: WorkerStatus) -> None:
        self._status = status
        self._listeners: list[Callable[[], None]] = []

    @property
    def current(self) -> WorkerStatus:
        return self._status

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:  # a broken listener must not stop the worker
                log.exception("status listener failed")

    def update(self, **fields: Any) -> None:
        changed = False
        for key, value in fields.items():
            if getattr(self._status, key) != value:
                if key in ("worker_state", "server_state", "uploads"):
                    log.info("%s: %s -> %s", key, getattr(self._status, key), value)
                setattr(self._status, key, value)
                changed = True
        if changed:
            self._changed()

    def set_queue_counts(self, counts: dict[str, int]) -> None:
        merged = {"queued": 0, "uploading": 0, "uploaded": 0, "rejected": 0, **counts}
        if merged != self._status.queue:
            self._status.queue = merged
            self._changed()

    def set_converters(self, converters: list[ConverterStatus]) -> None:
        if converters != self._status.converters:
            self._status.converters = converters
            self._changed()

    def raise_alarm(self, kind: str, message: str, subject: str = "") -> bool:
        """Raise (or refresh the message of) an alarm; True when it is new."""
        for alarm in self._status.alarms:
            if alarm.kind == kind and alarm.subject == subject:
                if alarm.message != message:
                    alarm.message = message
                    self._changed()
                return False
        self._status.alarms.append(Alarm(kind, message, time.time(), subject))
        log.warning("alarm raised: %s%s: %s", kind, f" ({subject})" if subject else "", message)
        self._status.last_error = message
        self._changed()
        return True

    def clear_alarm(self, kind: str, subject: str | None = None) -> bool:
        before = len(self._status.alarms)
        self._status.alarms = [
            a
            for a in self._status.alarms
            if not (a.kind == kind and (subject is None or a.subject == subject))
        ]
        if len(self._status.alarms) != before:
            log.info("alarm cleared: %s%s", kind, f" ({subject})" if subject else "")
            self._changed()
            return True
        return False

    def has_alarm(self, kind: str) -> bool:
        return any(a.kind == kind for a in self._status.alarms)

    def snapshot(self) -> dict[str, Any]:
        return asdict(self._status)
