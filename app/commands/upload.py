"""`wats-station upload FILE...`: validate WSJF files and submit them to a WATS server as they are.

A finished WSJF report's statuses are never recomputed here. Every file is read and validated
before anything is sent, so a bad file in the list means nothing is sent at all.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.commands.exitcodes import EPILOG, Exit
from app.commands.server_target import add_target_arguments, resolve_target


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "upload",
        help="validate WSJF report files and submit them to a WATS server",
        description=(
            "Validate WSJF (WATS Standard JSON Format) report files and submit each to the "
            "WATS server as it is (statuses are not recomputed). Prints the server's id for "
            "every file. Nothing is sent if any file is invalid."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="WSJF report file")
    add_target_arguments(parser)
    parser.add_argument(
        "--validation",
        choices=("reject", "truncate"),
        default="reject",
        help="over-long text: refuse the file (default) or truncate to the server's limits",
    )
    parser.set_defaults(handler=run)


@dataclass
class _Prepared:
    path: Path
    payloads: list[tuple[str, bytes]]  # (report id, WSJF JSON)


def _prepare(path: Path, validation: str) -> _Prepared:
    """Read, parse and validate one file; raise ValueError with a plain-words reason."""
    from app.converters.base import ConversionError, ConverterParameters, ConverterSource
    from app.converters.wsjf import WsjfConverter
    from app.core.report import ReportError
    from app.core.report_ids import is_missing_id
    from app.core.text_limits import enforce_limits

    try:
        stream = path.open("rb")
    except OSError as exc:
        raise ValueError(f"cannot read the file: {exc.strerror or exc}") from exc
    with stream:
        source = ConverterSource(path, stream, ConverterParameters())
        try:
            reports = WsjfConverter().convert(source)
        except ConversionError as exc:
            raise ValueError(str(exc)) from exc
    payloads: list[tuple[str, bytes]] = []
    for parsed in reports:
        if is_missing_id(parsed.id):
            raise ValueError("the report has no id; give it a UUID before uploading it")
        try:
            report = enforce_limits(parsed, validation)  # type: ignore[arg-type]
        except ReportError as exc:
            raise ValueError(str(exc)) from exc
        payloads.append((str(report.id), report.to_json()))
    return _Prepared(path, payloads)


def run(args: argparse.Namespace) -> int:
    prepared: list[_Prepared] = []
    invalid = False
    for path in args.files:
        try:
            prepared.append(_prepare(path, args.validation))
        except ValueError as exc:
            print(f"{path}: invalid: {exc}", file=sys.stderr)
            invalid = True
    if invalid:
        print("nothing was sent: fix the files above and run again", file=sys.stderr)
        return int(Exit.INVALID_INPUT)
    target = resolve_target(args)
    if isinstance(target, int):
        return target
    return asyncio.run(_submit_all(prepared, target))


async def _submit_all(prepared: list[_Prepared], target: Any) -> int:
    from app.wats import (
        AuthenticationError,
        RejectedError,
        WatsClient,
        WatsError,
    )

    worst = Exit.OK
    async with WatsClient(
        target.url, target.token, proxy=target.proxy, verify=target.verify
    ) as client:
        for item in prepared:
            for report_id, payload in item.payloads:
                try:
                    result = await client.submit_wsjf(payload)
                except AuthenticationError as exc:
                    print(f"{item.path}: not sent: {exc}", file=sys.stderr)
                    return int(Exit.AUTH)
                except RejectedError as exc:
                    print(
                        f"{item.path}: rejected by the server: {exc.server_message}",
                        file=sys.stderr,
                    )
                    worst = Exit.REJECTED
                    continue
                except WatsError as exc:
                    print(f"{item.path}: not sent: {exc}", file=sys.stderr)
                    return int(Exit.UNREACHABLE)
                print(f"{item.path}: accepted, id {result.id}")
                if result.id.lower() != report_id.lower():
                    worst = Exit.FAILED
    return int(worst)
