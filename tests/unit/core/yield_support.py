"""Hand-built histories for the yield engine tests: records with readable local times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.core.unit_yield import YieldRecord
from app.core.yield_engine import YieldFilter, YieldQuery, YieldView, run_query
from app.core.yield_index import YieldIndex
from app.core.yield_periods import parse_period
from app.core.yield_settings import YieldSettings

TZ = ZoneInfo("Europe/Oslo")


def at(text: str) -> datetime:
    """'2025-03-04 10:15' in the station's zone."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def rec(
    sn: str,
    result: str,
    when: str,
    *,
    pn: str = "PN-1",
    process: int = 50,
    step: str = "",
    path: str = "",
    **fields: object,
) -> YieldRecord:
    return YieldRecord(
        sn=sn,
        pn=pn,
        process_code=process,
        start_utc=at(when),
        result=result,
        failing_step_name=step,
        failing_step_path=path,
        process_name=str(fields.pop("process_name", {50: "PCBA test", 100: "Final"}.get(process))),
        **fields,  # type: ignore[arg-type]
    )


def view(
    records: list[YieldRecord] | YieldIndex,
    period: str,
    now: str,
    *,
    by: tuple[str, ...] = ("process",),
    settings: YieldSettings | None = None,
    **filters: tuple[str, ...],
) -> YieldView:
    index = records if isinstance(records, YieldIndex) else YieldIndex.from_records(records)
    query = YieldQuery(
        period=parse_period(period),
        filter=YieldFilter(**filters),
        by=by,  # type: ignore[arg-type]
    )
    return run_query(index, query, at(now), settings or YieldSettings())
