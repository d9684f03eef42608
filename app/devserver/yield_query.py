"""`POST /api/App/DynamicYield` and `POST /api/App/UutReport` (wats-api.md §2.5).

Yield follows app.core.unit_yield: a unit is (SN, PN) in one process, and the filter selects
units by their first run, after which all their runs count. Grouping puts each unit in the
group of its first run. Only test (UUT) reports take part; repair reports do not.

Differences from a real server, on purpose: the empty-body default window of 30 days is not
applied (a converter author's sample reports are often years old), so send dateFrom/dateTo
to limit the time span; `period` groups by `dateGrouping` in the C# order (0 hour, 1 day,
2 week, 3 month, 4 quarter, 5 year); only the KPIs listed in KPI_NAMES exist, every row has
all of them, and a KPI named in `dimensions` only orders the rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from app.core.unit_yield import YieldRecord, YieldStats, group_yield
from app.devserver.headers import ReportHeader
from app.devserver.jsonio import ApiError
from app.devserver.timeparse import parse_time

HeaderTest = Callable[[ReportHeader], bool]

# PublicWatsFilter text fields: how each reads a report header. All take ; lists and % _ wildcards.
TEXT_FILTERS: dict[str, Callable[[ReportHeader], Iterable[str]]] = {
    "serialNumber": lambda h: (h.sn,),
    "partNumber": lambda h: (h.pn,),
    "revision": lambda h: (h.rev,),
    "batchNumber": lambda h: (h.batch,),
    "stationName": lambda h: (h.station,),
    "testOperation": lambda h: (h.process_name, str(h.process_code)),
    "productGroup": lambda h: ("",),  # the local server has no product data
    "level": lambda h: ("",),
    "swFilename": lambda h: (h.sw_filename,),
    "swVersion": lambda h: (h.sw_version,),
    "socket": lambda h: ("" if h.socket_index is None else str(h.socket_index),),
    "miscDescription": lambda h: tuple(d for d, _ in h.misc),
    "miscValue": lambda h: tuple(v for _, v in h.misc),
    "status": lambda h: (h.result_word,),
}

PERIOD_FORMATS: dict[int, Callable[[datetime], str]] = {
    0: lambda t: t.strftime("%Y-%m-%dT%H"),
    1: lambda t: t.strftime("%Y-%m-%d"),
    2: lambda t: "{}-W{:02d}".format(*t.isocalendar()[:2]),
    3: lambda t: t.strftime("%Y-%m"),
    4: lambda t: f"{t.year}-Q{(t.month - 1) // 3 + 1}",
    5: lambda t: str(t.year),
}

# Dimension name -> YieldRecord field (grouping uses each unit's first run).
DIMENSIONS: dict[str, str] = {
    "partNumber": "pn",
    "productName": "product_name",
    "stationName": "station",
    "location": "location",
    "purpose": "purpose",
    "revision": "rev",
    "testOperation": "process_name",
    "processCode": "process_code",
    "swFilename": "sw_filename",
    "swVersion": "sw_version",
    "batchNumber": "batch",
    "operator": "operator",
    "fixtureId": "fixture_id",
    "socketIndex": "socket_index",
    "errorCode": "error_code",
    "period": "",  # computed from dateGrouping
}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


KPI_NAMES: dict[str, Callable[[YieldStats], Any]] = {
    "unitCount": lambda s: s.unit_count,
    "fpCount": lambda s: s.fp_count,
    "spCount": lambda s: s.sp_count,
    "tpCount": lambda s: s.tp_count,
    "lpCount": lambda s: s.lp_count,
    "fpy": lambda s: s.fpy,
    "spy": lambda s: s.spy,
    "tpy": lambda s: s.tpy,
    "lpy": lambda s: s.lpy,
    "testReportCount": lambda s: s.test_report_count,
    "testYieldCount": lambda s: s.passed_report_count,
    "testYield": lambda s: s.test_yield,
    "firstUtc": lambda s: _iso(s.first_utc),
    "lastUtc": lambda s: _iso(s.last_utc),
    "retestCount": lambda s: s.retest_count,
    "fpFailCount": lambda s: s.fp_fail_count,
    "spFailCount": lambda s: s.sp_fail_count,
    "tpFailCount": lambda s: s.tp_fail_count,
    "lpFailCount": lambda s: s.lp_fail_count,
}

DEFAULT_DIMENSIONS = "unitCount desc;partNumber;testOperation"
DEFAULT_TOP_COUNT = 10
UUT_REPORT_TOP_COUNT = 1000

_CANONICAL = {name.lower(): name for name in [*DIMENSIONS, *KPI_NAMES]}


def wildcard_test(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive matcher for a WATS filter value: `;` separates alternatives,
    `%` matches any run of characters and `_` exactly one."""
    alternatives = [alt.strip() for alt in pattern.split(";") if alt.strip()]
    regex = "|".join(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in alt)
        for alt in alternatives
    )
    compiled = re.compile(f"(?:{regex})", re.IGNORECASE | re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


def header_filter(body: Mapping[str, Any]) -> HeaderTest:
    """The report test of a PublicWatsFilter body, or a 400 naming a bad field."""
    tests: list[HeaderTest] = []
    for name, read in TEXT_FILTERS.items():
        value = body.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise ApiError(400, f"Field '{name}' must be a string, got {value!r}")
        tests.append(_field_test(read, wildcard_test(value)))
    date_from = _date_field(body, "dateFrom")
    date_to = _date_field(body, "dateTo")
    if date_from is not None:
        tests.append(_after(date_from))
    if date_to is not None:
        tests.append(_before(date_to))
    return lambda header: all(test(header) for test in tests)


def _field_test(
    read: Callable[[ReportHeader], Iterable[str]], match: Callable[[str], bool]
) -> HeaderTest:
    return lambda header: any(match(value) for value in read(header))


def _after(limit: datetime) -> HeaderTest:
    return lambda header: header.start_utc >= limit


def _before(limit: datetime) -> HeaderTest:
    return lambda header: header.start_utc <= limit


def _date_field(body: Mapping[str, Any], name: str) -> datetime | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise ApiError(400, f"Field '{name}' is not an ISO 8601 date: {value!r}")
    return parsed


def _int_field(body: Mapping[str, Any], name: str, default: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"Field '{name}' must be an integer, got {value!r}")
    return value


def parse_dimensions(text: str) -> list[tuple[str, bool]]:
    """[(dimension or KPI name, descending)] in list order, or a 400 naming a bad item."""
    items: list[tuple[str, bool]] = []
    for raw in text.split(";"):
        words = raw.split()
        if not words:
            continue
        if len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ApiError(400, f"Field 'dimensions': cannot read {raw.strip()!r}")
        name = _CANONICAL.get(words[0].lower())
        if name is None:
            raise ApiError(
                400,
                f"Field 'dimensions': {words[0]!r} is not a dimension or KPI the local server "
                f"supports; dimensions: {', '.join(DIMENSIONS)}; KPIs: {', '.join(KPI_NAMES)}",
            )
        items.append((name, len(words) == 2 and words[1].lower() == "desc"))
    return items


def dynamic_yield(
    headers: Iterable[ReportHeader], body: Mapping[str, Any], query_dimensions: str | None
) -> list[dict[str, Any]]:
    """The DynamicYield rows for a filter body over the stored report headers."""
    empty = not body
    text = body.get("dimensions") or query_dimensions or (DEFAULT_DIMENSIONS if empty else "")
    if not isinstance(text, str):
        raise ApiError(400, f"Field 'dimensions' must be a string, got {text!r}")
    items = parse_dimensions(text)
    top_count = _int_field(body, "topCount", DEFAULT_TOP_COUNT if empty else None)
    grouping = _int_field(body, "dateGrouping", 1)
    if any(name == "period" for name, _ in items) and grouping not in PERIOD_FORMATS:
        raise ApiError(400, f"Field 'dateGrouping' must be 0..5 to group by period, got {grouping}")
    matches = header_filter(body)

    by_id = {h.uuid: h for h in headers if h.report_type == "T"}
    dims = [name for name, _ in items if name in DIMENSIONS]
    keys: list[str | Callable[[YieldRecord], object]] = []
    for name in dims:
        if name == "period":
            keys.append(_period_key(by_id, PERIOD_FORMATS[grouping or 0]))
        elif name == "testOperation":
            keys.append(_test_operation)
        else:
            keys.append(DIMENSIONS[name])
    groups = group_yield(
        (h.yield_record for h in by_id.values()),
        keys,
        first_run_filter=lambda record: matches(by_id[record.report_id]),
    )
    rows: list[dict[str, Any]] = []
    for group in groups:
        row: dict[str, Any] = dict(zip(dims, group.key, strict=True))
        row.update({kpi: read(group.stats) for kpi, read in KPI_NAMES.items()})
        rows.append(row)
    for name, descending in reversed(items):
        rows.sort(key=_sort_key(name), reverse=descending)
    return rows if top_count is None else rows[:top_count]


def _period_key(
    by_id: Mapping[str, ReportHeader], fmt: Callable[[datetime], str]
) -> Callable[[YieldRecord], object]:
    # The period of the station's local start time, as an operator reads it.
    return lambda record: fmt(by_id[record.report_id].start)


def _test_operation(record: YieldRecord) -> object:
    return record.process_name or str(record.process_code)


def _sort_key(name: str) -> Callable[[Mapping[str, Any]], tuple[bool, Any]]:
    def key(row: Mapping[str, Any]) -> tuple[bool, Any]:
        value = row.get(name)
        if isinstance(value, str):
            value = value.casefold()
        return (value is not None, value if value is not None else 0)

    return key


def uut_report_headers(
    headers: Iterable[ReportHeader], body: Mapping[str, Any]
) -> tuple[list[ReportHeader], int]:
    """The test reports matching a filter, newest first, and how many to return."""
    top_count = _int_field(body, "topCount", UUT_REPORT_TOP_COUNT) or UUT_REPORT_TOP_COUNT
    matches = header_filter(body)
    selected = [h for h in headers if h.report_type == "T" and matches(h)]
    selected.sort(key=lambda h: h.start_utc, reverse=True)
    return selected[:top_count], top_count
