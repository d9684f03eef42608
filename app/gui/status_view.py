"""Reading the worker's status snapshot (ipc-contract `status`) for the tray and the pages.

Pure functions over the snapshot dict: what state the tray shows, the one-line summary, the
tooltip, the words for each state. Kept free of widgets so every rule is easy to test.
"""

from __future__ import annotations

from typing import Any

from app.gui.formats import format_count
from app.gui.icons import TrayState

Status = dict[str, Any]

WORKER_WORDS = {
    "starting": "Starting",
    "running": "Running",
    "stopping": "Stopping",
    "stopped": "Stopped",
}
SERVER_WORDS = {
    "not_configured": "No server configured",
    "unknown": "Checking the server…",
    "online": "Online",
    "offline": "Server unreachable",
    "auth_failed": "Server refused the token",
}
UPLOAD_WORDS = {
    "idle": "Idle",
    "running": "Uploading",
    "uploading": "Uploading",
    "backing_off": "Waiting to retry",
    "paused": "Paused",
    "auth_failed": "Stopped: token refused",
    "stopped": "Stopped",
}
CONVERTER_WORDS = {
    "idle": "Idle",
    "watching": "Watching",
    "converting": "Converting",
    "error": "Error",
    "disabled": "Disabled",
}
ALARM_TITLES = {
    "auth_failed": "The WATS server refused the token",
    "write_failed": "Reports cannot be saved (disk full or no permission)",
    "reports_rejected": "The server rejected reports",
    "converter_failing": "A converter keeps failing",
    "folder_missing": "A watch folder is missing",
    "clock_skew": "The station clock is wrong",
    "yield_fpy": "First-pass yield below target",
    "yield_failures": "Units failing in a row",
    "yield_step": "One step causes most failures",
}
# Alarms worth a desktop notification (issue 5): not routine events.
NOTIFY_ALARMS = frozenset({"auth_failed", "write_failed", "reports_rejected", "converter_failing"})

STATE_WORDS = {
    TrayState.OK: "All reports uploaded",
    TrayState.UPLOADING: "Uploading",
    TrayState.OFFLINE: "Reports waiting",
    TrayState.ATTENTION: "Needs attention",
    TrayState.STOPPED: "Worker stopped",
}


def queue_counts(status: Status | None) -> dict[str, int]:
    counts = {"queued": 0, "uploading": 0, "uploaded": 0, "rejected": 0}
    if status:
        counts.update({k: int(v) for k, v in (status.get("queue") or {}).items()})
    return counts


def needs_attention(status: Status) -> bool:
    if status.get("alarms"):
        return True
    if status.get("server_state") == "auth_failed" or status.get("uploads") == "auth_failed":
        return True
    if queue_counts(status)["rejected"] > 0:
        return True
    return any(c.get("state") == "error" for c in status.get("converters") or [])


def tray_state(connected: bool, status: Status | None) -> TrayState:
    """The tray's state: stopped > attention > offline/waiting > uploading > ok."""
    if not connected or status is None:
        return TrayState.STOPPED
    if status.get("worker_state") in ("stopping", "stopped"):
        return TrayState.STOPPED
    if needs_attention(status):
        return TrayState.ATTENTION
    counts = queue_counts(status)
    waiting = counts["queued"] + counts["uploading"]
    server = status.get("server_state")
    uploads = status.get("uploads")
    if server == "offline" or uploads == "backing_off":
        return TrayState.OFFLINE
    if waiting and (server == "not_configured" or uploads == "paused"):
        return TrayState.OFFLINE
    # "running" also means "about to look for work": only reports in flight count.
    if counts["uploading"] > 0 or (uploads in ("running", "uploading") and waiting):
        return TrayState.UPLOADING
    return TrayState.OK


def state_detail(state: TrayState, status: Status | None) -> str:
    """Why the tray is in `state`, in a few words."""
    if state is TrayState.STOPPED or status is None:
        return "The worker is not running: files are not picked up and nothing is uploaded"
    alarms = status.get("alarms") or []
    if alarms:
        first = alarms[0]
        return str(first.get("message") or ALARM_TITLES.get(first.get("kind", ""), "Alarm"))
    if state is TrayState.ATTENTION:
        if queue_counts(status)["rejected"]:
            return "The server rejected reports: fix and resubmit them on the Queue page"
        failing = [c["name"] for c in status.get("converters") or [] if c.get("state") == "error"]
        if failing:
            return f"Converter {failing[0]} has an error"
        return SERVER_WORDS.get(status.get("server_state", ""), "Needs attention")
    if state is TrayState.OFFLINE:
        if status.get("uploads") == "paused":
            return "Uploads are paused: reports wait in the queue"
        if status.get("server_state") == "not_configured":
            return "No server configured: reports wait in the queue"
        return "The server cannot be reached: reports wait in the queue and upload later"
    return STATE_WORDS[state]


def tooltip(state: TrayState, status: Status | None) -> str:
    """Short (Windows cuts tooltips at 127 characters): state, then counts."""
    title = f"WATS Station – {STATE_WORDS[state]}"
    if state is TrayState.STOPPED or status is None:
        return title
    counts = queue_counts(status)
    line = (
        f"Queued {format_count(counts['queued'] + counts['uploading'])} · "
        f"Uploaded {format_count(counts['uploaded'])}"
    )
    if counts["rejected"]:
        line += f" · Rejected {format_count(counts['rejected'])}"
    return f"{title}\n{line}"


def drop_folders(status: Status | None) -> list[str]:
    """Watch folders of the enabled converters, in configured order."""
    if not status:
        return []
    return [
        str(c["folder"])
        for c in status.get("converters") or []
        if c.get("folder") and c.get("enabled", True)
    ]
