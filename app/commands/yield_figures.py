"""`wats-station yield`: the yield dashboard's figures as text (or JSON), from the worker.

The worker computes them (`yield.query`), so the command shows exactly what the dashboard
shows: KPIs with their targets, a breakdown, the trend and the failing steps.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit
from app.commands.worker_client import (
    NO_WORKER_EPILOG,
    CommandFailed,
    error,
    instance_parent,
    with_worker,
)
from app.commands.worker_output import table
from app.core.yield_engine import GROUP_BY, GROUP_TITLES
from app.core.yield_periods import PERIOD_HELP, PeriodError, parse_period
from app.core.yield_text import ascii_label, number, percent, rate, status_note

if TYPE_CHECKING:
    from app.ipc.blocking import BlockingIpcClient

PARETO_ROWS = 10
FILTERS = ("process", "pn", "rev", "station", "fixture", "operator")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "yield",
        parents=[instance_parent()],
        help="show first-pass yield, volumes and failing steps",
        description="Show the yield dashboard's figures: FPY/SPY/TPY/LPY, report yield, "
        "volume, units per hour, a breakdown, the hourly trend and the failing steps, "
        "computed by the worker from the reports this station converted.",
        epilog=f"periods: {PERIOD_HELP}\n\n{NO_WORKER_EPILOG}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--period", default="shift", help="shift (default), today, last:N, hours:H or FROM..TO"
    )
    parser.add_argument(
        "--by",
        default="process",
        help=f"break down by one or more of {', '.join(GROUP_BY)} (comma separated; "
        "default process; none for no breakdown)",
    )
    for name, what in (
        ("process", "process code or name"),
        ("pn", "part number"),
        ("rev", "revision"),
        ("station", "station name"),
        ("fixture", "fixture id"),
        ("operator", "operator"),
    ):
        parser.add_argument(
            f"--{name}",
            action="append",
            default=[],
            metavar="VALUE",
            # argparse formats help with %: "%%" shows one.
            help=f"only units whose first test had this {what} (repeatable; "
            "%% and _ are wildcards)",
        )
    parser.add_argument(
        "--server", action="store_true", help="also show the WATS server's figures (online)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(handler=run)


def _params(args: argparse.Namespace) -> dict[str, Any]:
    try:
        parse_period(args.period)
    except PeriodError as exc:
        raise CommandFailed(str(exc), Exit.USAGE) from None
    by = [part.strip() for part in args.by.split(",") if part.strip()]
    if by == ["none"]:
        by = []
    unknown = [part for part in by if part not in GROUP_BY]
    if unknown:
        raise CommandFailed(
            f"--by {', '.join(unknown)}: use {', '.join(GROUP_BY)} or none", Exit.USAGE
        )
    params: dict[str, Any] = {"period": args.period, "by": by}
    for name in FILTERS:
        values = getattr(args, name)
        if values:
            params[name] = values
    return params


def run(args: argparse.Namespace) -> int:
    try:
        params = _params(args)
    except CommandFailed as exc:
        error(str(exc))
        return int(exc.code)

    def body(client: BlockingIpcClient) -> int:
        figures = client.call("yield.query", params)
        server: dict[str, Any] | None = None
        server_error = ""
        if args.server:
            from app.ipc.protocol import IpcError

            try:
                server = client.call("yield.server", params)
            except IpcError as exc:
                server_error = exc.message
        if args.json:
            document = dict(figures)
            if args.server:
                document["server"] = server if server is not None else {"error": server_error}
            print(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            lines = render(figures)
            if args.server:
                lines += ["", *render_server(server, server_error)]
            print("\n".join(lines))
        return int(Exit.OK)

    return with_worker(args, body, timeout=60.0)


# ---------------------------------------------------------------- text


def _clock(epoch: float | None, pattern: str = "%H:%M") -> str:
    return "-" if epoch is None else time.strftime(pattern, time.localtime(epoch))


def render(figures: Mapping[str, Any]) -> list[str]:
    """The dashboard as lines of ASCII text."""
    period = figures["period"]
    total = figures["total"]
    lines = [
        f"Yield - {ascii_label(period['label'])} - as of "
        f"{_clock(figures['as_of'], '%Y-%m-%d %H:%M:%S')}",
    ]
    shown_filter = "; ".join(f"{k} {', '.join(v)}" for k, v in figures["filter"].items())
    if shown_filter:
        lines.append(f"Only: {shown_filter}")
    lines.append("")
    kpis = [
        ("FPY", percent(total["fpy"]), status_note(total, "fpy")),
        ("Report yield", percent(total["report_yield"]), status_note(total, "report_yield")),
        ("Units", number(total["units"]), _volume_note(total)),
        ("Units/hour", rate(total["units_per_hour"]), status_note(total, "units_per_hour")),
    ]
    for label, value, note in kpis:
        lines.append(f"  {label:<14}{value:>9}   {note.upper() if _bad(note) else note}".rstrip())
    lines.append(
        f"  SPY {percent(total['spy'])}   TPY {percent(total['tpy'])}   LPY {percent(total['lpy'])}"
    )
    groups = figures["groups"]
    if groups:
        title = " / ".join(GROUP_TITLES[b] for b in figures["by"])
        lines += ["", *_group_table(title, groups)]
    points = [p for p in figures["trend"]["points"] if p["units"] or p["reports"]]
    if points:
        hourly = figures["trend"]["bucket_s"] <= 3600
        lines += ["", "Trend (by the hour)" if hourly else "Trend (by day)"]
        rows = [
            [
                _clock(p["start"], "%H:%M" if hourly else "%Y-%m-%d"),
                number(p["units"]),
                percent(p["fpy"]),
                number(p["reports"]),
            ]
            for p in points
        ]
        lines += ["  " + line for line in table(["From", "Units", "FPY", "Reports"], rows)]
    pareto = figures["pareto"]["by_name"][:PARETO_ROWS]
    if pareto:
        lines += ["", f"Failing steps ({number(figures['pareto']['failed_runs'])} failed reports)"]
        rows = [
            [
                ascii_label(r["step"]),
                number(r["count"]),
                percent(r["share"]),
                percent(r["cumulative"]),
            ]
            for r in pareto
        ]
        lines += ["  " + line for line in table(["Step", "Failures", "Share", "Cumulative"], rows)]
    alarms = figures.get("alarms") or []
    if alarms:
        lines += ["", "Yield alarms"]
        lines += [f"  {a['level'].upper():<8}{ascii_label(a['message'])}" for a in alarms]
    if not total["units"]:
        lines += ["", "No units were tested in this period."]
    return lines


def _bad(note: str) -> bool:
    return note.startswith("below")


def _volume_note(total: Mapping[str, Any]) -> str:
    reports = total["reports"]
    if not reports:
        return ""
    return (
        f"{number(reports)} reports, {number(total['retests'])} retests "
        f"({number(total['retested_units'])} units tested again)"
    )


def _group_table(title: str, groups: Sequence[Mapping[str, Any]]) -> list[str]:
    headers = [title, "Units", "FPY", "SPY", "TPY", "LPY", "Reports", "Report yield"]
    rows = []
    for g in groups:
        flag = " !" if (g.get("status") or {}).get("fpy") in ("warning", "alarm") else ""
        rows.append(
            [
                ascii_label(g["label"]),
                number(g["units"]),
                percent(g["fpy"]) + flag,
                percent(g["spy"]),
                percent(g["tpy"]),
                percent(g["lpy"]),
                number(g["reports"]),
                percent(g["report_yield"]),
            ]
        )
    return ["  " + line for line in table(headers, rows)]


def render_server(server: Mapping[str, Any] | None, error: str) -> list[str]:
    """The server's figures (DynamicYield), labelled as such."""
    if server is None:
        return [f"Server figures: not available ({error})"]
    total = server["total"]
    lines = [
        f"Server figures (WATS DynamicYield, all stations) - as of "
        f"{_clock(server['as_of'], '%Y-%m-%d %H:%M:%S')}",
        f"  FPY {percent(total['fpy'])}   Report yield {percent(total['report_yield'])}   "
        f"Units {number(total['units'])}",
    ]
    if server.get("ignored_filters"):
        lines.append(f"  (the server cannot filter by {', '.join(server['ignored_filters'])})")
    if server["groups"]:
        title = " / ".join(GROUP_TITLES[b] for b in server["by"])
        lines += _group_table(title, server["groups"])
    return lines
