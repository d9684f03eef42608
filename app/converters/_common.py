"""Helpers shared by the built-in converters: word → letter maps, limits, model building.

The converters build each report as a WSJF-shaped dictionary (wats-api.md §3) and hand it to
`app.core.report.parse_report`, so every converter produces exactly what the WSJF converter
would for the same content, and the model's validation messages name the WSJF field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from app.converters.base import ConversionError, ConverterParameters, Report
from app.core.report import ReportError, parse_report

JsonDict = dict[str, Any]

STATUS_LETTERS: Final = {
    "passed": "P",
    "pass": "P",
    "p": "P",
    "failed": "F",
    "fail": "F",
    "f": "F",
    "done": "D",
    "d": "D",
    "skipped": "S",
    "skip": "S",
    "s": "S",
    "error": "E",
    "e": "E",
    "terminated": "T",
    "t": "T",
    "aborted": "T",
    "unknown": "U",
    "u": "U",
}
RESULT_LETTERS: Final = {
    word: letter for word, letter in STATUS_LETTERS.items() if letter in ("P", "F", "E", "T")
}
GROUP_LETTERS: Final = {
    "setup": "S",
    "s": "S",
    "main": "M",
    "m": "M",
    "cleanup": "C",
    "c": "C",
}
# Operators that compare against one limit: WSJF keeps that limit in lowLimit (§3.5).
SINGLE_LIMIT_OPS: Final = frozenset({"EQ", "NE", "GT", "GE", "LT", "LE"})
# The operators in the order of their C# numeric codes (wats-api.md §3.5): code 7 is GELE.
OPERATOR_CODES: Final = (
    "EQ", "NE", "GT", "LT", "GE", "LE", "GTLT", "GELE", "GELT", "GTLE",
    "LTGT", "LEGE", "LEGT", "LTGE", "LOG", "CASESENSIT", "IGNORECASE",
)  # fmt: skip
COMP_OPS: Final = frozenset(OPERATOR_CODES)
MAX_DEPTH: Final = 200


def letter(
    value: str | None, table: Mapping[str, str], what: str, default: str | None = None
) -> str | None:
    """Map a word (`Passed`, `Setup`, …) to its WSJF letter; ConversionError if unknown."""
    if value is None or not value.strip():
        return default
    found = table.get(value.strip().lower())
    if found is None:
        raise ConversionError(f"unknown {what} {value.strip()[:40]!r}")
    return found


def comp_op_name(value: str | None) -> str:
    """The WSJF operator name; unknown or missing means LOG (wats-api.md §3.5)."""
    if value is None:
        return "LOG"
    name = value.strip().upper()
    if name in ("CASESENSITIVE", "CASE_SENSITIVE"):
        return "CASESENSIT"
    if name in ("IGNORE_CASE", "CASEINSENSITIVE"):
        return "IGNORECASE"
    return name if name in COMP_OPS else "LOG"


def place_limits(
    comp_op: str, low: float | None, high: float | None
) -> tuple[float | None, float | None]:
    """Single-limit operators keep their limit in lowLimit, even LT/LE written as high."""
    if comp_op in SINGLE_LIMIT_OPS and low is None and high is not None:
        return high, None
    return low, high


def operator_for_limits(low: float | None, high: float | None) -> str:
    """The operator a file implies by the limits it gives: both GELE, one GE or LE, none LOG."""
    if low is not None and high is not None:
        return "GELE"
    if low is not None:
        return "GE"
    if high is not None:
        return "LE"
    return "LOG"


def measurement_status(step_status: str | None) -> str | None:
    """A measurement's status from its step's: measurements know only P, F and S, so a step's
    E or T counts as a failed measurement and any other letter (D, …) as a passed one."""
    if step_status in (None, "P", "F", "S"):
        return step_status
    return "F" if step_status in ("E", "T") else "P"


def drop_none(data: JsonDict) -> JsonDict:
    return {key: value for key, value in data.items() if value is not None}


def apply_fallbacks(report: JsonDict, params: ConverterParameters, *, uut: bool) -> None:
    """Fill what the file left out from the converter's common parameters."""
    if not report.get("pn") and params.fallback_pn:
        report["pn"] = params.fallback_pn
    if not report.get("rev") and params.fallback_rev:
        report["rev"] = params.fallback_rev
    if report.get("processCode") is None and not report.get("processName"):
        report["processCode"] = params.fallback_process_code
    if not report.get("machineName") and params.station:
        report["machineName"] = params.station
    if not report.get("location") and params.location:
        report["location"] = params.location
    if not report.get("purpose") and params.purpose:
        report["purpose"] = params.purpose
    section = report.setdefault("uut" if uut else "uur", {})
    if not section.get("user") and params.operator:
        section["user"] = params.operator


def build_report(data: JsonDict, where: str = "") -> Report:
    """Validate a WSJF dictionary into a report model; ConversionError names the field."""
    try:
        return parse_report(data)
    except ReportError as exc:
        prefix = f"{where}: " if where else ""
        raise ConversionError(f"{prefix}{exc}") from None


def guarded(read: Callable[[], list[Report]]) -> list[Report]:
    """Run a converter body, turning pathological nesting into a readable error."""
    try:
        reports = read()
    except RecursionError:
        raise ConversionError("the file is nested too deeply to read") from None
    if not reports:
        raise ConversionError("the file holds no reports")
    return reports
