"""`wats-station logs [-n N] [--level L] [-f]`: the worker's recent log lines, and new ones.

The lines come from the worker itself (the same ring buffer the GUI's log page shows), so
this works without knowing where the log files are. Secrets never appear: the worker
redacts them before a line is stored.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit
from app.commands.worker_client import NO_WORKER_EPILOG, instance_parent, with_worker

if TYPE_CHECKING:
    from app.ipc.blocking import BlockingIpcClient

LEVELS = ("debug", "info", "warning", "error", "critical")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "logs",
        parents=[instance_parent()],
        help="show the worker's log",
        description="Show the worker's most recent log lines; with -f, keep printing new "
        "ones until Ctrl+C or until the worker stops.",
        epilog=NO_WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-n", "--lines", type=int, default=50, metavar="N", help="how many lines (default 50)"
    )
    parser.add_argument("--level", choices=LEVELS, help="only lines at this level or above")
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    parser.set_defaults(handler=run)


def format_entry(entry: dict[str, Any]) -> str:
    when = entry.get("time")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when)) if when else "-"
    level = str(entry.get("level", ""))
    return f"{stamp} {level:<8} {entry.get('logger', '')}: {entry.get('message', '')}"


def _key(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (entry.get("time"), entry.get("logger"), entry.get("message"))


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.lines <= 5000:
        print("error: --lines must be between 1 and 5000", file=sys.stderr)
        return int(Exit.USAGE)
    minimum = logging.getLevelName(args.level.upper()) if args.level else 0

    def body(client: BlockingIpcClient) -> int:
        from app.ipc.protocol import ConnectionLost

        params: dict[str, Any] = {"lines": args.lines}
        if args.level:
            params["level"] = args.level
        if not args.follow:
            for entry in client.call("logs.tail", params):
                print(format_entry(entry))
            return int(Exit.OK)
        # Subscribe before asking for the tail, so no line falls between the two; a line
        # that is in both is printed once.
        events = client.iter_events(["log"])
        tail = client.call("logs.tail", params)
        for entry in tail:
            print(format_entry(entry), flush=True)
        seen = {_key(entry) for entry in tail}
        try:
            for _topic, entry in events:
                if _key(entry) in seen:
                    seen.discard(_key(entry))
                    continue
                if logging.getLevelName(str(entry.get("level", "")).upper()) >= minimum:
                    print(format_entry(entry), flush=True)
        except ConnectionLost:
            print("-- the worker stopped --", flush=True)
        return int(Exit.OK)

    return with_worker(args, body)
