"""The one entry point of the executable.

- `wats-station --service [--instance NAME]` is the background worker (DESIGN.md §1);
- `wats-station --windows-service` is the Windows service that runs that worker;
- `wats-station [--instance NAME] [--minimized]` (no command) is the desktop GUI;
- `wats-station COMMAND ...` is the command line.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from collections.abc import Sequence


def _service_args(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="wats-station --service",
        description="Run the WATS Station worker: watch folders, convert, queue and upload.",
    )
    parser.add_argument("--service", action="store_true", required=True)
    parser.add_argument("--instance", default="default", help="station instance (default: default)")
    return parser.parse_args(args)


def _gui_args(args: list[str]) -> argparse.Namespace | None:
    """The GUI's arguments when no command is given (only --instance and --minimized)."""
    rest = list(args)
    while rest:
        token = rest.pop(0)
        if token == "--instance" and rest:
            rest.pop(0)
        elif token != "--minimized" and not token.startswith("--instance="):
            return None
    parser = argparse.ArgumentParser(prog="wats-station")
    parser.add_argument("--instance", default="default")
    parser.add_argument("--minimized", action="store_true")
    return parser.parse_args(args)


def main(argv: Sequence[str] | None = None) -> int:
    # Converter children are started with 'spawn'; a frozen executable must recognise them.
    multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    if "--windows-service" in args:
        # Started by the Windows service manager (`wats-station service install --system`).
        from app.service.windows_service import main as windows_service_main

        return windows_service_main(args)
    if "--service" in args:
        from app.core.paths import InstanceNameError
        from app.service.main import run_service

        ns = _service_args(args)
        try:
            return run_service(ns.instance)
        except InstanceNameError as exc:
            print(f"wats-station: {exc}", file=sys.stderr)
            return 2
    gui = _gui_args(args)
    if gui is not None:
        from app.core.paths import InstanceNameError, validate_instance_name

        try:
            validate_instance_name(gui.instance)
        except InstanceNameError as exc:
            print(f"wats-station: {exc}", file=sys.stderr)
            return 2
        from app.gui.app import run_gui

        return run_gui(gui.instance, minimized=gui.minimized)
    from app.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
