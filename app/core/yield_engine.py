"""The yield engine: the dashboard's figures for a period, filter and grouping.

Rules (wats-api.md §2.5, app.core.unit_yield): a unit is SN + PN within one process; its
reports are runs 1, 2, … in start order; a unit belongs to a period (and to a group, and
passes a filter) by its FIRST run, and then all of its runs count, also retests after the
period ended. So the figures of a shift never change once its units are retested later,
except that the retests are added to those same units.

Figures of a set of units:
- FPY/SPY/TPY/LPY: share of units that passed in run 1 / by run 2 / by run 3 / in their
  last run; report yield: passed reports ÷ all reports of those units;
- volume: units and reports; retests: reports beyond each unit's first, and how many units
  were tested more than once; units per hour: units ÷ hours of the period elapsed so far;
- an hourly trend (daily for periods over two days) of units, FPY and reports;
- a Pareto of failing steps (the step that caused each failed run, by name and by path)
  with each step's share of the failed runs and the cumulative share.

Pure: the caller passes the index, the time "now" (timezone-aware, in the station's zone)
and the settings (shifts, targets); nothing here reads a clock or a file.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from app.core.unit_yield import YieldStats
from app.core.yield_index import FIXTURE, NO_STEP, OPERATOR, PASSED, REV, STATION, YieldIndex
from app.core.yield_periods import PeriodSpec, Window, resolve
from app.core.yield_settings import YieldSettings, YieldTarget

GroupBy = Literal["process", "pn", "pn_rev", "station", "fixture", "operator"]
GROUP_BY: tuple[GroupBy, ...] = ("process", "pn", "pn_rev", "station", "fixture", "operator")
GROUP_TITLES: dict[str, str] = {
    "process": "Process",
    "pn": "Product",
    "pn_rev": "Product / rev",
    "station": "Station",
    "fixture": "Fixture",
    "operator": "Operator",
}
Status = Literal["ok", "warning", "alarm", "few", "none"]
NOT_RECORDED = "(not recorded)"
HOUR = 3600.0
DAY = 86400.0
# Hourly buckets up to two days, daily up to a little over a year, weekly beyond.
HOURLY_UP_TO_S = 2 * DAY
DAILY_UP_TO_S = 400 * DAY
PARETO_LIMIT = 15


# ---------------------------------------------------------------- filters


def wildcard_matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """Case-insensitive match against any of `patterns` (each may hold `;`-separated
    alternatives, `%` for any run of characters and `_` for one), as WATS filters do."""
    alternatives = [alt.strip() for p in patterns for alt in p.split(";") if alt.strip()]
    regex = "|".join(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in alt)
        for alt in alternatives
    )
    compiled = re.compile(f"(?:{regex})", re.IGNORECASE | re.DOTALL)
    return lambda text: compiled.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class YieldFilter:
    """Which units count, judged on each unit's first run. Empty tuples match everything.

    `process` matches the process code or its name.
    """

    process: tuple[str, ...] = ()
    pn: tuple[str, ...] = ()
    rev: tuple[str, ...] = ()
    station: tuple[str, ...] = ()
    fixture: tuple[str, ...] = ()
    operator: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {
            name: list(values)
            for name in ("process", "pn", "rev", "station", "fixture", "operator")
            if (values := getattr(self, name))
        }


@dataclass(frozen=True, slots=True)
class _CompiledFilter:
    pn_ids: frozenset[int] | None
    codes: frozenset[int] | None
    attr_ids: frozenset[int] | None

    def accepts(self, pn_id: int, code: int, attr_id: int) -> bool:
        return (
            (self.pn_ids is None or pn_id in self.pn_ids)
            and (self.codes is None or code in self.codes)
            and (self.attr_ids is None or attr_id in self.attr_ids)
        )


def _compile(index: YieldIndex, flt: YieldFilter) -> _CompiledFilter:
    pn_ids: frozenset[int] | None = None
    if flt.pn:
        match = wildcard_matcher(flt.pn)
        pn_ids = frozenset(i for i, pn in enumerate(index.pns.values) if match(pn))
    codes: frozenset[int] | None = None
    if flt.process:
        match = wildcard_matcher(flt.process)
        codes = frozenset(
            code
            for code in index.process_codes
            if match(str(code)) or match(index.process_names.get(code, ""))
        )
    attr_ids: frozenset[int] | None = None
    attr_tests = [
        (position, wildcard_matcher(values))
        for position, values in (
            (REV, flt.rev),
            (STATION, flt.station),
            (FIXTURE, flt.fixture),
            (OPERATOR, flt.operator),
        )
        if values
    ]
    if attr_tests:
        attr_ids = frozenset(
            i
            for i, attrs in enumerate(index.attrs.values)
            if all(test(attrs[position]) for position, test in attr_tests)
        )
    return _CompiledFilter(pn_ids, codes, attr_ids)


# ---------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Figures:
    """The KPIs of one set of units, judged against the target that applies to them."""

    stats: YieldStats
    retested_units: int
    units_per_hour: float | None
    target: YieldTarget | None
    fpy_status: Status
    report_yield_status: Status
    rate_status: Status

    def to_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "units": s.unit_count,
            "first_pass": s.fp_count,
            "second_pass": s.sp_count,
            "third_pass": s.tp_count,
            "last_pass": s.lp_count,
            "fpy": s.fpy,
            "spy": s.spy,
            "tpy": s.tpy,
            "lpy": s.lpy,
            "reports": s.test_report_count,
            "passed_reports": s.passed_report_count,
            "report_yield": s.test_yield,
            "retests": s.retest_count,
            "retested_units": self.retested_units,
            "units_per_hour": self.units_per_hour,
            "first_utc": None if s.first_utc is None else s.first_utc.timestamp(),
            "last_utc": None if s.last_utc is None else s.last_utc.timestamp(),
            "target": None if self.target is None else _target_dict(self.target),
            "status": {
                "fpy": self.fpy_status,
                "report_yield": self.report_yield_status,
                "units_per_hour": self.rate_status,
            },
        }


def _target_dict(target: YieldTarget) -> dict[str, Any]:
    return {
        "process_code": target.process_code,
        "pn": target.pn,
        "fpy_warning": target.fpy_warning,
        "fpy_alarm": target.fpy_alarm,
        "report_yield_warning": target.report_yield_warning,
        "report_yield_alarm": target.report_yield_alarm,
        "units_per_hour_warning": target.units_per_hour_warning,
    }


@dataclass(frozen=True, slots=True)
class GroupRow:
    key: dict[str, Any]
    label: str
    figures: Figures

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, **self.figures.to_dict()}


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: float
    units: int
    first_pass: int
    reports: int
    passed_reports: int

    @property
    def fpy(self) -> float | None:
        return self.first_pass / self.units if self.units else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "units": self.units,
            "first_pass": self.first_pass,
            "fpy": self.fpy,
            "reports": self.reports,
            "passed_reports": self.passed_reports,
        }


@dataclass(frozen=True, slots=True)
class ParetoRow:
    step: str
    path: str | None  # None in the by-name Pareto
    count: int
    share: float
    cumulative: float
    other: bool = False  # the remaining steps beyond the limit, summed

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "path": self.path,
            "count": self.count,
            "share": self.share,
            "cumulative": self.cumulative,
            "other": self.other,
        }


@dataclass(frozen=True, slots=True)
class YieldView:
    """Everything the dashboard, the CLI and `yield.query` show for one query."""

    window: Window
    start: float | None  # the window actually covered (for last-N units: found units)
    end: float | None
    as_of: float
    filter: YieldFilter
    by: tuple[GroupBy, ...]
    total: Figures
    groups: list[GroupRow]
    trend: list[TrendPoint]
    bucket_s: float
    pareto_by_name: list[ParetoRow]
    pareto_by_path: list[ParetoRow]
    failed_runs: int
    runs_indexed: int
    min_units: int = 1  # fewer units than this are not judged against a target

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "kind": self.window.kind,
                "label": self.window.label,
                "start": self.start,
                "end": self.end,
                "shift": self.window.shift,
                "units": self.window.units or None,
            },
            "as_of": self.as_of,
            "filter": self.filter.to_dict(),
            "by": list(self.by),
            "total": self.total.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
            "trend": {"bucket_s": self.bucket_s, "points": [p.to_dict() for p in self.trend]},
            "pareto": {
                "failed_runs": self.failed_runs,
                "by_name": [r.to_dict() for r in self.pareto_by_name],
                "by_path": [r.to_dict() for r in self.pareto_by_path],
            },
            "runs_indexed": self.runs_indexed,
            "min_units": self.min_units,
        }


# ---------------------------------------------------------------- accumulation


class _Acc:
    """Running counts of one group (or the total)."""

    __slots__ = (
        "first",
        "fp",
        "last",
        "lp",
        "passed",
        "reports",
        "retested",
        "scopes",
        "sp",
        "tp",
        "units",
    )

    def __init__(self) -> None:
        self.units = self.fp = self.sp = self.tp = self.lp = 0
        self.reports = self.passed = self.retested = 0
        self.first = float("inf")
        self.last = float("-inf")
        self.scopes: set[tuple[int, int]] = set()  # (process code, pn id): picks the target

    def add(
        self, runs: int, passed: int, first_pass: int, *, last_ok: bool, t0: float, t_last: float
    ) -> None:
        self.units += 1
        if first_pass == 1:
            self.fp += 1
        if 0 < first_pass <= 2:
            self.sp += 1
        if 0 < first_pass <= 3:
            self.tp += 1
        if last_ok:
            self.lp += 1
        self.reports += runs
        self.passed += passed
        if runs > 1:
            self.retested += 1
        self.first = min(self.first, t0)
        self.last = max(self.last, t_last)

    def stats(self, tz: tzinfo) -> YieldStats:
        return YieldStats(
            unit_count=self.units,
            fp_count=self.fp,
            sp_count=self.sp,
            tp_count=self.tp,
            lp_count=self.lp,
            test_report_count=self.reports,
            passed_report_count=self.passed,
            first_utc=datetime.fromtimestamp(self.first, tz) if self.units else None,
            last_utc=datetime.fromtimestamp(self.last, tz) if self.units else None,
        )


def _judge(value: float | None, warning: float | None, alarm: float | None) -> Status:
    if value is None or (warning is None and alarm is None):
        return "none"
    if alarm is not None and value < alarm:
        return "alarm"
    if warning is not None and value < warning:
        return "warning"
    return "ok"


def _figures(
    acc: _Acc,
    hours: float | None,
    index: YieldIndex,
    settings: YieldSettings,
    tz: tzinfo,
) -> Figures:
    stats = acc.stats(tz)
    target = _target_of(acc.scopes, index, settings)
    rate = acc.units / hours if hours else None
    few = acc.units < settings.alarms.min_units
    if target is None:
        return Figures(stats, acc.retested, rate, None, "none", "none", "none")
    fpy_status = _judge(stats.fpy, target.fpy_warning, target.fpy_alarm)
    report_status = _judge(stats.test_yield, target.report_yield_warning, target.report_yield_alarm)
    rate_status = _judge(rate, target.units_per_hour_warning, None)
    if few:
        fpy_status = "few" if fpy_status != "none" else "none"
        report_status = "few" if report_status != "none" else "none"
        rate_status = "few" if rate_status != "none" else "none"
    return Figures(stats, acc.retested, rate, target, fpy_status, report_status, rate_status)


def _target_of(
    scopes: set[tuple[int, int]], index: YieldIndex, settings: YieldSettings
) -> YieldTarget | None:
    """A target applies when all units share one process (a product's own target when they
    also share one product)."""
    codes = {code for code, _ in scopes}
    if len(codes) != 1:
        return None
    code = next(iter(codes))
    pn_ids = {pn for _, pn in scopes}
    pn = index.pns.values[next(iter(pn_ids))] if len(pn_ids) == 1 else None
    target = settings.target_for(code, pn)
    if target is not None and target.pn is not None and pn is None:
        return None
    return target


# ---------------------------------------------------------------- grouping keys


def _group_key(
    index: YieldIndex, by: Sequence[GroupBy], pn_id: int, code: int, attr_id: int
) -> tuple[tuple[object, ...], dict[str, Any], str]:
    attrs = index.attrs.values[attr_id]
    pn = index.pns.values[pn_id]
    values: list[object] = []
    key: dict[str, Any] = {}
    labels: list[str] = []
    for dim in by:
        if dim == "process":
            values.append(code)
            key["process_code"] = code
            key["process_name"] = index.process_names.get(code, "")
            labels.append(index.process_label(code))
        elif dim == "pn":
            values.append(pn)
            key["pn"] = pn
            labels.append(pn or "(none)")
        elif dim == "pn_rev":
            values.extend((pn, attrs[REV]))
            key["pn"] = pn
            key["rev"] = attrs[REV]
            labels.append(f"{pn} rev {attrs[REV]}" if attrs[REV] else pn)
        else:
            position = {"station": STATION, "fixture": FIXTURE, "operator": OPERATOR}[dim]
            value = attrs[position]
            values.append(value)
            key[dim] = value
            labels.append(value or "(none)")
    return tuple(values), key, " · ".join(labels)


# ---------------------------------------------------------------- trend buckets


def trend_buckets(start: float, end: float, tz: tzinfo) -> tuple[list[float], float]:
    """Bucket starts covering [start, end): local hours, days or weeks; and the bucket size."""
    span = max(0.0, end - start)
    local = datetime.fromtimestamp(start, tz)
    if span <= HOURLY_UP_TO_S:
        first = local.replace(minute=0, second=0, microsecond=0).timestamp()
        count = int((end - first) // HOUR) + (1 if (end - first) % HOUR else 0)
        return [first + i * HOUR for i in range(max(count, 1))], HOUR
    step_days = 1 if span <= DAILY_UP_TO_S else 7
    day = local.date()
    starts: list[float] = []
    while True:
        moment = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        if moment >= end and starts:
            break
        starts.append(moment)
        day += timedelta(days=step_days)
    return starts, step_days * DAY


# ---------------------------------------------------------------- the query


@dataclass(frozen=True, slots=True)
class YieldQuery:
    period: PeriodSpec
    filter: YieldFilter = field(default_factory=YieldFilter)
    by: tuple[GroupBy, ...] = ("process",)
    pareto_limit: int = PARETO_LIMIT


def run_query(
    index: YieldIndex, query: YieldQuery, now: datetime, settings: YieldSettings
) -> YieldView:
    """The figures of `query` at `now` (timezone-aware) over everything in `index`."""
    tz = now.tzinfo
    assert tz is not None, "now must be timezone-aware"
    now_s = now.timestamp()
    window = resolve(query.period, now, settings.shifts)
    flt = _compile(index, query.filter)
    unit, unit_pn, unit_process, attr = index.unit, index.unit_pn, index.unit_process, index.attr

    def accepted(runs: Iterable[int]) -> Iterable[int]:
        for run in runs:
            u = unit[run]
            if flt.accepts(unit_pn[u], unit_process[u], attr[run]):
                yield run

    if window.kind == "units":
        chosen: list[int] = []
        for run in accepted(index.first_runs_newest()):
            chosen.append(run)
            if len(chosen) >= window.units:
                break
        chosen.reverse()
        first_runs: Iterable[int] = chosen
        start = index.start[chosen[0]] if chosen else None
        end = index.start[chosen[-1]] if chosen else None
        hours = (end - start) / HOUR if start is not None and end is not None else None
    else:
        first_runs = accepted(index.first_runs(window.start, window.end))
        start, end = window.start, window.end
        assert start is not None
        elapsed_end = now_s if end is None else min(now_s, end)
        hours = (elapsed_end - start) / HOUR if elapsed_end > start else None

    trend_end = end if end is not None else now_s
    if window.kind == "units" and end is not None:
        trend_end = end + 1.0
    buckets, bucket_s = trend_buckets(start, trend_end, tz) if start is not None else ([], HOUR)
    bucket_units = [0] * len(buckets)
    bucket_fp = [0] * len(buckets)
    bucket_reports = [0] * len(buckets)
    bucket_passed = [0] * len(buckets)
    first_bucket = buckets[0] if buckets else 0.0
    last_bucket_end = buckets[-1] + bucket_s if buckets else 0.0

    def bucket_of(t: float) -> int:
        if not buckets or t < first_bucket or t >= last_bucket_end:
            return -1
        return bisect_right(buckets, t) - 1

    total = _Acc()
    groups: dict[tuple[object, ...], tuple[_Acc, dict[str, Any], str]] = {}
    key_cache: dict[tuple[int, int, int], tuple[object, ...]] = {}
    failed_steps: dict[int, int] = {}
    by = query.by
    starts, results, steps, nxt = index.start, index.result, index.step, index.next

    for first in first_runs:
        u = unit[first]
        pn_id, code, attr_id = unit_pn[u], unit_process[u], attr[first]
        runs = passed = first_pass = 0
        last_ok = False
        t0 = starts[first]
        t_last = t0
        run = first
        while run >= 0:
            runs += 1
            t = starts[run]
            t_last = t
            bucket = bucket_of(t)
            if results[run] == PASSED:
                passed += 1
                if not first_pass:
                    first_pass = runs
                last_ok = True
                if bucket >= 0:
                    bucket_passed[bucket] += 1
            else:
                last_ok = False
                step = steps[run]
                failed_steps[step] = failed_steps.get(step, 0) + 1
            if bucket >= 0:
                bucket_reports[bucket] += 1
            run = nxt[run]
        bucket = bucket_of(t0)
        if bucket >= 0:
            bucket_units[bucket] += 1
            if first_pass == 1:
                bucket_fp[bucket] += 1
        total.add(runs, passed, first_pass, last_ok=last_ok, t0=t0, t_last=t_last)
        total.scopes.add((code, pn_id))
        if by:
            cache_key = (pn_id, code, attr_id)
            gkey = key_cache.get(cache_key)
            if gkey is None:
                gkey, labels, text = _group_key(index, by, pn_id, code, attr_id)
                key_cache[cache_key] = gkey
                if gkey not in groups:
                    groups[gkey] = (_Acc(), labels, text)
            acc = groups[gkey][0]
            acc.add(runs, passed, first_pass, last_ok=last_ok, t0=t0, t_last=t_last)
            acc.scopes.add((code, pn_id))

    group_rows = [
        GroupRow(key=labels, label=text, figures=_figures(acc, hours, index, settings, tz))
        for acc, labels, text in groups.values()
    ]
    group_rows.sort(key=lambda g: (-g.figures.stats.unit_count, g.label.casefold()))
    trend = [
        TrendPoint(t, bucket_units[i], bucket_fp[i], bucket_reports[i], bucket_passed[i])
        for i, t in enumerate(buckets)
    ]
    failed = sum(failed_steps.values())
    by_name, by_path = _paretos(index, failed_steps, failed, query.pareto_limit)
    return YieldView(
        window=window,
        start=start,
        end=end,
        as_of=now_s,
        filter=query.filter,
        by=by,
        total=_figures(total, hours, index, settings, tz),
        groups=group_rows,
        trend=trend,
        bucket_s=bucket_s,
        pareto_by_name=by_name,
        pareto_by_path=by_path,
        failed_runs=failed,
        runs_indexed=index.live_runs,
        min_units=settings.alarms.min_units,
    )


def _paretos(
    index: YieldIndex, failed_steps: dict[int, int], failed: int, limit: int
) -> tuple[list[ParetoRow], list[ParetoRow]]:
    by_name: dict[str, int] = {}
    by_path: dict[tuple[str, str | None], int] = {}
    for step_id, count in failed_steps.items():
        if step_id == NO_STEP:
            name, path = NOT_RECORDED, None
        else:
            name, path = index.steps.values[step_id]
            name = name or (path.rsplit("/", 1)[-1] if path else NOT_RECORDED)
            path = path or None
        by_name[name] = by_name.get(name, 0) + count
        by_path[(name, path)] = by_path.get((name, path), 0) + count
    return (
        _pareto([(name, None, count) for name, count in by_name.items()], failed, limit),
        _pareto([(name, path, count) for (name, path), count in by_path.items()], failed, limit),
    )


def _pareto(items: list[tuple[str, str | None, int]], failed: int, limit: int) -> list[ParetoRow]:
    # Most failures first; among equals by name, with unrecorded steps last.
    items.sort(
        key=lambda item: (-item[2], item[0] == NOT_RECORDED, item[0].casefold(), item[1] or "")
    )
    rows: list[ParetoRow] = []
    running = 0
    for name, path, count in items[:limit]:
        running += count
        rows.append(ParetoRow(name, path, count, count / failed, running / failed))
    rest = sum(count for _, _, count in items[limit:])
    if rest:
        running += rest
        others = len(items) - limit
        rows.append(
            ParetoRow(f"{others} other steps", None, rest, rest / failed, running / failed, True)
        )
    return rows
