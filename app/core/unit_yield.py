"""Unit yield rules (wats-api.md §2.5): first-pass, second-pass, third-pass and last-pass yield.

A *unit* is one (serial number, part number) pair tested in one process. Its test reports
are its *runs*, numbered 1, 2, … in start order. A unit passed in run N when report N is the
first passing one; FPY counts units that passed in run 1, SPY by run 2, TPY by run 3, and LPY
units whose last run passed. Test yield is per report: passed reports ÷ all reports.

A filter selects units by their first run only: when the first run matches, every run of the
unit counts, so a unit first tested in March still shows its April retest in a March query.

The local WATS server computes DynamicYield with these functions, and the worker's own yield
monitor reuses them, so both give the same numbers for the same reports. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

PASSED = "P"

# Groups are keyed by a tuple of dimension values; None where a record has no value.
GroupKey = tuple[object, ...]
Dimension = str | Callable[["YieldRecord"], object]
RecordFilter = Callable[["YieldRecord"], bool]


@dataclass(frozen=True, slots=True)
class YieldRecord:
    """The few header fields of one test (UUT) report that yield needs.

    `result` is the WSJF letter: P passed, F failed, E error, T terminated; only P passes.
    `start_utc` must be timezone-aware so runs from stations in other zones order correctly.
    The fields after `result` are optional and exist so reports can be grouped and filtered
    by them (station, revision, operator, …).
    """

    sn: str
    pn: str
    process_code: int
    start_utc: datetime
    result: str
    station: str = ""
    rev: str = ""
    operator: str = ""
    report_id: str = ""
    process_name: str = ""
    product_name: str = ""
    location: str = ""
    purpose: str = ""
    batch: str = ""
    sw_filename: str = ""
    sw_version: str = ""
    fixture_id: str = ""
    socket_index: int | None = None
    error_code: int | None = None
    # The step that caused a failed report (WSJF causedUutFailure): the yield Pareto's input.
    failing_step_name: str = ""
    failing_step_path: str = ""

    @property
    def passed(self) -> bool:
        return self.result == PASSED

    @property
    def unit_key(self) -> tuple[str, str, int]:
        return (self.sn, self.pn, self.process_code)


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit in one process and its runs in start order (run 1 first)."""

    sn: str
    pn: str
    process_code: int
    runs: tuple[YieldRecord, ...]

    @property
    def first_run(self) -> YieldRecord:
        return self.runs[0]

    @property
    def last_run(self) -> YieldRecord:
        return self.runs[-1]

    @property
    def passed_in_run(self) -> int:
        """The run number (1-based) of the first passing run, or 0 if no run passed yet."""
        for number, run in enumerate(self.runs, start=1):
            if run.passed:
                return number
        return 0

    def passed_by_run(self, run_number: int) -> bool:
        """True if the unit passed in run `run_number` or earlier."""
        first_pass = self.passed_in_run
        return 0 < first_pass <= run_number


@dataclass(frozen=True, slots=True)
class YieldStats:
    """Counts and yields of a set of units. Yields are fractions 0..1, None with no units."""

    unit_count: int = 0
    fp_count: int = 0
    sp_count: int = 0
    tp_count: int = 0
    lp_count: int = 0
    test_report_count: int = 0
    passed_report_count: int = 0
    first_utc: datetime | None = None
    last_utc: datetime | None = None

    @property
    def fpy(self) -> float | None:
        return _share(self.fp_count, self.unit_count)

    @property
    def spy(self) -> float | None:
        return _share(self.sp_count, self.unit_count)

    @property
    def tpy(self) -> float | None:
        return _share(self.tp_count, self.unit_count)

    @property
    def lpy(self) -> float | None:
        return _share(self.lp_count, self.unit_count)

    @property
    def test_yield(self) -> float | None:
        return _share(self.passed_report_count, self.test_report_count)

    @property
    def retest_count(self) -> int:
        """Runs beyond each unit's first: how many times units were tested again."""
        return self.test_report_count - self.unit_count

    @property
    def fp_fail_count(self) -> int:
        return self.unit_count - self.fp_count

    @property
    def sp_fail_count(self) -> int:
        return self.unit_count - self.sp_count

    @property
    def tp_fail_count(self) -> int:
        return self.unit_count - self.tp_count

    @property
    def lp_fail_count(self) -> int:
        return self.unit_count - self.lp_count


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def build_units(records: Iterable[YieldRecord]) -> list[Unit]:
    """Group records into units and order each unit's runs by start time.

    Records with the same start keep their input order (the sort is stable). Units come back
    in the order their first record appeared in the input.
    """
    runs_by_unit: dict[tuple[str, str, int], list[YieldRecord]] = {}
    for record in records:
        runs_by_unit.setdefault(record.unit_key, []).append(record)
    units: list[Unit] = []
    for (sn, pn, process_code), runs in runs_by_unit.items():
        runs.sort(key=lambda run: run.start_utc)
        units.append(Unit(sn=sn, pn=pn, process_code=process_code, runs=tuple(runs)))
    return units


