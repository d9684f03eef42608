"""The steps every converted report goes through before it is queued (DESIGN.md §3, §6).

Converters only read their format; everything the station adds is done here, once, for all
of them:

1. a report without an id (missing or all zeros) gets the deterministic id
   `uuid5(namespace, "<converter>:<sha256 of the file>:<index>")`, so converting the same
   bytes again yields the same ids and the queue (insert-or-ignore) stores nothing twice;
2. missing header fields come from the converter's fallback parameters: station name
   (machineName; default this station), location, purpose, operator, part number, revision,
   process code;
3. text is cleaned and held to the server's length limits (truncate or reject);
4. in Active mode (unless the converter always imports) verdicts are computed for test
   reports from their limits (wats-api.md §3.5);
5. start dates before 1970, which the server refuses, become the conversion time (§6.5).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from app.converters.base import Converter, ConverterParameters, Report
from app.core.report import UURReport, UUTReport, ensure_id, replace_invalid_dates
from app.core.report_ids import deterministic_report_id
from app.core.text_limits import enforce_limits
from app.core.verdict import apply_verdicts


def finalize_reports(
    reports: Sequence[Report],
    *,
    converter: Converter,
    params: ConverterParameters,
    file_sha256: str,
    station_default: str,
    now: datetime | None = None,
) -> list[Report]:
    """Finish `reports` (in place) in the order above and return them as a list.

    Raises `ReportError` when a report breaks a length limit in "reject" mode.
    """
    submit_time = now if now is not None else datetime.now().astimezone()
    finished: list[Report] = []
    for index, report in enumerate(reports):
        ensure_id(report, deterministic_report_id(converter.name, file_sha256, index))
        _fill_fallbacks(report, params, station_default)
        enforce_limits(report, params.validation_mode)
        if (
            params.mode == "active"
            and not converter.always_import
            and isinstance(report, UUTReport)
        ):
            apply_verdicts(report)
        replace_invalid_dates(report, submit_time)
        finished.append(report)
    return finished


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _fill_fallbacks(report: Report, params: ConverterParameters, station_default: str) -> None:
    if _blank(report.machine_name):
        report.machine_name = params.station or station_default
    if _blank(report.location) and params.location:
        report.location = params.location
    if _blank(report.purpose) and params.purpose:
        report.purpose = params.purpose
    if _blank(report.pn) and params.fallback_pn:
        report.pn = params.fallback_pn
    if _blank(report.rev) and params.fallback_rev:
        report.rev = params.fallback_rev
    if report.process_code is None:
        # A process given by name only gets the server's code for that name; an unknown or
        # missing name gets the converter's fallback code (the name is kept).
        name = (report.process_name or "").strip().lower()
        report.process_code = params.process_codes.get(name, params.fallback_process_code)
    if params.operator:
        unit = report.uur if isinstance(report, UURReport) else report.uut
        if _blank(unit.user):
            unit.user = params.operator
