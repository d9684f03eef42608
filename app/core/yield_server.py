"""The dashboard's server view: the same figures asked of the WATS server's DynamicYield.

Builds the PublicWatsFilter body and `dimensions` (wats-api.md §2.5) for a local query —
the same time span, the station's own products and processes (or the filter's), grouped
the same way — and reads the server's rows back into the local figure names, so the
dashboard can put the two side by side.

Differences the dashboard states: the server counts every station's reports (that is the
point: line-level figures), PublicWatsFilter has no fixture or operator filter, and
DynamicYield is a PREVIEW endpoint whose yields may come as fractions or percentages
(a value above 1 is read as a percentage).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from app.core.yield_engine import GroupBy, YieldFilter

# Local grouping → DynamicYield dimensions. A unit's group is its first run's, as locally.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "process": ("processCode", "testOperation"),
    "pn": ("partNumber",),
    "pn_rev": ("partNumber", "revision"),
    "station": ("stationName",),
    "fixture": ("fixtureId",),
    "operator": ("operator",),
}
# Server row field → local key name.
KEY_NAMES = {
    "processCode": "process_code",
    "testOperation": "process_name",
    "partNumber": "pn",
    "revision": "rev",
    "stationName": "station",
    "fixtureId": "fixture",
    "operator": "operator",
}
UNFILTERABLE = ("fixture", "operator")
TOP_COUNT = 500


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def server_request(
    *,
    start: float | None,
    end: float | None,
    flt: YieldFilter,
    by: Sequence[GroupBy],
    pns: Iterable[str],
    processes: Iterable[str],
) -> tuple[dict[str, Any], str]:
    """The DynamicYield body and dimensions for a local query.

    `pns` and `processes` are the station's own (from the local figures of the same
    period); a filter the user set wins over them.
    """
    body: dict[str, Any] = {"topCount": TOP_COUNT}
    if start is not None:
        body["dateFrom"] = _iso(start)
    if end is not None:
        body["dateTo"] = _iso(end)
    pn_text = ";".join(flt.pn) or ";".join(sorted(set(pns)))
    if pn_text:
        body["partNumber"] = pn_text
    process_text = ";".join(flt.process) or ";".join(sorted(set(processes)))
    if process_text:
        body["testOperation"] = process_text
    if flt.rev:
        body["revision"] = ";".join(flt.rev)
    if flt.station:
        body["stationName"] = ";".join(flt.station)
    dims: list[str] = []
    for group in by:
        for dim in DIMENSIONS[group]:
            if dim not in dims:
                dims.append(dim)
    dims.append("unitCount desc")
    return body, ";".join(dims)


def _fraction(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number / 100 if number > 1 else number


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def server_rows(rows: Iterable[Mapping[str, Any]], by: Sequence[GroupBy]) -> dict[str, Any]:
    """The server's rows as local-style groups and a total summed from their counts."""
    groups: list[dict[str, Any]] = []
    sums = {"units": 0, "first_pass": 0, "second_pass": 0, "third_pass": 0, "last_pass": 0}
    sums.update({"reports": 0, "passed_reports": 0, "retests": 0})
    for row in rows:
        key: dict[str, Any] = {}
        labels: list[str] = []
        for group in by:
            parts = [row.get(dim) for dim in DIMENSIONS[group]]
            for dim, value in zip(DIMENSIONS[group], parts, strict=True):
                key[KEY_NAMES[dim]] = value
            shown = [str(p) for p in parts if p not in (None, "")]
            labels.append(" ".join(shown) if shown else "(none)")
        figures = {
            "units": _count(row.get("unitCount")),
            "first_pass": _count(row.get("fpCount")),
            "second_pass": _count(row.get("spCount")),
            "third_pass": _count(row.get("tpCount")),
            "last_pass": _count(row.get("lpCount")),
            "fpy": _fraction(row.get("fpy")),
            "spy": _fraction(row.get("spy")),
            "tpy": _fraction(row.get("tpy")),
            "lpy": _fraction(row.get("lpy")),
            "reports": _count(row.get("testReportCount")),
            "passed_reports": _count(row.get("testYieldCount")),
            "report_yield": _fraction(row.get("testYield")),
            "retests": _count(row.get("retestCount")),
        }
        for name in sums:
            sums[name] += int(figures[name] or 0)
        groups.append({"key": key, "label": " · ".join(labels), **figures})
    units, reports = sums["units"], sums["reports"]
    total: dict[str, Any] = dict(sums)
    total["fpy"] = sums["first_pass"] / units if units else None
    total["spy"] = sums["second_pass"] / units if units else None
    total["tpy"] = sums["third_pass"] / units if units else None
    total["lpy"] = sums["last_pass"] / units if units else None
    total["report_yield"] = sums["passed_reports"] / reports if reports else None
    return {"total": total, "groups": groups}
