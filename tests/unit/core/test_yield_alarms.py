"""Yield alarms: a run of failures raises once, recovery clears; FPY levels; a dominant step."""

from __future__ import annotations

from datetime import timedelta

from app.core.yield_alarms import FAILURES, FPY, STEP, AlarmTracker, YieldAlarm, evaluate
from app.core.yield_index import HeaderRow, YieldIndex
from app.core.yield_settings import YieldSettings
from tests.unit.core.yield_support import at

START = at("2025-03-04 08:00")


class Line:
    """A test line feeding units one minute apart into an index, evaluated after each."""

    def __init__(self, settings: YieldSettings) -> None:
        self.index = YieldIndex()
        self.settings = settings
        self.tracker = AlarmTracker()
        self.minute = 0
        self.raised: list[YieldAlarm] = []
        self.cleared: list[YieldAlarm] = []

    def unit(
        self,
        result: str,
        *,
        pn: str = "PN-1",
        step: str = "",
        process: int = 50,
        check: bool = True,
    ) -> None:
        self.minute += 1
        key = len(self.index.key) + 1
        when = START + timedelta(minutes=self.minute)
        self.index.apply(
            [
                HeaderRow(
                    key=key,
                    sn=f"SN{key}",
                    pn=pn,
                    process_code=process,
                    start_utc=when.timestamp(),
                    result=result,
                    process_name="PCBA test" if process == 50 else "Final",
                    failing_step_name=step or None,
                    failing_step_path=f"Main/{step}" if step else None,
                )
            ]
        )
        if check:
            self.check()

    def check(self, minutes_later: float = 0) -> None:
        now = (START + timedelta(minutes=self.minute + minutes_later)).timestamp()
        changes = self.tracker.update(evaluate(self.index, self.settings, now))
        self.raised.extend(changes.raised)
        self.cleared.extend(changes.cleared)

    def kinds(self, alarms: list[YieldAlarm]) -> list[tuple[str, str]]:
        return [(a.kind, a.level) for a in alarms]


def settings(**alarms: object) -> YieldSettings:
    rules = {"consecutive_failures": 3, "min_units": 10, "window_units": 10, **alarms}
    return YieldSettings.model_validate({"alarms": rules})


def test_a_run_of_failures_raises_once_and_recovery_clears_it() -> None:
    line = Line(settings())
    for _ in range(5):
        line.unit("P")
    line.unit("F")
    line.unit("F")
    assert line.raised == []
    line.unit("F")  # the third in a row
    assert line.kinds(line.raised) == [(FAILURES, "alarm")]
    assert line.raised[0].message == "The last 3 units of 50 PCBA test failed their first test"
    assert line.raised[0].subject == "50 PCBA test"
    for _ in range(4):  # still failing: no second raise
        line.unit("E")
    assert len(line.raised) == 1
    assert line.cleared == []
    line.unit("P")  # recovery
    assert line.kinds(line.cleared) == [(FAILURES, "alarm")]
    line.unit("P")
    assert len(line.raised) == 1
    assert len(line.cleared) == 1


def test_failures_in_another_process_do_not_count() -> None:
    line = Line(settings())
    line.unit("F")
    line.unit("F", process=100)
    line.unit("F")
    line.unit("F", process=100)
    assert line.raised == []
    line.unit("F")
    line.unit("F", process=100)
    assert sorted(a.subject for a in line.raised) == ["100 Final", "50 PCBA test"]


def test_the_alarm_ends_when_its_units_leave_the_window() -> None:
    line = Line(settings(window_hours=1))
    for _ in range(3):
        line.unit("F")
    assert len(line.raised) == 1
    line.check(minutes_later=57)  # all three still started within the last hour
    assert line.cleared == []
    line.check(minutes_later=65)  # the failed units are older than an hour now
    assert len(line.cleared) == 1


def _with_target(**rules: object) -> YieldSettings:
    return YieldSettings.model_validate(
        {
            "targets": [{"process_code": 50, "fpy_warning": 0.9, "fpy_alarm": 0.8}],
            "alarms": {"consecutive_failures": 0, "min_units": 10, "window_units": 10, **rules},
        }
    )


