"""The yield engine on hand-built histories whose answers are worked out by hand."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.unit_yield import compute_yield, group_yield
from app.core.yield_engine import YieldFilter, YieldQuery, run_query, wildcard_matcher
from app.core.yield_index import HeaderRow, YieldIndex
from app.core.yield_periods import parse_period
from app.core.yield_settings import YieldSettings
from tests.unit.core.yield_support import TZ, at, rec, view

# Four units of PN-1 in process 50 on one morning:
#   A passes in run 1, B in run 2, C in run 3, D never (three failures).
PASSES_1_2_3_NEVER = [
    rec("A", "P", "2025-03-04 08:00"),
    rec("B", "F", "2025-03-04 08:01", step="Voltage 3V3", path="Power/Voltage 3V3"),
    rec("C", "F", "2025-03-04 08:02", step="Voltage 3V3", path="Power/Voltage 3V3"),
    rec("D", "F", "2025-03-04 08:03", step="Current", path="Power/Current"),
    rec("B", "P", "2025-03-04 08:10"),
    rec("C", "F", "2025-03-04 08:11", step="Firmware", path="Program/Firmware"),
    rec("D", "E", "2025-03-04 08:12", step="Current", path="Power/Current"),
    rec("C", "P", "2025-03-04 08:20"),
    rec("D", "F", "2025-03-04 08:21", step="Current", path="Power/Current"),
]


def test_units_passing_in_run_1_2_3_and_never() -> None:
    result = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00")
    total = result.total.to_dict()
    assert total["units"] == 4
    assert (total["first_pass"], total["second_pass"], total["third_pass"]) == (1, 2, 3)
    assert total["last_pass"] == 3
    assert total["fpy"] == pytest.approx(0.25)
    assert total["spy"] == pytest.approx(0.5)
    assert total["tpy"] == pytest.approx(0.75)
    assert total["lpy"] == pytest.approx(0.75)
    assert (total["reports"], total["passed_reports"]) == (9, 3)
    assert total["report_yield"] == pytest.approx(3 / 9)
    assert (total["retests"], total["retested_units"]) == (5, 3)
    # Midnight to noon: 12 hours elapsed, 4 units.
    assert total["units_per_hour"] == pytest.approx(4 / 12)
    assert total["first_utc"] == at("2025-03-04 08:00").timestamp()
    assert total["last_utc"] == at("2025-03-04 08:21").timestamp()


def test_the_engine_agrees_with_the_reference_rules() -> None:
    reference = compute_yield(PASSES_1_2_3_NEVER)
    engine = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00").total.stats
    assert engine.unit_count == reference.unit_count
    assert (engine.fp_count, engine.sp_count, engine.tp_count, engine.lp_count) == (
        reference.fp_count,
        reference.sp_count,
        reference.tp_count,
        reference.lp_count,
    )
    assert engine.test_report_count == reference.test_report_count
    assert engine.passed_report_count == reference.passed_report_count


def test_pareto_of_failing_steps_by_name_and_path() -> None:
    result = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00")
    assert result.failed_runs == 6
    by_name = [(r.step, r.count) for r in result.pareto_by_name]
    assert by_name == [("Current", 3), ("Voltage 3V3", 2), ("Firmware", 1)]
    assert [r.cumulative for r in result.pareto_by_name] == pytest.approx([0.5, 5 / 6, 1.0])
    assert [r.share for r in result.pareto_by_name] == pytest.approx([0.5, 1 / 3, 1 / 6])
    assert [(r.step, r.path) for r in result.pareto_by_path] == [
        ("Current", "Power/Current"),
        ("Voltage 3V3", "Power/Voltage 3V3"),
        ("Firmware", "Program/Firmware"),
    ]


def test_pareto_separates_same_named_steps_by_path_and_sums_the_rest() -> None:
    records = [
        rec("A", "F", "2025-03-04 08:00", step="Check", path="Left/Check"),
        rec("B", "F", "2025-03-04 08:01", step="Check", path="Right/Check"),
        rec("C", "F", "2025-03-04 08:02", step="Check", path="Right/Check"),
        rec("D", "F", "2025-03-04 08:03"),  # failed without a recorded step
    ]
    result = view(records, "today", "2025-03-04 12:00")
    assert [(r.step, r.count) for r in result.pareto_by_name] == [
        ("Check", 3),
        ("(not recorded)", 1),
    ]
    assert [(r.path, r.count) for r in result.pareto_by_path] == [
        ("Right/Check", 2),
        ("Left/Check", 1),
        (None, 1),
    ]
    index = YieldIndex.from_records(records)
    limited = run_query(
        index,
        YieldQuery(parse_period("today"), pareto_limit=1),
        at("2025-03-04 12:00"),
        YieldSettings(),
    )
    assert [(r.step, r.count, r.other) for r in limited.pareto_by_path] == [
        ("Check", 2, False),
        ("2 other steps", 2, True),
    ]
    assert limited.pareto_by_path[-1].cumulative == pytest.approx(1.0)


# Interleaved: two products in process 50, one of them also in process 100, two stations.
INTERLEAVED = [
    rec("1", "P", "2025-03-04 09:00", pn="PN-A", station="ST-1"),
    rec("2", "F", "2025-03-04 09:01", pn="PN-B", station="ST-2"),
    rec("1", "P", "2025-03-04 09:02", pn="PN-A", process=100, station="ST-9"),
    rec("3", "P", "2025-03-04 09:03", pn="PN-A", station="ST-2"),
    rec("2", "P", "2025-03-04 09:04", pn="PN-B", station="ST-1"),  # retest at another station
    rec("3", "F", "2025-03-04 09:05", pn="PN-A", process=100, station="ST-9"),
    rec("1", "F", "2025-03-04 09:06", pn="PN-B", station="ST-1"),  # same SN, other product
    rec("3", "P", "2025-03-04 09:07", pn="PN-A", process=100, station="ST-9"),
]


def test_interleaved_products_and_processes_group_by_first_run() -> None:
    result = view(INTERLEAVED, "today", "2025-03-04 12:00", by=("process", "pn"))
    rows = {(g.key["process_code"], g.key["pn"]): g.figures.stats for g in result.groups}
    assert set(rows) == {(50, "PN-A"), (50, "PN-B"), (100, "PN-A")}
    assert (rows[50, "PN-A"].unit_count, rows[50, "PN-A"].fp_count) == (2, 2)
    # PN-B: unit 2 failed then passed; unit "1" of PN-B is another unit than "1" of PN-A.
    assert (rows[50, "PN-B"].unit_count, rows[50, "PN-B"].fp_count) == (2, 0)
    assert rows[50, "PN-B"].sp_count == 1
    assert (rows[100, "PN-A"].unit_count, rows[100, "PN-A"].fp_count) == (2, 1)
    assert rows[100, "PN-A"].test_report_count == 3
    assert sum(s.unit_count for s in rows.values()) == result.total.stats.unit_count == 6
    labels = {g.label for g in result.groups}
    assert "50 PCBA test · PN-A" in labels


def test_a_retest_at_another_station_counts_for_the_first_runs_station() -> None:
    result = view(INTERLEAVED, "today", "2025-03-04 12:00", by=("station",), process=("50",))
    rows = {g.key["station"]: g.figures.stats for g in result.groups}
    # Unit 2 of PN-B: first run at ST-2 (failed), retest at ST-1: it belongs to ST-2.
    assert rows["ST-2"].unit_count == 2
    assert rows["ST-2"].test_report_count == 3
    assert rows["ST-1"].unit_count == 2


def test_grouping_matches_the_reference_group_yield() -> None:
    result = view(INTERLEAVED, "today", "2025-03-04 12:00", by=("pn_rev", "station"))
    reference = {
        g.key: g.stats for g in group_yield(INTERLEAVED, ["pn", "rev", "process_code", "station"])
    }
    assert len(reference) >= len(result.groups)
    engine_units = sorted(g.figures.stats.unit_count for g in result.groups)
    by_pn_station: dict[tuple[str, str, str], int] = {}
    for (pn, rev, _code, station), stats in reference.items():
        key = (pn, rev, station)
        by_pn_station[key] = by_pn_station.get(key, 0) + stats.unit_count
    assert engine_units == sorted(by_pn_station.values())


def test_filters_use_wildcards_names_and_the_first_run() -> None:
    assert view(INTERLEAVED, "today", "2025-03-04 12:00", pn=("PN-%",)).total.stats.unit_count == 6
    assert view(INTERLEAVED, "today", "2025-03-04 12:00", pn=("pn-a",)).total.stats.unit_count == 4
    by_name = view(INTERLEAVED, "today", "2025-03-04 12:00", process=("final",))
    assert by_name.total.stats.unit_count == 2
    both = view(INTERLEAVED, "today", "2025-03-04 12:00", process=("50;100",))
    assert both.total.stats.unit_count == 6
    # Unit 2 (PN-B) was first tested at ST-2: a filter on ST-1 leaves it out entirely.
    st1 = view(INTERLEAVED, "today", "2025-03-04 12:00", station=("ST-1",), process=("50",))
    assert st1.total.stats.unit_count == 2
    assert st1.total.stats.test_report_count == 2
    assert (
        view(INTERLEAVED, "today", "2025-03-04 12:00", pn=("nothing",)).total.stats.unit_count == 0
    )


def test_wildcard_matcher() -> None:
    match = wildcard_matcher(["PN-_0%", "other"])
    assert match("pn-10-x")
    assert match("OTHER")
    assert match("PN-100")
    assert not match("PN-110")  # the second character after PN- must be 0
    assert wildcard_matcher(["PN-1;PN-2"])("PN-2")


# ---------------------------------------------------------------- periods


NIGHT = [
    rec("A", "P", "2025-03-04 21:59"),  # afternoon shift
    rec("B", "F", "2025-03-04 22:00"),  # night shift from here
    rec("C", "P", "2025-03-04 23:30"),
    rec("D", "P", "2025-03-05 00:30"),
    rec("B", "P", "2025-03-05 01:00"),
    rec("E", "P", "2025-03-05 06:00"),  # morning shift
]


def test_a_night_shift_crossing_midnight_covers_both_days() -> None:
    result = view(NIGHT, "shift", "2025-03-05 02:00")
    assert result.window.shift == "Night"
    assert result.start == at("2025-03-04 22:00").timestamp()
    assert result.end == at("2025-03-05 06:00").timestamp()
    stats = result.total.stats
    assert (stats.unit_count, stats.fp_count, stats.sp_count) == (3, 2, 3)
    # 22:00 to 02:00 is four hours.
    assert result.total.units_per_hour == pytest.approx(3 / 4)
    assert "Night shift" in result.window.label
    # Before midnight the same shift is found from its first day.
    evening = view(NIGHT[:3], "shift", "2025-03-04 23:45")
    assert evening.start == result.start
    assert evening.total.stats.unit_count == 2
    assert evening.total.units_per_hour == pytest.approx(2 / 1.75)


def test_today_starts_at_local_midnight() -> None:
    result = view(NIGHT, "today", "2025-03-05 07:00")
    assert result.start == at("2025-03-05 00:00").timestamp()
    assert result.total.stats.unit_count == 2  # D at 00:30 and E at 06:00; B started yesterday


def test_a_night_shift_on_the_daylight_saving_night_is_seven_hours() -> None:
    # Oslo jumps from 02:00 to 03:00 on 30 March 2025.
    result = view([], "shift", "2025-03-30 05:00")
    assert result.window.shift == "Night"
    assert result.end is not None
    assert result.start is not None
    assert result.end - result.start == 7 * 3600


def test_a_gap_between_shifts_shows_the_shift_that_ended() -> None:
    shifts = YieldSettings.model_validate(
        {"shifts": [{"name": "Day", "start": "07:00", "end": "15:00"}]}
    )
    result = view(NIGHT, "shift", "2025-03-05 18:00", settings=shifts)
    assert result.window.shift == "Day"
    assert result.start == at("2025-03-05 07:00").timestamp()
    early = view(NIGHT, "shift", "2025-03-05 05:00", settings=shifts)
    assert early.start == at("2025-03-04 07:00").timestamp()


def test_last_n_units_rolling_hours_and_custom_ranges() -> None:
    last = view(NIGHT, "last:3", "2025-03-05 08:00")
    assert last.total.stats.unit_count == 3
    assert last.start == at("2025-03-04 23:30").timestamp()
    assert last.end == at("2025-03-05 06:00").timestamp()
    assert last.total.units_per_hour == pytest.approx(3 / 6.5)
    hours = view(NIGHT[:5], "hours:3", "2025-03-05 01:30")
    assert hours.total.stats.unit_count == 2  # C (23:30) and D (00:30)
    assert hours.end is None
    assert hours.start == at("2025-03-04 22:30").timestamp()
    assert view(NIGHT, "hours:0.5", "2025-03-05 06:10").total.stats.unit_count == 1
    days = view(NIGHT, "2025-03-04..2025-03-04", "2025-03-06 12:00")
    assert days.total.stats.unit_count == 3
    # B's retest after midnight still counts for the 4th: its first run was then.
    assert days.total.stats.test_report_count == 4
    times = view(NIGHT, "2025-03-04T22:00..2025-03-05T06:00", "2025-03-06 12:00")
    assert times.total.stats.unit_count == 3


def test_the_hourly_trend_counts_units_by_their_first_run() -> None:
    result = view(NIGHT, "shift", "2025-03-05 02:00")
    assert result.bucket_s == 3600
    assert len(result.trend) == 8
    assert [p.units for p in result.trend[:4]] == [1, 1, 1, 0]
    assert [p.first_pass for p in result.trend[:4]] == [0, 1, 1, 0]
    # Reports by their own start: B's retest at 01:00 lands in the 01:00 bucket.
    assert [p.reports for p in result.trend[:4]] == [1, 1, 1, 1]
    assert result.trend[0].start == at("2025-03-04 22:00").timestamp()
    assert result.trend[0].fpy == 0.0
    assert result.trend[3].fpy is None


def test_long_ranges_trend_by_day() -> None:
    result = view(NIGHT, "2025-03-01..2025-03-07", "2025-03-08 12:00")
    assert result.bucket_s == 86400
    assert len(result.trend) == 7
    assert result.trend[3].units == 3  # the 4th
    assert result.trend[4].units == 2


# ---------------------------------------------------------------- out of order


def test_reports_arriving_out_of_order_give_the_same_figures() -> None:
    ordered = view(PASSES_1_2_3_NEVER + NIGHT, "2025-03-04..2025-03-05", "2025-03-06 12:00")
    shuffled_records = PASSES_1_2_3_NEVER + NIGHT
    random.Random(7).shuffle(shuffled_records)
    shuffled = view(shuffled_records, "2025-03-04..2025-03-05", "2025-03-06 12:00")
    assert shuffled.total.to_dict() == ordered.total.to_dict()
    assert [p.to_dict() for p in shuffled.trend] == [p.to_dict() for p in ordered.trend]


def test_a_late_first_run_moves_the_unit_to_its_true_first_period() -> None:
    index = YieldIndex()
    # The retest (a pass at 23:00) arrives first ...
    index.apply([_row(1, "X", "P", "2025-03-04 23:00")])
    night = view(index, "shift", "2025-03-05 01:00")
    assert (night.total.stats.unit_count, night.total.stats.fp_count) == (1, 1)
    # ... then the real first run (a failure at 21:00, afternoon shift) turns up.
    index.apply([_row(2, "X", "F", "2025-03-04 21:00")])
    night = view(index, "shift", "2025-03-05 01:00")
    assert night.total.stats.unit_count == 0
    afternoon = view(index, "shift", "2025-03-04 21:30")
    stats = afternoon.total.stats
    assert (stats.unit_count, stats.fp_count, stats.sp_count, stats.test_report_count) == (
        1,
        0,
        1,
        2,
    )


def test_many_late_rows_in_one_batch_are_sorted_once() -> None:
    start = at("2025-03-04 08:00")
    index = YieldIndex()
    index.apply([_row(1, "NEW", "P", "2025-03-04 12:00")])
    late = [
        HeaderRow(
            key=2 + i,
            sn=f"S{i}",
            pn="PN-1",
            process_code=50,
            start_utc=(start + timedelta(seconds=i)).timestamp(),
            result="P" if i % 4 else "F",
        )
        for i in range(500)
    ]
    random.Random(3).shuffle(late)
    index.apply(late)
    result = view(index, "today", "2025-03-04 13:00")
    assert result.total.stats.unit_count == 501
    assert result.total.stats.fp_count == 501 - 125
    assert list(index.order_start) == sorted(index.order_start)


def test_a_resubmitted_row_replaces_its_earlier_version() -> None:
    index = YieldIndex()
    first = index.apply(
        [_row(1, "A", "F", "2025-03-04 08:00"), _row(2, "B", "P", "2025-03-04 08:01")]
    )
    assert (first.added, first.replaced) == (2, 0)
    again = index.apply([_row(1, "A", "F", "2025-03-04 08:00")])
    assert (again.added, again.replaced, again.unchanged) == (0, 0, 1)
    fixed = index.apply([_row(1, "A", "P", "2025-03-04 08:00")])
    assert fixed.replaced == 1
    assert fixed.processes == frozenset({50})
    result = view(index, "today", "2025-03-04 09:00")
    assert (result.total.stats.unit_count, result.total.stats.fp_count) == (2, 2)
    # A new serial number makes it another unit; the old unit disappears.
    index.apply([_row(1, "A2", "P", "2025-03-04 08:00")])
    result = view(index, "today", "2025-03-04 09:00")
    assert result.total.stats.unit_count == 2
    assert index.unit_count == 2
    # Without a start time it can no longer be counted: it is removed.
    gone = index.apply([HeaderRow(1, "A2", "PN-1", 50, None, "P")])
    assert gone.skipped == 1
    assert view(index, "today", "2025-03-04 09:00").total.stats.unit_count == 1


def test_keys_arriving_below_the_newest_are_still_found() -> None:
    index = YieldIndex()
    index.apply([_row(10, "A", "P", "2025-03-04 08:00"), _row(5, "B", "F", "2025-03-04 08:01")])
    assert index.apply([_row(5, "B", "F", "2025-03-04 08:01")]).unchanged == 1
    assert index.apply([_row(5, "B", "P", "2025-03-04 08:01")]).replaced == 1
    assert view(index, "today", "2025-03-04 09:00").total.stats.fp_count == 2


def _row(key: int, sn: str, result: str, when: str, **fields: object) -> HeaderRow:
    values: dict[str, object] = {"pn": "PN-1", "process_code": 50, "process_name": "PCBA test"}
    values.update(fields)
    return HeaderRow(
        key=key,
        sn=sn,
        start_utc=at(when).timestamp(),
        result=result,
        **values,  # type: ignore[arg-type]
    )


# ---------------------------------------------------------------- targets


def _targets(**levels: object) -> YieldSettings:
    target = {"process_code": 50, "fpy_warning": 0.9, "fpy_alarm": 0.8, **levels}
    return YieldSettings.model_validate({"targets": [target], "alarms": {"min_units": 4}})


def test_figures_are_judged_against_the_process_target() -> None:
    # 1 of 4 first-pass: below the alarm level.
    result = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00", settings=_targets())
    assert result.total.fpy_status == "alarm"
    assert result.total.target is not None
    assert result.total.to_dict()["target"]["fpy_warning"] == 0.9
    good = [rec(f"G{i}", "P", f"2025-03-04 08:{i:02d}") for i in range(9)]
    one_bad = [*good, rec("BAD", "F", "2025-03-04 08:30")]
    assert view(good, "today", "2025-03-04 12:00", settings=_targets()).total.fpy_status == "ok"
    warn = view(one_bad, "today", "2025-03-04 12:00", settings=_targets(fpy_warning=0.95))
    assert warn.total.fpy_status == "warning"
    few = view(PASSES_1_2_3_NEVER[:2], "today", "2025-03-04 12:00", settings=_targets())
    assert few.total.fpy_status == "few"
    no_target = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00")
    assert no_target.total.fpy_status == "none"
    assert no_target.total.target is None


def test_report_yield_and_rate_levels_colour_their_figures() -> None:
    settings = _targets(report_yield_warning=0.5, report_yield_alarm=0.2, units_per_hour_warning=1)
    result = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00", settings=settings)
    assert result.total.report_yield_status == "warning"  # 3 of 9
    assert result.total.rate_status == "warning"  # 4 units in 12 hours


def test_a_product_target_wins_and_mixed_processes_have_none() -> None:
    settings = YieldSettings.model_validate(
        {
            "targets": [
                {"process_code": 50, "fpy_warning": 0.99},
                {"process_code": 50, "pn": "PN-A", "fpy_warning": 0.5},
            ],
            "alarms": {"min_units": 1},
        }
    )
    result = view(INTERLEAVED, "today", "2025-03-04 12:00", by=("process", "pn"), settings=settings)
    rows = {(g.key["process_code"], g.key["pn"]): g.figures for g in result.groups}
    assert rows[50, "PN-A"].target is not None
    assert rows[50, "PN-A"].target.pn == "PN-A"
    assert rows[50, "PN-A"].fpy_status == "ok"
    assert rows[50, "PN-B"].target is not None
    assert rows[50, "PN-B"].target.pn is None
    assert rows[50, "PN-B"].fpy_status == "warning"
    assert rows[100, "PN-A"].target is None
    assert result.total.target is None  # two processes


def test_the_view_is_plain_json() -> None:
    import json

    data = view(INTERLEAVED, "shift", "2025-03-04 12:00").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["period"]["kind"] == "shift"
    assert data["trend"]["bucket_s"] == 3600
    assert data["total"]["units"] == 6
    assert data["runs_indexed"] == 8


# ---------------------------------------------------------------- property: same as reference


_results = st.sampled_from(["P", "F", "E", "P", "P"])


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, str, int, int, str]]:
    count = draw(st.integers(1, 40))
    return [
        (
            draw(st.sampled_from(["S1", "S2", "S3", "S4", "S5"])),
            draw(st.sampled_from(["PN-A", "PN-B"])),
            draw(st.sampled_from([50, 100])),
            draw(st.integers(0, 300)),  # minutes after 08:00 (ties happen)
            draw(_results),
        )
        for _ in range(count)
    ]


@settings(max_examples=150, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_any_history_in_any_arrival_order_matches_the_reference(
    history: list[tuple[str, str, int, int, str]], rnd: random.Random
) -> None:
    base = at("2025-03-04 08:00")
    records = [
        rec(
            sn,
            result,
            (base + timedelta(minutes=minute)).strftime("%Y-%m-%d %H:%M"),
            pn=pn,
            process=code,
        )
        for sn, pn, code, minute, result in history
    ]
    # Half of the day only: units whose first run is before 10:30.
    cutoff = base + timedelta(minutes=150)
    reference = compute_yield(records, first_run_filter=lambda r: r.start_utc < cutoff)
    rows = [
        HeaderRow(
            key=key,
            sn=r.sn,
            pn=r.pn,
            process_code=r.process_code,
            start_utc=r.start_utc.timestamp(),
            result=r.result,
        )
        for key, r in enumerate(records, start=1)
    ]
    arrival = rows[:]
    rnd.shuffle(arrival)
    index = YieldIndex()
    cut = rnd.randint(0, len(arrival))
    index.apply(arrival[:cut])
    index.apply(arrival[cut:])
    period = f"2025-03-04T00:00..{cutoff.replace(tzinfo=None).isoformat()}"
    engine = view(index, period, "2025-03-05 12:00").total.stats
    assert engine.unit_count == reference.unit_count
    assert engine.fp_count == reference.fp_count
    assert engine.sp_count == reference.sp_count
    assert engine.tp_count == reference.tp_count
    assert engine.lp_count == reference.lp_count
    assert engine.test_report_count == reference.test_report_count
    assert engine.passed_report_count == reference.passed_report_count


def test_the_station_zone_is_used_for_days() -> None:
    # 23:30 UTC on the 3rd is 00:30 on the 4th in Oslo (UTC+1 in March).
    assert at("2025-03-04 00:30").utcoffset() == timedelta(hours=1)
    assert TZ.key == "Europe/Oslo"
    records = [rec("A", "P", "2025-03-04 00:30")]
    assert view(records, "today", "2025-03-04 10:00").total.stats.unit_count == 1
    assert view(records, "today", "2025-03-03 23:59").total.stats.unit_count == 0


def test_empty_index_gives_empty_figures() -> None:
    result = view([], "last:10", "2025-03-04 10:00")
    assert result.total.stats.unit_count == 0
    assert result.total.stats.fpy is None
    assert result.trend == []
    assert result.total.units_per_hour is None
    assert result.groups == []
    assert result.to_dict()["total"]["fpy"] is None


def test_filter_to_dict_lists_only_set_filters() -> None:
    assert YieldFilter(pn=("A",), station=("S",)).to_dict() == {"pn": ["A"], "station": ["S"]}


def test_the_first_load_builds_the_same_index_as_apply() -> None:
    rnd = random.Random(5)
    base = at("2025-03-04 06:00").timestamp()
    rows = [
        HeaderRow(
            key=key,
            sn=f"S{rnd.randrange(300)}",
            pn=rnd.choice(["PN-A", "PN-B"]),
            process_code=rnd.choice([50, 100]),
            start_utc=base + rnd.randrange(36000),  # arriving out of start order
            result=rnd.choice(["P", "P", "F", "E"]),
            station=rnd.choice(["ST-1", "ST-2"]),
            failing_step_name=rnd.choice([None, "Probe"]),
        )
        for key in range(1, 2001)
    ]
    applied, loaded = YieldIndex(), YieldIndex()
    applied.apply(rows)
    for begin in range(0, len(rows), 500):
        assert loaded.load(rows[begin : begin + 500]) == 500
    for index in (applied, loaded):
        index.span(None, None)  # the late rows are put in start order before reading
    for column in ("start", "unit", "result", "attr", "step", "next", "key", "order", "unit_first"):
        assert list(getattr(loaded, column)) == list(getattr(applied, column)), column
    with pytest.raises(ValueError, match="increasing key order"):
        loaded.load(rows[:1])
    day = view(loaded, "today", "2025-03-05 00:00").total.to_dict()
    assert day == view(applied, "today", "2025-03-05 00:00").total.to_dict()


def test_units_whose_keys_share_a_hash_stay_apart() -> None:
    from app.core.yield_index import UnitTable

    index = YieldIndex()
    table = UnitTable()
    for unit, (pn_id, crc) in enumerate([(0, 11), (0, 12), (1, 11)]):
        index.unit_pn.append(pn_id)
        index.unit_process.append(50)
        index.unit_sn_crc.append(crc)
        found, slot = table.find(42, pn_id, 50, crc, index)
        assert found == -1
        table.put(slot, 42, unit)
    assert table.find(42, 0, 50, 12, index)[0] == 1
    assert table.find(42, 1, 50, 11, index)[0] == 2
    assert table.find(42, 1, 100, 11, index)[0] == -1
    # Growing keeps every unit findable.
    many = YieldIndex()
    many.apply(HeaderRow(k, f"SN{k}", "PN", 50, float(k), "P") for k in range(1, 5001))
    assert many.unit_count == 5000
    many.apply([HeaderRow(5001, "SN17", "PN", 50, 9999.0, "F")])
    assert many.unit_count == 5000
