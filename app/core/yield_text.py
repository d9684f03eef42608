"""How yield figures are written, shared by the dashboard and `wats-station yield` so both
show the same numbers the same way (a `yield.query` result is the input)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NONE = "-"
KPI_LEVELS = {
    # KPI in a query result → (warning level, alarm level) fields of its target.
    "fpy": ("fpy_warning", "fpy_alarm"),
    "report_yield": ("report_yield_warning", "report_yield_alarm"),
    "units_per_hour": ("units_per_hour_warning", None),
}


def percent(value: float | None, *, none: str = NONE) -> str:
    """0.8234 → `82.3%`; whole percentages without decimals (`100%`, `90%`)."""
    if value is None:
        return none
    text = f"{value * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def rate(value: float | None, *, none: str = NONE) -> str:
    """Units per hour: one decimal below 100, whole numbers above."""
    if value is None:
        return none
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def number(value: int | None, *, none: str = NONE) -> str:
    return none if value is None else f"{value:,}"


def status_note(figures: Mapping[str, Any], kpi: str) -> str:
    """Why a KPI is coloured, in words: `below target 90%`, `below alarm level 80%`, …;
    empty when it is on target or has no target."""
    status = (figures.get("status") or {}).get(kpi, "none")
    target = figures.get("target") or {}
    warning_key, alarm_key = KPI_LEVELS[kpi]
    show = rate if kpi == "units_per_hour" else percent
    if status == "alarm" and alarm_key and target.get(alarm_key) is not None:
        return f"below alarm level {show(target[alarm_key])}"
    if status == "warning" and target.get(warning_key) is not None:
        return f"below target {show(target[warning_key])}"
    if status == "few":
        return "too few units to judge"
    return ""


def target_note(figures: Mapping[str, Any], kpi: str) -> str:
    """`target 90%` when the KPI has a target, else empty."""
    target = figures.get("target") or {}
    warning_key, _ = KPI_LEVELS[kpi]
    if target.get(warning_key) is None:
        return ""
    show = rate if kpi == "units_per_hour" else percent
    return f"target {show(target[warning_key])}"


_TYPOGRAPHY = str.maketrans({"·": "/", "–": "-", "“": '"', "”": '"', "…": "..."})


def ascii_label(text: str) -> str:
    """Labels and messages use typographic marks; plain-text output writes them in ASCII
    (the data itself, a step or product name, is shown as it is)."""
    return text.translate(_TYPOGRAPHY)
