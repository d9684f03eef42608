"""Export of the dashboard's current view: a CSV a spreadsheet opens as it is.

Sections one after another (figures, breakdown, trend, failing steps, and the server's
figures when shown), each with its own header row. Yields are percentages with two
decimals, times are local ISO times, so the file reads the same as the screen.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Mapping, Sequence
from typing import Any

GROUP_HEADERS = [
    "Group",
    "Units",
    "FPY %",
    "SPY %",
    "TPY %",
    "LPY %",
    "Reports",
    "Report yield %",
    "Retests",
]


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}"


def _when(epoch: float | None) -> str:
    return "" if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch))


def _group_rows(groups: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    return [
        [
            str(g["label"]),
            str(g["units"]),
            _pct(g["fpy"]),
            _pct(g["spy"]),
            _pct(g["tpy"]),
            _pct(g["lpy"]),
            str(g["reports"]),
            _pct(g["report_yield"]),
            str(g.get("retests", "")),
        ]
        for g in groups
    ]


def figures_csv(figures: Mapping[str, Any], server: Mapping[str, Any] | None = None) -> str:
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\n").writerow
    period = figures["period"]
    total = figures["total"]
    write(["WATS Station yield", period["label"]])
    write(["Period start", _when(period["start"])])
    write(["Period end", _when(period["end"])])
    write(["As of", _when(figures["as_of"])])
    for name, values in figures["filter"].items():
        write([f"Filter {name}", "; ".join(values)])
    write([])
    write(["Figure", "Value", "Status"])
    status = total.get("status") or {}
    write(["FPY %", _pct(total["fpy"]), status.get("fpy", "")])
    write(["SPY %", _pct(total["spy"]), ""])
    write(["TPY %", _pct(total["tpy"]), ""])
    write(["LPY %", _pct(total["lpy"]), ""])
    write(["Report yield %", _pct(total["report_yield"]), status.get("report_yield", "")])
    write(["Units", total["units"], ""])
    write(["Reports", total["reports"], ""])
    write(["Retests", total["retests"], ""])
    write(["Units tested again", total["retested_units"], ""])
    rate = total["units_per_hour"]
    write(
        ["Units per hour", "" if rate is None else f"{rate:.2f}", status.get("units_per_hour", "")]
    )
    if figures["groups"]:
        write([])
        write(GROUP_HEADERS)
        for row in _group_rows(figures["groups"]):
            write(row)
    write([])
    write(["Trend from", "Units", "First pass", "FPY %", "Reports", "Passed reports"])
    for p in figures["trend"]["points"]:
        write(
            [
                _when(p["start"]),
                p["units"],
                p["first_pass"],
                _pct(p["fpy"]),
                p["reports"],
                p["passed_reports"],
            ]
        )
    write([])
    write(["Failing step", "Path", "Failures", "Share %", "Cumulative %"])
    for r in figures["pareto"]["by_path"]:
        write([r["step"], r["path"] or "", r["count"], _pct(r["share"]), _pct(r["cumulative"])])
    if server is not None:
        write([])
        write(["Server data (WATS DynamicYield, all stations)", "As of", _when(server["as_of"])])
        write(["FPY %", _pct(server["total"]["fpy"])])
        write(["Units", server["total"]["units"]])
        write(GROUP_HEADERS)
        for row in _group_rows(server["groups"]):
            write(row)
    return out.getvalue()
