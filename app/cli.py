"""Command-line entry: builds the argument parser from app.commands.* and dispatches.

Each command module exposes `register(subparsers)` which adds its sub-command(s) and sets
`handler=` (a callable taking the parsed namespace and returning an exit code). Command
modules import heavy dependencies inside their handlers so `--help` and `--version` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from app import __version__
from app.commands.exitcodes import EPILOG, Exit

# The order here is the order in `--help`.
COMMAND_MODULES: tuple[str, ...] = (
    "app.commands.demo",
    "app.commands.upload",
    "app.commands.convert",
    "app.commands.server",
    "app.commands.status",
    "app.commands.queue",
    "app.commands.failed",
    "app.commands.control",
    "app.commands.logs",
    "app.commands.yield_figures",
    "app.commands.config",
    "app.commands.service",
    "app.commands.devserver",
    "app.commands.selftest",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wats-station",
        description="WATS Station: converts tester result files to WATS reports and uploads them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"wats-station {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return int(Exit.USAGE)
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
