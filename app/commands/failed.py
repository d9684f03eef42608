"""`wats-station failed list|retry`: source files that could not be converted.

Such a file sits in its converter's Error folder beside a `<name>.error.txt` note. `retry`
puts it back into the watch folder (after the converter or its settings were fixed) so the
worker converts it again. A file is named by the short id `failed list` shows, its file
name, its path, or its full key.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
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

SHORT_ID = 8


def register(subparsers: Any) -> None:
    parent = instance_parent()
    parser = subparsers.add_parser(
        "failed",
        parents=[parent],
        help="list or retry files that could not be converted",
        description="Source files that could not be converted and wait in an Error folder.",
        epilog=NO_WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda _args: usage(parser))
    actions = parser.add_subparsers(dest="failed_action", metavar="ACTION")

    list_ = actions.add_parser(
        "list",
        parents=[parent],
        help="list the failed files and why they failed",
        description="List the files that could not be converted, newest first.",
        epilog=NO_WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    list_.add_argument("--json", action="store_true", help="print the list as JSON")
    list_.set_defaults(handler=run_list)

    retry = actions.add_parser(
        "retry",
        parents=[parent],
        help="move failed files back to be converted again",
        description="Move failed files from the Error folder back to their watch folder, so "
        "the worker converts them again. Name them by the ID `failed list` shows, the file "
        "name or path, or use --all.",
        epilog=NO_WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    retry.add_argument("files", metavar="ID|FILE", nargs="*")
    retry.add_argument("--all", action="store_true", help="every failed file")
    retry.set_defaults(handler=run_retry)


def short_id(item: dict[str, Any]) -> str:
    return str(item.get("sha256") or item["key"])[:SHORT_ID]


def run_list(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        failed = client.call("files.failed")
        if args.json:
            print(json.dumps(failed, indent=2, ensure_ascii=False))
            return int(Exit.OK)
        print("\n".join(render_list(failed)))
        return int(Exit.OK)

    return with_worker(args, body)


def render_list(failed: list[dict[str, Any]]) -> list[str]:
    if not failed:
        return ["No failed files."]
    lines = table(
        ["ID", "CONVERTER", "FAILED", "FILE", "REASON"],
        [
            [
                short_id(item),
                str(item["converter"]),
                local_time(item.get("failed_at"), seconds=False),
                Path(str(item.get("error_file") or item["path"])).name
                + ("" if item.get("error_file") else " (not in the Error folder)"),
                one_line(item.get("error")),
            ]
            for item in failed
        ],
    )
    lines.append(
        f"{count(len(failed), 'failed file')}. Fix the cause, then "
        "`wats-station failed retry ID` (or --all) to convert again."
    )
    return lines


def resolve(failed: list[dict[str, Any]], text: str) -> dict[str, Any]:
    """The failed file named by `text`: its key, id (sha256 prefix), file name or path."""
    wanted = text.strip()
    for matcher in (
        lambda item: item["key"] == wanted,
        lambda item: wanted in (item["path"], item.get("error_file")),
        lambda item: len(wanted) >= 4 and str(item.get("sha256", "")).startswith(wanted.lower()),
        lambda item: wanted in (Path(item["path"]).name, Path(str(item.get("error_file"))).name),
    ):
        found = [item for item in failed if matcher(item)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise CommandFailed(
                f"{text!r} names {len(found)} failed files; use the ID from `failed list`",
                Exit.INVALID_INPUT,
            )
    raise CommandFailed(f"no failed file matches {text!r} (see `failed list`)", Exit.INVALID_INPUT)


def run_retry(args: argparse.Namespace) -> int:
    if not args.files and not args.all:
        print("error: name the files to retry, or give --all", file=sys.stderr)
        return int(Exit.USAGE)

    def body(client: BlockingIpcClient) -> int:
        failed = client.call("files.failed", {"limit": 10_000})
        chosen = failed if args.all else [resolve(failed, text) for text in args.files]
        keys = list(dict.fromkeys(item["key"] for item in chosen))
        if not keys:
            print("No failed files: nothing to retry.")
            return int(Exit.OK)
        reply = client.call("files.retry", {"keys": keys})
        retried = int(reply["retried"])
        print(f"{count(retried, 'file')} moved back to be converted again.")
        by_key = {item["key"]: item for item in chosen}
        problems = reply.get("problems") or []
        for problem in problems:
            item = by_key.get(problem["key"])
            name = Path(item["path"]).name if item else problem["key"]
            print(f"error: {name}: {problem['message']}", file=sys.stderr)
        return int(Exit.FAILED if problems else Exit.OK)

    return with_worker(args, body)