def test_fpy_below_target_warns_then_escalates_then_clears() -> None:
    line = Line(_with_target())
    for _ in range(8):
        line.unit("P")
    line.unit("F")
    assert line.raised == []  # nine units: too few to judge
    line.unit("F")  # 8 of 10 = 80%: below the target 90%, not below the alarm level 80%
    assert line.kinds(line.raised) == [(FPY, "warning")]
    assert "FPY of 50 PCBA test is 80% over the last 10 units" in line.raised[0].message
    assert "target of 90%" in line.raised[0].message
    line.unit("F")  # 7 of the newest 10: below 80%
    assert line.kinds(line.raised) == [(FPY, "warning"), (FPY, "alarm")]
    assert line.kinds(line.cleared) == [(FPY, "warning")]
    assert "alarm level of 80%" in line.raised[-1].message
    line.unit("F")  # still an alarm: nothing new
    assert len(line.raised) == 2
    for _ in range(10):  # the window fills with passes
        line.unit("P")
    assert line.kinds(line.cleared) == [(FPY, "warning"), (FPY, "alarm"), (FPY, "warning")]
    assert line.kinds(line.raised) == [(FPY, "warning"), (FPY, "alarm"), (FPY, "warning")]
    assert line.tracker.active == {}


def test_a_product_target_is_judged_on_its_own_units() -> None:
    settings_ = YieldSettings.model_validate(
        {
            "targets": [
                {"process_code": 50, "fpy_warning": 0.9},
                {"process_code": 50, "pn": "HARD", "fpy_warning": 0.5},
            ],
            "alarms": {"consecutive_failures": 0, "min_units": 4, "window_units": 4},
        }
    )
    line = Line(settings_)
    for result in ("P", "F", "P", "F"):  # 50% for HARD: on its own target
        line.unit(result, pn="HARD")
    for _ in range(4):
        line.unit("P", pn="EASY")
    assert line.raised == []  # the process target does not see HARD's failures
    line.unit("F", pn="HARD")  # HARD: 1 of the newest 4 pass
    assert [(a.kind, a.subject) for a in line.raised] == [(FPY, "50 PCBA test, HARD")]


def test_a_step_that_suddenly_dominates_the_failures_warns() -> None:
    line = Line(settings(consecutive_failures=0, step_recent_failures=6, step_min_failures=4))
    # Baseline: failures spread over several steps, with passes between.
    for step in ("A", "B", "C", "D", "A", "B", "C", "D"):
        line.unit("P")
        line.unit("F", step=step)
    assert line.raised == []
    for _ in range(4):  # "Probe" now causes 4 of the newest 6 failures
        line.unit("P")
        line.unit("F", step="Probe")
    assert [(a.kind, a.level) for a in line.raised] == [(STEP, "warning")]
    alarm = line.raised[0]
    assert alarm.subject == "50 PCBA test: Probe"
    assert "caused 4 of the last 6 first-test failures" in alarm.message
    for step in ("A", "B", "C"):  # other failures push Probe below 60% of the newest 6
        line.unit("F", step=step)
    assert [(a.kind, a.subject) for a in line.cleared] == [(STEP, "50 PCBA test: Probe")]


def test_a_step_that_always_leads_is_not_sudden() -> None:
    line = Line(settings(consecutive_failures=0, step_recent_failures=6, step_min_failures=4))
    for _ in range(20):  # yesterday's history: Probe led the failures then too
        line.unit("P", check=False)
        line.unit("F", step="Probe", check=False)
    for _ in range(10):
        line.unit("P")
        line.unit("F", step="Probe")
    assert line.raised == []


def test_with_no_history_a_step_causing_most_failures_warns() -> None:
    line = Line(settings(consecutive_failures=0, step_recent_failures=6, step_min_failures=4))
    for _ in range(4):
        line.unit("P")
        line.unit("F", step="Probe")
    assert [a.message for a in line.raised] == [
        "Step “Probe” caused 4 of the last 4 first-test failures of 50 PCBA test"
    ]


def test_disabled_alarms_raise_nothing() -> None:
    line = Line(settings(enabled=False))
    for _ in range(6):
        line.unit("F")
    assert line.raised == []


def test_tracker_updates_a_message_without_raising_again() -> None:
    tracker = AlarmTracker()
    first = YieldAlarm(FPY, "50", "warning", "FPY 85%", 50)
    assert tracker.update([first]).raised == [first]
    second = YieldAlarm(FPY, "50", "warning", "FPY 84%", 50)
    changes = tracker.update([second])
    assert changes.raised == []
    assert changes.updated == [second]
    assert not tracker.update([second])
    assert tracker.update([]).cleared == [second]