def select_units(units: Iterable[Unit], first_run_filter: RecordFilter | None) -> list[Unit]:
    """The units whose first run matches the filter (all units when there is no filter)."""
    if first_run_filter is None:
        return list(units)
    return [unit for unit in units if first_run_filter(unit.first_run)]


def stats_of_units(units: Iterable[Unit]) -> YieldStats:
    """Counts and yields of already-built units; every run of every unit counts."""
    unit_count = fp = sp = tp = lp = reports = passed_reports = 0
    first_utc: datetime | None = None
    last_utc: datetime | None = None
    for unit in units:
        unit_count += 1
        first_pass = unit.passed_in_run
        if first_pass == 1:
            fp += 1
        if 0 < first_pass <= 2:
            sp += 1
        if 0 < first_pass <= 3:
            tp += 1
        if unit.last_run.passed:
            lp += 1
        reports += len(unit.runs)
        passed_reports += sum(1 for run in unit.runs if run.passed)
        start, end = unit.first_run.start_utc, unit.last_run.start_utc
        first_utc = start if first_utc is None or start < first_utc else first_utc
        last_utc = end if last_utc is None or end > last_utc else last_utc
    return YieldStats(
        unit_count=unit_count,
        fp_count=fp,
        sp_count=sp,
        tp_count=tp,
        lp_count=lp,
        test_report_count=reports,
        passed_report_count=passed_reports,
        first_utc=first_utc,
        last_utc=last_utc,
    )


def compute_yield(
    records: Iterable[YieldRecord], *, first_run_filter: RecordFilter | None = None
) -> YieldStats:
    """Yield of all units in `records` whose first run matches `first_run_filter`."""
    return stats_of_units(select_units(build_units(records), first_run_filter))


def dimension_value(record: YieldRecord, dimension: Dimension) -> object:
    """The value of one grouping dimension: a YieldRecord field name or a function of it."""
    if callable(dimension):
        return dimension(record)
    if dimension not in YieldRecord.__dataclass_fields__:
        raise ValueError(f"unknown yield dimension {dimension!r}")
    return getattr(record, dimension)


@dataclass(frozen=True, slots=True)
class YieldGroup:
    """One row of a grouped yield: the dimension values and the stats of its units."""

    key: GroupKey
    stats: YieldStats
    units: tuple[Unit, ...] = field(repr=False, default=())


def group_yield(
    records: Iterable[YieldRecord],
    dimensions: Sequence[Dimension],
    *,
    first_run_filter: RecordFilter | None = None,
) -> list[YieldGroup]:
    """Yield per combination of dimension values, each unit grouped by its first run.

    A unit belongs to exactly one group, the one of its first run, so the groups' unit counts
    add up to the ungrouped total even when a retest ran at another station. With no
    dimensions there is one group (key `()`) if any unit matches. Groups come back in the
    order their first unit appeared.
    """
    for dimension in dimensions:
        if not callable(dimension) and dimension not in YieldRecord.__dataclass_fields__:
            raise ValueError(f"unknown yield dimension {dimension!r}")
    units_by_key: dict[GroupKey, list[Unit]] = {}
    for unit in select_units(build_units(records), first_run_filter):
        key = tuple(dimension_value(unit.first_run, dim) for dim in dimensions)
        units_by_key.setdefault(key, []).append(unit)
    return [
        YieldGroup(key=key, stats=stats_of_units(units), units=tuple(units))
        for key, units in units_by_key.items()
    ]


def run_numbers(records: Iterable[YieldRecord]) -> dict[str, tuple[int, int]]:
    """For each record with a report_id: (its run number, the unit's passed-in-run or 0).

    These are the `run` and `passedInRun` fields of a report header (wats-api.md §2.6).
    """
    numbers: dict[str, tuple[int, int]] = {}
    for unit in build_units(records):
        passed_in = unit.passed_in_run
        for number, run in enumerate(unit.runs, start=1):
            if run.report_id:
                numbers[run.report_id] = (number, passed_in)
    return numbers
