"""`wats-station queue list|show|retry|resubmit|delete`: the report queue, through the worker.

Only the worker writes the queue (DESIGN.md §1), so these commands ask it over IPC. A report
can be named by its full id or by the first characters of it (as `queue list` shows them).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import uuid
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit, usage
from app.commands.worker_client import (
    NO_WORKER_EPILOG,
    CommandFailed,
    instance_parent,
    with_worker,
)
from app.commands.worker_output import count, local_time, one_line, table

if TYPE_CHECKING:
    from app.ipc.blocking import BlockingIpcClient

SORTS = ("created_desc", "created_asc", "start_desc", "start_asc")
SORT_WORDS = {
    "created_desc": "newest first",
    "created_asc": "oldest first",
    "start_desc": "latest test first",
    "start_asc": "earliest test first",
}
STATES = ("queued", "uploading", "uploaded", "rejected")
SHORT_ID = 8
MIN_PREFIX = 4
PAGE = 1000  # ids per request when acting on many reports
# Header fields whose values are whole numbers; every other --set value is text.
NUMBER_FIELDS = ("processCode", "uut.testSocketIndex")


def register(subparsers: Any) -> None:
    parent = instance_parent()
    parser = subparsers.add_parser(
        "queue",
        parents=[parent],
        help="list, inspect, retry, resubmit or delete queued reports",
        description="The reports waiting for upload, uploaded, or rejected by the server. A "
        "report is named by its id or the first characters of it.",
        epilog=NO_WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda _args: usage(parser))
    actions = parser.add_subparsers(dest="queue_action", metavar="ACTION")

    def action(name: str, help_text: str, description: str) -> argparse.ArgumentParser:
        return actions.add_parser(  # type: ignore[no-any-return]
            name,
            parents=[parent],
            help=help_text,
            description=description,
            epilog=NO_WORKER_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    list_ = action("list", "list reports", "List the queue's reports, newest first.")
    list_.add_argument("--state", choices=STATES, help="only reports in this state")
    list_.add_argument(
        "--search", metavar="TEXT", help="only reports whose id, SN, PN, ... contain TEXT"
    )
    list_.add_argument("--sort", choices=SORTS, default="created_desc", help="order")
    list_.add_argument("--limit", type=int, default=20, metavar="N", help="rows (default 20)")
    list_.add_argument("--offset", type=int, default=0, metavar="N", help="skip N rows")
    list_.add_argument("--json", action="store_true", help="print the page as JSON")
    list_.set_defaults(handler=run_list)

    show = action("show", "show one report", "Show one report: state, header, last error.")
    show.add_argument("id", metavar="ID")
    output = show.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print everything as JSON")
    output.add_argument("--report", action="store_true", help="print only the WSJF report")
    show.set_defaults(handler=run_show)

    retry = action(
        "retry",
        "upload reports again now",
        "Queue rejected or waiting reports for upload now (without changing them).",
    )
    retry.add_argument("ids", metavar="ID", nargs="*")
    retry.add_argument("--rejected", action="store_true", help="every rejected report")
    retry.set_defaults(handler=run_retry)

    resubmit = action(
        "resubmit",
        "fix a rejected report's header and send it again",
        "Resubmit a rejected report, optionally changing header fields first, e.g. "
        "`--set pn=PCB-100 --set processCode=10`. Fields: pn, sn, rev, processCode, "
        "processName, machineName, location, purpose, start, startUTC, result, operator, "
        "uut.<field>/uur.<field>. An empty value removes the field.",
    )
    resubmit.add_argument("id", metavar="ID")
    resubmit.add_argument(
        "--set", dest="changes", action="append", default=[], metavar="FIELD=VALUE"
    )
    resubmit.set_defaults(handler=run_resubmit)

    delete = action(
        "delete", "delete reports", "Delete reports from the queue: they will not be uploaded."
    )
    delete.add_argument("ids", metavar="ID", nargs="+")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=run_delete)


# ------------------------------------------------------------------ ids


def resolve_id(client: BlockingIpcClient, text: str) -> str:
    """The full id of the report named by `text` (a full id or a unique prefix of one)."""
    wanted = text.strip().lower()
    try:
        return str(uuid.UUID(wanted))
    except ValueError:
        pass
    if len(wanted) < MIN_PREFIX or not re.fullmatch(r"[0-9a-f-]+", wanted):
        raise CommandFailed(
            f"{text!r} is not a report id (give the id, or at least its first "
            f"{MIN_PREFIX} characters)",
            Exit.INVALID_INPUT,
        )
    page = client.call("queue.list", {"search": wanted, "limit": 1000})
    matches = [row["id"] for row in page["rows"] if str(row["id"]).startswith(wanted)]
    if not matches:
        raise CommandFailed(f"no report id starts with {text!r}", Exit.INVALID_INPUT)
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise CommandFailed(
            f"{text!r} is the start of {len(matches)} report ids ({shown}); give more of it",
            Exit.INVALID_INPUT,
        )
    return str(matches[0])


def _resolve_all(client: BlockingIpcClient, texts: list[str]) -> list[str]:
    return list(dict.fromkeys(resolve_id(client, text) for text in texts))


# ------------------------------------------------------------------ list


def run_list(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        print("error: --limit must be between 1 and 1000", file=sys.stderr)
        return int(Exit.USAGE)
    if args.offset < 0:
        print("error: --offset must not be negative", file=sys.stderr)
        return int(Exit.USAGE)

    def body(client: BlockingIpcClient) -> int:
        params: dict[str, Any] = {"sort": args.sort, "offset": args.offset, "limit": args.limit}
        if args.state:
            params["state"] = args.state
        if args.search:
            params["search"] = args.search
        page = client.call("queue.list", params)
        if args.json:
            print(json.dumps(page, indent=2, ensure_ascii=False))
            return int(Exit.OK)
        print("\n".join(render_list(page, args)))
        return int(Exit.OK)

    return with_worker(args, body)


def render_list(page: dict[str, Any], args: argparse.Namespace) -> list[str]:
    rows = page["rows"]
    total = int(page["total"])
    what = "report" if not args.state else f"{args.state} report"
    if not rows:
        if total:
            return [f"No reports on this page ({count(total, what)} in all; lower --offset)."]
        return [f"No {what}s{' matching ' + repr(args.search) if args.search else ''}."]
    lines = table(
        ["ID", "STATE", "CREATED", "PN", "SN", "RESULT", "TRIES", "LAST ERROR"],
        [
            [
                str(row["id"])[:SHORT_ID],
                str(row["state"]),
                local_time(row.get("created_at"), seconds=False),
                one_line(row.get("pn"), 24),
                one_line(row.get("sn"), 24),
                row.get("result") or "-",
                str(row.get("attempts", 0)),
                one_line(row.get("last_error")) if row.get("last_error") else "",
            ]
            for row in rows
        ],
    )
    first = args.offset + 1
    last = args.offset + len(rows)
    lines.append(
        f"{first:,}-{last:,} of {count(total, what)} ({SORT_WORDS[args.sort]})"
        + (f"; next page: --offset {last}" if last < total else "")
    )
    return lines


# ------------------------------------------------------------------ show


def run_show(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        report = client.call("queue.get", {"id": resolve_id(client, args.id)})
        if args.report:
            if report.get("report") is None:
                raise CommandFailed(
                    "the report's content is no longer stored (uploaded reports keep only "
                    "their header after pipeline.keep_uploaded_days)"
                )
            print(json.dumps(report["report"], indent=2, ensure_ascii=False))
        elif args.json:
            print(json.dumps(report, indent=2, ensure_ascii=False))
        else:
            print("\n".join(render_report(report)))
        return int(Exit.OK)

    return with_worker(args, body)


def render_report(row: dict[str, Any]) -> list[str]:
    kind = {"T": "test (UUT)", "R": "repair (UUR)"}.get(str(row.get("type")), "?")
    attempts = int(row.get("attempts") or 0)
    state = f"{row['state']} ({count(attempts, 'upload attempt')})"
    fields: list[tuple[str, Any]] = [
        ("Report", row["id"]),
        ("State", state),
        ("Last error", row.get("last_error")),
        ("Type", kind),
        ("PN / rev", f"{row.get('pn') or '-'} / {row.get('rev') or '-'}"),
        ("SN", row.get("sn")),
        ("Process", _process(row)),
        ("Result", row.get("result")),
        ("Start", row.get("start")),
        ("Station", row.get("station")),
        ("Operator", row.get("operator")),
        ("Failing step", row.get("failing_step_path") or row.get("failing_step_name")),
        ("Source file", row.get("source_path")),
        ("Converter", row.get("converter")),
        ("Queued at", local_time(row.get("created_at"))),
    ]
    if row["state"] == "queued" and row.get("attempts"):
        fields.append(("Next try", local_time(row.get("next_attempt_at"))))
    if row.get("uploaded_at"):
        fields.append(("Uploaded at", local_time(row.get("uploaded_at"))))
    size = f"{int(row.get('payload_size') or 0):,} bytes"
    fields.append(
        ("Content", size + (" (pruned: only the header is kept)" if row.get("pruned") else ""))
    )
    lines = [
        f"{label + ':':<14}{one_line(str(value)) if value is not None else '-'}"
        for label, value in fields
        if not (label == "Last error" and not value)
    ]
    if row["state"] == "rejected":
        lines.append(
            "Fix it with `wats-station queue resubmit "
            f"{str(row['id'])[:SHORT_ID]} --set FIELD=VALUE`, or delete it."
        )
    return lines


def _process(row: dict[str, Any]) -> str:
    code, name = row.get("process_code"), row.get("process_name")
    if code is None and not name:
        return "-"
    return f"{code if code is not None else '?'}{f' ({name})' if name else ''}"


# ------------------------------------------------------------------ retry / resubmit / delete


def run_retry(args: argparse.Namespace) -> int:
    if not args.ids and not args.rejected:
        print("error: name the reports to retry, or give --rejected", file=sys.stderr)
        return int(Exit.USAGE)

    def body(client: BlockingIpcClient) -> int:
        ids = _resolve_all(client, args.ids)
        if args.rejected:
            ids += [i for i in _all_ids(client, "rejected") if i not in ids]
        if not ids:
            print("No rejected reports: nothing to retry.")
            return int(Exit.OK)
        retried = sum(
            int(client.call("queue.retry", {"ids": ids[i : i + PAGE]})["retried"])
            for i in range(0, len(ids), PAGE)
        )
        print(f"{count(retried, 'report')} queued for upload now.")
        if retried < len(ids):
            print(
                f"{count(len(ids) - retried, 'report')} not retried: only queued or rejected "
                "reports can be (uploaded ones are done, uploading ones are on their way)."
            )
            return int(Exit.FAILED)
        return int(Exit.OK)

    return with_worker(args, body)


def _all_ids(client: BlockingIpcClient, state: str) -> list[str]:
    ids: list[str] = []
    while True:
        page = client.call(
            "queue.list", {"state": state, "sort": "created_asc", "offset": len(ids), "limit": PAGE}
        )
        ids += [str(row["id"]) for row in page["rows"]]
        if not page["rows"] or len(ids) >= int(page["total"]):
            return ids


def parse_changes(items: list[str]) -> dict[str, Any]:
    """`--set FIELD=VALUE` options as the changes of queue.resubmit."""
    changes: dict[str, Any] = {}
    for item in items:
        field, sep, value = item.partition("=")
        field = field.strip()
        if not sep or not field:
            raise CommandFailed(f"--set {item!r}: write it as FIELD=VALUE", Exit.USAGE)
        text = value.strip()
        if not text:
            changes[field] = None
        elif field in NUMBER_FIELDS:
            try:
                changes[field] = int(text)
            except ValueError:
                raise CommandFailed(
                    f"--set {field}: {text!r} is not a whole number", Exit.INVALID_INPUT
                ) from None
        else:
            changes[field] = value
    return changes


def run_resubmit(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        changes = parse_changes(args.changes)
        report_id = resolve_id(client, args.id)
        params: dict[str, Any] = {"id": report_id}
        if changes:
            params["changes"] = changes
        client.call("queue.resubmit", params)
        edited = f" with {count(len(changes), 'change')}" if changes else ""
        print(f"Report {report_id} resubmitted{edited}: queued for upload now.")
        return int(Exit.OK)

    return with_worker(args, body)


def run_delete(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        ids = _resolve_all(client, args.ids)
        if not args.yes:
            if not sys.stdin.isatty():
                raise CommandFailed(
                    "deleting reports needs confirmation: add --yes (no terminal to ask on)",
                    Exit.USAGE,
                )
            answer = input(
                f"Delete {count(len(ids), 'report')} from the queue? They will never be "
                "uploaded. [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing deleted.")
                return int(Exit.FAILED)
        reply = client.call("queue.delete", {"ids": ids})
        print(f"Deleted {count(int(reply['deleted']), 'report')}.")
        skipped = int(reply.get("skipped", 0))
        if skipped:
            print(f"{count(skipped, 'report')} not deleted: being uploaded right now (or gone).")
            return int(Exit.FAILED)
        return int(Exit.OK)

    return with_worker(args, body)
