"""Yield alarms: which conditions hold now, and which of them are new or have ended.

Three conditions, each judged per process over the units first tested within the last
`window_hours` (app.core.yield_settings.YieldAlarmSettings):

- `yield_fpy`: FPY of the newest `window_units` units is below a target's warning level
  (level "warning") or alarm level (level "alarm"), once at least `min_units` exist. A
  product with its own target is judged on its own units and left out of its process's.
- `yield_failures`: the newest `consecutive_failures` units all failed their first test.
- `yield_step`: one failing step caused at least `step_share` (and `step_min_failures`) of
  the newest `step_recent_failures` first-test failures, and at least `step_surge` times its
  share among the failures before those (looking back 4 × `window_hours`) — a step that
  suddenly dominates, not one that always leads the Pareto.

`evaluate` gives the conditions holding now; `AlarmTracker.update` turns successive
evaluations into raise-once / clear-when-over events. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from app.core.yield_index import NO_STEP, PASSED, YieldIndex
from app.core.yield_settings import YieldAlarmSettings, YieldSettings, YieldTarget

Level = Literal["warning", "alarm"]
FPY = "yield_fpy"
FAILURES = "yield_failures"
STEP = "yield_step"
KINDS = (FPY, FAILURES, STEP)
BASELINE_WINDOWS = 4  # the step baseline looks back this many alarm windows


@dataclass(frozen=True, slots=True)
class YieldAlarm:
    kind: str
    subject: str
    level: Level
    message: str
    process_code: int
    pn: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.subject)


@dataclass(frozen=True, slots=True)
class AlarmChanges:
    raised: list[YieldAlarm] = field(default_factory=list)
    cleared: list[YieldAlarm] = field(default_factory=list)
    updated: list[YieldAlarm] = field(default_factory=list)  # same level, new figures

    def __bool__(self) -> bool:
        return bool(self.raised or self.cleared or self.updated)


class AlarmTracker:
    """Remembers the active alarms so each is raised once and cleared once.

    A change of level (warning → alarm or back) clears the old alarm and raises the new one,
    so an escalation is announced; new figures at the same level only update the message.
    """

    def __init__(self) -> None:
        self.active: dict[tuple[str, str], YieldAlarm] = {}

    def update(self, current: Iterable[YieldAlarm]) -> AlarmChanges:
        now = {alarm.key: alarm for alarm in current}
        changes = AlarmChanges()
        for key, old in list(self.active.items()):
            new = now.get(key)
            if new is None or new.level != old.level:
                changes.cleared.append(old)
                del self.active[key]
        for key, alarm in now.items():
            known = self.active.get(key)
            if known is None:
                changes.raised.append(alarm)
            elif known.message != alarm.message:
                changes.updated.append(alarm)
            self.active[key] = alarm
        return changes


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%".replace(".0%", "%")


def evaluate(index: YieldIndex, settings: YieldSettings, now: float) -> list[YieldAlarm]:
    """The yield conditions that hold at `now` (epoch seconds)."""
    rules = settings.alarms
    if not rules.enabled:
        return []
    since = now - rules.window_hours * 3600
    recent = _first_runs_by_process(index, since, now)
    baseline_since = now - BASELINE_WINDOWS * rules.window_hours * 3600
    alarms: list[YieldAlarm] = []
    for code, runs in recent.items():
        name = index.process_label(code)
        alarms.extend(_fpy_alarms(index, settings, code, name, runs))
        alarms.extend(_failure_alarm(index, rules, code, name, runs))
    if rules.step_recent_failures:
        wider = _first_runs_by_process(index, baseline_since, now)
        for code, runs in wider.items():
            if code in recent:
                alarms.extend(_step_alarm(index, rules, code, runs, since))
    return alarms


def _first_runs_by_process(index: YieldIndex, since: float, now: float) -> dict[int, list[int]]:
    """Units' first runs with start in [since, now], newest first, per process code."""
    lo, hi = index.span(since, now + 1e-6)
    order, unit, first, process = index.order, index.unit, index.unit_first, index.unit_process
    by_code: dict[int, list[int]] = {}
    for pos in range(hi - 1, lo - 1, -1):
        run = order[pos]
        u = unit[run]
        if first[u] == run:
            by_code.setdefault(process[u], []).append(run)
    return by_code


