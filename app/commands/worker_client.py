"""What the commands that talk to the running worker share: the `--instance` option, one
connection per command, and turning every IPC failure into plain words and an exit code.

The CLI never imports the worker or Qt (on Linux and macOS): it speaks the IPC protocol over
the instance's socket with `app.ipc.blocking.BlockingIpcClient`, so these commands start fast.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.commands.exitcodes import Exit

if TYPE_CHECKING:
    from app.ipc.blocking import BlockingIpcClient

# Long enough for a busy worker on a slow disk, short enough that a hung one is noticed.
CALL_TIMEOUT_S = 30.0

DEFAULT_INSTANCE = "default"

# Which exit code an error reply of the worker becomes.
_EXIT_OF_CODE = {
    "invalid_params": Exit.INVALID_INPUT,
    "not_found": Exit.INVALID_INPUT,
    "conflict": Exit.FAILED,
}

NO_WORKER_EPILOG = """\
exit codes:
  0  success
  1  the worker could not do all of it (the message says why)
  2  wrong arguments
  3  invalid input (a bad value, or no such report or file)
  7  no worker is running for the instance (start it with `wats-station --service`)
"""


class CommandFailed(Exception):
    """Ends a command with `message` on stderr and `code`."""

    def __init__(self, message: str, code: Exit = Exit.FAILED) -> None:
        super().__init__(message)
        self.code = code


def instance_parent() -> argparse.ArgumentParser:
    """A parent parser for `--instance`, usable before and after a sub-command.

    SUPPRESS as default, so `queue --instance X list` and `queue list --instance X` both work
    (the inner parser must not overwrite the outer one's value with its default).
    """
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--instance",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help='the station instance (default "default"); letters, digits, - and _',
    )
    return parent


def instance_of(args: argparse.Namespace) -> str:
    return str(getattr(args, "instance", DEFAULT_INSTANCE))


def not_running_message(instance: str) -> str:
    option = "" if instance == DEFAULT_INSTANCE else f" --instance {instance}"
    return (
        f"The WATS Station worker for instance '{instance}' is not running.\n"
        f"Start it with:              wats-station --service{option}\n"
        f"or have it start at login:  wats-station service install{option}"
    )


def error(message: str) -> None:
    """`error: <first line>`, further lines as they are (hints, commands to run)."""
    first, *rest = message.splitlines() or [""]
    print(f"error: {first}", file=sys.stderr)
    for line in rest:
        print(line, file=sys.stderr)


def with_worker(
    args: argparse.Namespace, body: Callable[[BlockingIpcClient], int], *, timeout: float = 0
) -> int:
    """Connect to the instance's worker and run `body(client)`; every failure becomes a
    message on stderr and an exit code (7 when no worker answers)."""
    from app.core.paths import InstanceNameError
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import ConnectionLost, IpcError, IpcTimeout, WorkerNotRunning

    instance = instance_of(args)
    try:
        client = BlockingIpcClient(instance, timeout=timeout or CALL_TIMEOUT_S)
    except InstanceNameError as exc:
        error(str(exc))
        return int(Exit.USAGE)
    try:
        with client:
            client.connect()
            return body(client)
    except CommandFailed as exc:
        error(str(exc))
        return int(exc.code)
    except WorkerNotRunning:
        error(not_running_message(instance))
        return int(Exit.NO_WORKER)
    except ConnectionLost as exc:
        error(f"{exc} (the worker may be stopping)")
        return int(Exit.NO_WORKER)
    except IpcTimeout as exc:
        error(f"{exc}; the worker may be busy or hung (see `wats-station logs`)")
        return int(Exit.FAILED)
    except IpcError as exc:
        error(exc.message)
        return int(_EXIT_OF_CODE.get(exc.code, Exit.FAILED))
