"""`wats-station devserver`: run the local WATS server until Ctrl+C (DESIGN.md §9).

The first line on stdout is exactly `WATS local server listening on http://HOST:PORT`, so
scripts and tests can read the URL (with `--port 0` the system picks a free port); the second
gives the token. aiohttp is imported inside the handler so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

from app.commands.exitcodes import EPILOG, Exit

DEFAULT_PORT = 8080


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "devserver",
        help="run a local WATS server for trying the app, converter checks and tests",
        description=(
            "Run a small WATS-compatible server on this machine: the station endpoints, Basic "
            "auth, upsert by report id, header queries and yield, with faults on demand. "
            "Data lives in memory only. Stop it with Ctrl+C. See docs/devserver.md."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (8080; 0 picks a free one)"
    )
    parser.add_argument(
        "--token",
        default=None,
        help='Basic token to accept (default: base64 of "station:wats")',
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host that other machines can reach (off: loopback only)",
    )
    parser.add_argument(
        "--seed-processes",
        type=Path,
        metavar="FILE",
        help='process list JSON ({"processes": [...]} or an array); default: the bundled list',
    )
    parser.add_argument(
        "--accept-unknown-process",
        action="store_true",
        help="accept reports whose processCode is not in the process list",
    )
    parser.add_argument(
        "--clock-skew-s",
        type=float,
        default=0.0,
        metavar="S",
        help="shift the server time in Ping replies by S seconds (test clock warnings)",
    )
    faults = parser.add_argument_group("faults (also changeable at runtime: POST /_dev/faults)")
    faults.add_argument(
        "--fail-rate", type=float, default=0.0, metavar="R", help="share 0..1 of calls that get 5xx"
    )
    faults.add_argument(
        "--fail-status", type=int, default=500, metavar="CODE", help="the 5xx status (500)"
    )
    faults.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="answer 429 with Retry-After beyond N calls per second",
    )
    faults.add_argument(
        "--throttle-retry-after",
        type=int,
        default=None,
        metavar="S",
        help="Retry-After seconds of 429s; without --rate-limit every call gets 429",
    )
    faults.add_argument(
        "--latency-ms", type=float, default=0.0, metavar="MS", help="delay every reply by MS"
    )
    faults.add_argument(
        "--drop-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="share 0..1 of calls whose connection is closed without a reply",
    )
    faults.add_argument(
        "--drop-after-handling",
        action="store_true",
        help="dropped calls are handled first (the report is stored, only the reply is lost)",
    )
    faults.add_argument(
        "--outage",
        nargs="?",
        const="503",
        choices=("503", "drop"),
        default=None,
        help="every /api call fails: 503 (default) or drop (close the connection)",
    )
    faults.add_argument(
        "--fault-seed", type=int, default=None, metavar="N", help="seed for repeatable faults"
    )
    parser.set_defaults(handler=run)


def _fault_settings(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "fail_rate": args.fail_rate,
        "fail_status": args.fail_status,
        "rate_limit": args.rate_limit,
        "throttle_retry_after": args.throttle_retry_after,
        "latency_ms": args.latency_ms,
        "drop_rate": args.drop_rate,
        "drop_after_handling": args.drop_after_handling,
        "outage": args.outage,
    }


def run(args: argparse.Namespace) -> int:
    from app.devserver import DEFAULT_TOKEN, DevServer
    from app.devserver.loopback import is_loopback_host
    from app.devserver.processes import load_process_file

    if not args.allow_remote and not is_loopback_host(args.host):
        print(
            f"devserver: {args.host} is reachable from other machines; the local server has "
            "no TLS and a known default token, so it listens on loopback only. Use "
            "--allow-remote to listen there anyway.",
            file=sys.stderr,
        )
        return int(Exit.USAGE)
    if not 0 <= args.port <= 65535:
        print(f"devserver: --port must be 0..65535, got {args.port}", file=sys.stderr)
        return int(Exit.USAGE)
    processes = None
    if args.seed_processes is not None:
        try:
            processes = load_process_file(args.seed_processes)
        except ValueError as exc:
            print(f"devserver: {exc}", file=sys.stderr)
            return int(Exit.INVALID_INPUT)
    try:
        server = DevServer(
            args.host,
            args.port,
            args.token or DEFAULT_TOKEN,
            faults=_fault_settings(args),
            processes=processes,
            accept_unknown_process=args.accept_unknown_process,
            clock_skew_s=args.clock_skew_s,
            fault_seed=args.fault_seed,
        )
    except ValueError as exc:
        print(f"devserver: {exc}", file=sys.stderr)
        return int(Exit.USAGE)
    return asyncio.run(_serve(server))


async def _serve(server: Any) -> int:
    try:
        url = await server.start()
    except OSError as exc:
        print(
            f"devserver: cannot listen on {server.host}:{server.port}: {exc.strerror or exc}. "
            "Is another server using that port? Try --port 0.",
            file=sys.stderr,
        )
        return int(Exit.FAILED)
    print(f"WATS local server listening on {url}", flush=True)
    print(f"Token: {server.token}  (send it as: Authorization: Basic {server.token})", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    stop = asyncio.Event()
    _on_stop_signals(stop)
    try:
        await stop.wait()
    finally:
        await server.stop()
    print("devserver: stopped", file=sys.stderr, flush=True)
    return int(Exit.OK)


def _on_stop_signals(stop: asyncio.Event) -> None:
    """Set `stop` on SIGINT or SIGTERM (Ctrl+C, or a parent process terminating us)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            # Windows' event loops have no add_signal_handler; a plain handler works there.
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
