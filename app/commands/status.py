"""`wats-station status [--json]`: one screen a person can read about the running worker.

Worker, server, uploads, queue counts, converters and alarms, from the worker's own status
snapshot (the same one the tray and the status page show).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit
from app.commands.worker_client import (
    NO_WORKER_EPILOG,
    instance_of,
    instance_parent,
    with_worker,
)
from app.commands.worker_output import count, duration, local_time, one_line

if TYPE_CHECKING:
    from app.ipc.blocking import BlockingIpcClient

LABEL = 12  # width of the label column
# A clock further off than this is worth a line (the server flags 5 min as a problem).
SKEW_NOTE_S = 60.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        parents=[instance_parent()],
        help="show what the worker is doing",
        description="Show the running worker's state: server connection, uploads, queue "
        "counts, converters and alarms.",
        epilog=NO_WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the status as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.json:
        return _run_json(args)

    def body(client: BlockingIpcClient) -> int:
        print("\n".join(render(client.call("status"))))
        return int(Exit.OK)

    return with_worker(args, body)


def _run_json(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        print(json.dumps(client.call("status"), indent=2, ensure_ascii=False))
        return int(Exit.OK)

    code = with_worker(args, body)
    if code == Exit.NO_WORKER:
        # Scripts get a document too, and the exit code says the same.
        print(json.dumps({"instance": instance_of(args), "worker_state": "not_running"}))
    return code


def _line(label: str, text: str) -> str:
    return f"{label:<{LABEL}}{text}"


def render(status: dict[str, Any], now: float | None = None) -> list[str]:
    """The status snapshot as lines of text."""
    now = time.time() if now is None else now
    started = status.get("started_at")
    since = ""
    if isinstance(started, int | float):
        since = f" since {local_time(started)} ({duration(now - started)})"
    lines = [
        f"WATS Station worker {status.get('version', '?')} - instance "
        f"{status.get('instance', '?')}, pid {status.get('pid', '?')}: "
        f"{status.get('worker_state', '?')}{since}",
        _line("Server", _server(status)),
        _line("Uploads", _uploads(status, now)),
        _line("Queue", _queue(status.get("queue") or {})),
    ]
    if status.get("last_error"):
        lines.append(_line("Last error", one_line(status["last_error"], 200)))
    converters = status.get("converters") or []
    lines.append(_line("Converters", "none configured" if not converters else str(len(converters))))
    lines += _converters(converters)
    alarms = status.get("alarms") or []
    lines.append(_line("Alarms", "none" if not alarms else str(len(alarms))))
    lines += [
        f"  [!] {a.get('kind')}: {one_line(a.get('message'))} (since {local_time(a.get('since'))})"
        for a in alarms
    ]
    return lines


def _server(status: dict[str, Any]) -> str:
    state = status.get("server_state")
    url = status.get("server_url")
    if state == "not_configured" or not url:
        return "not configured: reports wait in the queue (`wats-station config init`)"
    words = {
        "online": "online",
        "offline": "offline (cannot reach it; uploads are retried)",
        "auth_failed": "refuses the token (`wats-station config set token`)",
        "unknown": "not contacted yet",
    }
    text = f"{url}: {words.get(str(state), str(state))}"
    if status.get("server_version"):
        text += f", version {status['server_version']}"
    if status.get("last_ping_at"):
        text += f", last answer {local_time(status['last_ping_at'])}"
    skew = status.get("clock_skew_s")
    if isinstance(skew, int | float) and abs(skew) > SKEW_NOTE_S:
        ahead = "behind" if skew > 0 else "ahead of"
        text += f"; this clock is {duration(abs(skew))} {ahead} the server's"
    return text


def _uploads(status: dict[str, Any], now: float) -> str:
    state = str(status.get("uploads", "?"))
    words = {
        "idle": "idle (nothing due)",
        "running": "uploading",
        "paused": "paused (`wats-station resume` to start again)",
        "auth_failed": "stopped: the server refused the token",
        "stopped": "stopped",
    }
    text = words.get(state, state)
    if state == "backing_off":
        until = status.get("backoff_until")
        wait = f" for {duration(until - now)}" if isinstance(until, int | float) else ""
        text = f"waiting{wait} before trying the server again"
    uploaded = status.get("uploaded_session")
    if isinstance(uploaded, int):
        text += f"; {count(uploaded, 'report')} uploaded since start"
    return text


def _queue(counts: dict[str, Any]) -> str:
    order = ("queued", "uploading", "uploaded", "rejected")
    text = ", ".join(f"{int(counts.get(state, 0)):,} {state}" for state in order)
    if counts.get("rejected"):
        text += " (`wats-station queue list --state rejected`)"
    return text


def _converters(converters: list[dict[str, Any]]) -> list[str]:
    if not converters:
        return []
    name_w = max(len(str(c.get("name", ""))) for c in converters)
    kind_w = max(len(str(c.get("converter", ""))) for c in converters)
    folder_w = max(len(str(c.get("folder", ""))) for c in converters)
    lines = []
    for conv in converters:
        state = str(conv.get("state", "?")) if conv.get("enabled", True) else "disabled"
        today = (
            f"today {conv.get('files_done_today', 0)} done, "
            f"{conv.get('files_failed_today', 0)} failed"
        )
        lines.append(
            f"  {conv.get('name', ''):<{name_w}}  {conv.get('converter', ''):<{kind_w}}  "
            f"{state:<10}  {conv.get('folder', ''):<{folder_w}}  ({today})"
        )
        if conv.get("last_file"):
            lines.append(
                f"  {'':<{name_w}}  last file {local_time(conv.get('last_file_at'))}: "
                f"{conv['last_file']}"
            )
        if conv.get("last_error"):
            lines.append(f"  {'':<{name_w}}  last error: {one_line(conv['last_error'], 160)}")
    return lines
