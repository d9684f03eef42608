"""`wats-station service install|uninstall|status`: start the worker with the OS.

Per user (default) the worker starts at login and the tray with it; `--system` starts the
worker at boot as a system service. `--dry-run` prints what would be created and run.

Exit codes: 0 done (status: registered and current); 1 failed (status: not registered,
partly registered or different from what install would write now); 2 wrong arguments;
3 invalid input (instance or user name).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit, usage

if TYPE_CHECKING:
    from app.service.registration import Outcome, Registration, Scope

EPILOG = """\
exit codes:
  0  done; for status: registered and up to date
  1  failed; for status: not registered, partly registered, or stale (e.g. the program moved)
  2  wrong arguments
  3  invalid instance or user name

See docs/service-registration.md for what is created on each OS and how to remove it by hand.
"""


def register(subparsers: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--system",
        action="store_true",
        help="system-wide, at boot (needs root or an administrator) instead of per user",
    )
    common.add_argument(
        "--instance",
        metavar="NAME",
        default="default",
        help='the instance to register (default "default")',
    )
    parser = subparsers.add_parser(
        "service",
        help="start the worker at login or boot (install, uninstall, status)",
        description="Register the worker with the operating system so it starts at login "
        "(per user, with the tray) or at boot (--system).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda _args: usage(parser))
    actions = parser.add_subparsers(dest="service_action", metavar="ACTION")

    install = actions.add_parser(
        "install",
        parents=[common],
        help="register the worker (again: updates it) and start it now",
        description="Register the worker and start it now. Running it again updates the "
        "registration in place (for example after the program moved).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    install.add_argument(
        "--user",
        dest="run_as",
        metavar="NAME",
        help="with --system on Linux or macOS: the account the worker runs as "
        "(default: the user who ran sudo, else the current user)",
    )
    install.add_argument("--dry-run", action="store_true", help="print what would be done")
    install.set_defaults(handler=_install)

    uninstall = actions.add_parser(
        "uninstall",
        parents=[common],
        help="stop the registered worker and remove the registration",
        description="Stop the registered worker and remove everything install created. "
        "Config, queue and logs are kept.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    uninstall.add_argument("--dry-run", action="store_true", help="print what would be done")
    uninstall.set_defaults(handler=_uninstall)

    status = actions.add_parser(
        "status",
        parents=[common],
        help="show the registration and whether the worker runs",
        description="Show what is registered, whether it runs this program, what the service "
        "manager says and whether the worker answers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--json", action="store_true", help="print JSON for scripts and the GUI")
    status.set_defaults(handler=_status)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def _handler(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Plain-words messages and exit codes for everything registration can raise."""

    def wrapped(args: argparse.Namespace) -> int:
        from app.service.registration import InvalidRegistrationInput, RegistrationError

        try:
            return run(args)
        except InvalidRegistrationInput as exc:
            _error(str(exc))
            return int(Exit.INVALID_INPUT)
        except RegistrationError as exc:
            _error(str(exc))
            return int(Exit.FAILED)
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            _error(f"{exc.strerror or exc}{where}")
            return int(Exit.FAILED)

    return wrapped


def _registration(args: argparse.Namespace) -> Registration:
    from app.service.registration import plan, resolve_target

    scope: Scope = "system" if args.system else "user"
    target = resolve_target(args.instance, scope, run_as=getattr(args, "run_as", None))
    return plan(target)


def _carry_out(
    args: argparse.Namespace,
    act: Callable[[Registration], Outcome],
    describe: Callable[[Registration], list[str]],
    done: str,
) -> int:
    """Install or uninstall (or with --dry-run only say what would happen), then report."""
    registration = _registration(args)
    if args.dry_run:
        print("\n".join(describe(registration)))
        return int(Exit.OK)
    outcome = act(registration)
    for line in outcome.done:
        print(line)
    for line in outcome.notes:
        print(f"note: {line}")
    for line in outcome.errors:
        _error(line)
    if outcome.errors:
        return int(Exit.FAILED)
    print(f"{done} ({registration.title})")
    return int(Exit.OK)


@_handler
def _install(args: argparse.Namespace) -> int:
    from app.service.registration import install
    from app.service.registration.describe import describe_install

    return _carry_out(args, install, describe_install, "registered the WATS Station worker")


@_handler
def _uninstall(args: argparse.Namespace) -> int:
    from app.service.registration import uninstall
    from app.service.registration.describe import describe_uninstall

    return _carry_out(
        args, uninstall, describe_uninstall, "removed the WATS Station worker registration"
    )


@_handler
def _status(args: argparse.Namespace) -> int:
    from app.service.registration import status
    from app.service.registration.describe import describe_status, status_as_dict

    state = status(_registration(args))
    if args.json:
        print(json.dumps(status_as_dict(state), indent=2))
    else:
        print("\n".join(describe_status(state)))
    return int(Exit.OK if state.current else Exit.FAILED)
