"""`wats-station server check`: is this station able to talk to the WATS server, and if not, why.

One line per step (reachable, TLS, auth, server version, clock) with an ASCII marker, so the
output reads the same in any console and in a support e-mail.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.commands.exitcodes import EPILOG, Exit

MARKERS = {"ok": "[ok]", "warn": "[warn]", "fail": "[FAIL]", "skip": "[skip]"}


def register(subparsers: Any) -> None:
    server = subparsers.add_parser(
        "server",
        help="check the connection to a WATS server",
        description="Commands about the WATS server this station uploads to.",
    )
    actions = server.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="check reachability, TLS, token, server version and clock",
        description=(
            "Check step by step that this station can use a WATS server: the host is "
            "reachable (DNS and TCP), its TLS certificate is trusted, the token is accepted, "
            "the server's version, and that this station's clock agrees with the server's."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument(
        "--server",
        metavar="URL",
        help="WATS server URL, e.g. https://acme.wats.com (default: the configured server)",
    )
    check.add_argument(
        "--token",
        metavar="T",
        help="API token (the Basic value); default: WATS_STATION_TOKEN, then the token stored "
        "for the instance",
    )
    check.add_argument(
        "--proxy",
        metavar="URL",
        help="HTTP proxy, e.g. http://user:password@proxy:3128; default: the system's setting",
    )
    tls = check.add_mutually_exclusive_group()
    tls.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the server's TLS certificate (unsafe: for a first test only)",
    )
    tls.add_argument(
        "--ca-bundle",
        metavar="FILE",
        help="trust the CAs in this PEM file instead of the operating system's store",
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to wait for a connection and for each answer (default: 10)",
    )
    check.add_argument("--instance", default="default", help="station instance (default: default)")
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    import asyncio

    from app.commands.server_target import resolve_target
    from app.wats import (
        AuthenticationError,
        TlsError,
        TransientError,
        check_server,
        normalize_base_url,
    )

    if args.timeout <= 0:
        print("wats-station server check: --timeout must be more than 0", file=sys.stderr)
        return int(Exit.USAGE)
    # Without --server: the station's own server, token, proxy and TLS settings.
    target = resolve_target(args)
    if isinstance(target, int):
        return target
    verify = args.ca_bundle or target.verify
    try:
        print(f"checking the WATS server at {normalize_base_url(target.url)}")
        results = asyncio.run(
            check_server(
                target.url,
                target.token,
                proxy=target.proxy,
                verify=verify,
                connect_timeout=args.timeout,
                get_timeout=args.timeout,
            )
        )
    except ValueError as exc:
        print(f"wats-station server check: {exc}", file=sys.stderr)
        return int(Exit.USAGE)

    width = max(map(len, MARKERS.values()))
    for result in results:
        print(f"{MARKERS[result.outcome]:<{width}} {result.name}: {result.detail}")

    failure = next((result for result in results if result.outcome == "fail"), None)
    if failure is None:
        warnings = sum(result.outcome == "warn" for result in results)
        note = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        print(f"this station can use the WATS server{note}")
        return int(Exit.OK)
    error = failure.error
    print(str(error) if error is not None else f"{failure.name}: {failure.detail}")
    if isinstance(error, AuthenticationError):
        return int(Exit.AUTH)
    if isinstance(error, TransientError | TlsError):
        return int(Exit.UNREACHABLE)
    return int(Exit.FAILED)
