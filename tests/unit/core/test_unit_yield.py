"""Unit yield rules (wats-api.md §2.5) on small hand-built histories with known answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.unit_yield import (
    YieldRecord,
    build_units,
    compute_yield,
    group_yield,
    run_numbers,
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def rec(sn: str, result: str, minutes: int, **kw: object) -> YieldRecord:
    fields: dict[str, object] = {"pn": "PN-1", "process_code": 100, "station": "ST-1"}
    fields.update(kw)
    return YieldRecord(
        sn=sn,
        start_utc=T0 + timedelta(minutes=minutes),
        result=result,
        **fields,  # type: ignore[arg-type]
    )


# Five units of PN-1 in process 100:
#   A: P              -> passed in run 1
#   B: F, P           -> passed in run 2
#   C: F, F, P        -> passed in run 3
#   D: F, F, F, P     -> passed in run 4 (only LPY)
#   E: P, F           -> first pass, but the last run failed
HISTORY = [
    rec("A", "P", 0),
    rec("B", "F", 1),
    rec("B", "P", 11),
    rec("C", "F", 2),
    rec("C", "F", 12),
    rec("C", "P", 22),
    rec("D", "F", 3),
    rec("D", "E", 13),
    rec("D", "T", 23),
    rec("D", "P", 33),
    rec("E", "P", 4),
    rec("E", "F", 14),
]


def test_counts_and_yields_on_known_history() -> None:
    stats = compute_yield(HISTORY)
    assert stats.unit_count == 5
    assert (stats.fp_count, stats.sp_count, stats.tp_count, stats.lp_count) == (2, 3, 4, 4)
    assert stats.fpy == pytest.approx(0.4)
    assert stats.spy == pytest.approx(0.6)
    assert stats.tpy == pytest.approx(0.8)
    assert stats.lpy == pytest.approx(0.8)
    assert stats.test_report_count == 12
    assert stats.passed_report_count == 5
    assert stats.test_yield == pytest.approx(5 / 12)
    assert stats.retest_count == 7
    assert stats.fp_fail_count == 3
    assert stats.lp_fail_count == 1
    assert stats.first_utc == T0
    assert stats.last_utc == T0 + timedelta(minutes=33)


def test_runs_are_ordered_by_start_not_by_input_order() -> None:
    shuffled = [rec("X", "P", 30), rec("X", "F", 0), rec("X", "F", 10)]
    (unit,) = build_units(shuffled)
    assert [run.result for run in unit.runs] == ["F", "F", "P"]
    assert unit.passed_in_run == 3
    stats = compute_yield(shuffled)
    assert (stats.fp_count, stats.sp_count, stats.tp_count, stats.lp_count) == (0, 0, 1, 1)


def test_runs_in_other_time_zones_order_by_instant() -> None:
    cet = datetime.fromisoformat("2025-03-01T09:30:00+01:00")
    early_in_cet = YieldRecord("X", "PN", 1, cet, "F")  # 08:30 UTC
    later_in_utc = YieldRecord("X", "PN", 1, T0 + timedelta(minutes=45), "P")  # 08:45 UTC
    (unit,) = build_units([later_in_utc, early_in_cet])
    assert unit.runs == (early_in_cet, later_in_utc)


def test_unit_is_sn_and_pn_within_one_process() -> None:
    records = [
        rec("S1", "F", 0, pn="PN-1", process_code=50),
        rec("S1", "P", 1, pn="PN-1", process_code=100),  # other process: its own unit
        rec("S1", "P", 2, pn="PN-2", process_code=50),  # other part number: its own unit
    ]
    stats = compute_yield(records)
    assert stats.unit_count == 3
    assert stats.fp_count == 2


def test_filter_applies_to_first_run_and_then_all_runs_count() -> None:
    # B's first run was at ST-1 and its retest at ST-2; C was first tested at ST-2.
    records = [
        rec("B", "F", 0, station="ST-1"),
        rec("B", "P", 10, station="ST-2"),
        rec("C", "P", 5, station="ST-2"),
    ]
    at_st1 = compute_yield(records, first_run_filter=lambda r: r.station == "ST-1")
    assert at_st1.unit_count == 1
    assert at_st1.test_report_count == 2  # the ST-2 retest of B counts too
    assert (at_st1.fp_count, at_st1.sp_count) == (0, 1)

    at_st2 = compute_yield(records, first_run_filter=lambda r: r.station == "ST-2")
    assert at_st2.unit_count == 1
    assert at_st2.fpy == 1.0


def test_date_window_selects_units_by_first_run() -> None:
    window_end = T0 + timedelta(minutes=2, seconds=30)
    in_window = compute_yield(HISTORY, first_run_filter=lambda r: r.start_utc <= window_end)
    # A, B and C started inside the window; their later runs still count.
    assert in_window.unit_count == 3
    assert in_window.test_report_count == 6
    assert in_window.last_utc == T0 + timedelta(minutes=22)


def test_no_units_gives_no_yield() -> None:
    stats = compute_yield([])
    assert stats.unit_count == 0
    assert stats.fpy is None
    assert stats.test_yield is None
    assert stats.first_utc is None


def test_group_yield_by_field_names_and_functions() -> None:
    records = [
        *HISTORY,
        rec("Z1", "P", 0, pn="PN-2"),
        rec("Z2", "F", 1, pn="PN-2"),
    ]
    groups = {g.key: g.stats for g in group_yield(records, ["pn", lambda r: r.process_code])}
    assert set(groups) == {("PN-1", 100), ("PN-2", 100)}
    assert groups[("PN-1", 100)].unit_count == 5
    assert groups[("PN-2", 100)].unit_count == 2
    assert groups[("PN-2", 100)].fpy == pytest.approx(0.5)
    assert groups[("PN-2", 100)].lpy == pytest.approx(0.5)


def test_group_puts_a_unit_in_the_group_of_its_first_run() -> None:
    records = [rec("B", "F", 0, station="ST-1"), rec("B", "P", 10, station="ST-2")]
    groups = group_yield(records, ["station"])
    assert [(g.key, g.stats.unit_count, g.stats.test_report_count) for g in groups] == [
        (("ST-1",), 1, 2)
    ]


def test_group_without_dimensions_is_one_total_row() -> None:
    (total,) = group_yield(HISTORY, [])
    assert total.key == ()
    assert total.stats == compute_yield(HISTORY)
    assert group_yield([], []) == []


def test_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="colour"):
        group_yield(HISTORY, ["colour"])


def test_run_numbers_for_report_headers() -> None:
    records = [
        rec("B", "F", 0, report_id="b1"),
        rec("B", "P", 10, report_id="b2"),
        rec("B", "F", 20, report_id="b3"),
        rec("N", "F", 0, report_id="n1"),
    ]
    assert run_numbers(records) == {"b1": (1, 2), "b2": (2, 2), "b3": (3, 2), "n1": (1, 0)}