def _fpy_alarms(
    index: YieldIndex, settings: YieldSettings, code: int, name: str, runs: Sequence[int]
) -> list[YieldAlarm]:
    targets = [t for t in settings.targets if t.process_code == code]
    if not targets:
        return []
    own = {t.pn.casefold() for t in targets if t.pn is not None}
    alarms: list[YieldAlarm] = []
    for target in targets:
        if target.pn is None:
            chosen = [r for r in runs if _pn(index, r).casefold() not in own]
            scope = name
        else:
            wanted = target.pn.casefold()
            chosen = [r for r in runs if _pn(index, r).casefold() == wanted]
            scope = f"{name}, {target.pn}"
        alarm = _fpy_alarm(
            index, settings=settings, target=target, code=code, scope=scope, runs=chosen
        )
        if alarm is not None:
            alarms.append(alarm)
    return alarms


def _pn(index: YieldIndex, run: int) -> str:
    return index.pns.values[index.unit_pn[index.unit[run]]]


def _fpy_alarm(
    index: YieldIndex,
    *,
    settings: YieldSettings,
    target: YieldTarget,
    code: int,
    scope: str,
    runs: Sequence[int],
) -> YieldAlarm | None:
    rules = settings.alarms
    window = runs[: rules.window_units]
    if len(window) < rules.min_units:
        return None
    passed = sum(1 for run in window if index.result[run] == PASSED)
    fpy = passed / len(window)
    level: Level
    if target.fpy_alarm is not None and fpy < target.fpy_alarm:
        level, limit, word = "alarm", target.fpy_alarm, "alarm level"
    elif fpy < target.fpy_warning:
        level, limit, word = "warning", target.fpy_warning, "target"
    else:
        return None
    message = (
        f"FPY of {scope} is {_pct(fpy)} over the last {len(window)} units, "
        f"below the {word} of {_pct(limit)}"
    )
    return YieldAlarm(FPY, scope, level, message, code, target.pn)


def _failure_alarm(
    index: YieldIndex, rules: YieldAlarmSettings, code: int, name: str, runs: Sequence[int]
) -> list[YieldAlarm]:
    count = rules.consecutive_failures
    if not count or len(runs) < count:
        return []
    newest = runs[:count]
    if any(index.result[run] == PASSED for run in newest):
        return []
    message = f"The last {count} units of {name} failed their first test"
    return [YieldAlarm(FAILURES, name, "alarm", message, code)]


def _step_alarm(
    index: YieldIndex, rules: YieldAlarmSettings, code: int, runs: Sequence[int], since: float
) -> list[YieldAlarm]:
    failures = [run for run in runs if index.result[run] != PASSED]
    recent = [run for run in failures[: rules.step_recent_failures] if index.start[run] >= since]
    if len(recent) < rules.step_min_failures:
        return []
    baseline = failures[len(recent) : len(recent) + rules.step_baseline_failures]
    counts: dict[int, int] = {}
    for run in recent:
        step = index.step[run]
        if step != NO_STEP:
            counts[step] = counts.get(step, 0) + 1
    if not counts:
        return []
    step, count = max(counts.items(), key=lambda item: (item[1], -item[0]))
    share = count / len(recent)
    if count < rules.step_min_failures or share < rules.step_share:
        return []
    before = 0.0
    if baseline:
        before = sum(1 for run in baseline if index.step[run] == step) / len(baseline)
    if share < rules.step_surge * before:
        return []
    step_name, step_path = index.steps.values[step]
    shown = step_name or step_path
    name = index.process_label(code)
    subject = f"{name}: {shown}"
    message = (
        f"Step “{shown}” caused {count} of the last {len(recent)} first-test failures "
        f"of {name}" + (f" (before: {_pct(before)} of failures)" if baseline else "")
    )
    return [YieldAlarm(STEP, subject, "warning", message, code)]
