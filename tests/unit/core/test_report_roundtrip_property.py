"""Property: any report the model can hold survives parse → to_json → parse unchanged."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.report import CompOp, UUTReport, parse_report
from app.core.verdict import apply_verdicts

# Text without surrogates (JSON cannot carry a lone one faithfully).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
OPTIONAL_TEXT = st.none() | TEXT
FLOAT = st.floats(allow_nan=False, allow_infinity=False, width=64)
OPTIONAL_FLOAT = st.none() | FLOAT
INT16 = st.integers(-32768, 32767)
ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=1)),
        timezone(timedelta(hours=-5)),
        timezone(timedelta(hours=5, minutes=30)),
    ]
)
DATETIME = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=ZONES
)
UUIDS = st.uuids(version=4).map(str)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _drop_none(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


NUMERIC = st.builds(
    _drop_none,
    name=OPTIONAL_TEXT,
    status=st.sampled_from(["P", "F", "S"]),
    value=OPTIONAL_FLOAT,
    unit=OPTIONAL_TEXT,
    compOp=st.sampled_from([op.value for op in CompOp]),
    lowLimit=OPTIONAL_FLOAT,
    highLimit=OPTIONAL_FLOAT,
)
BOOLEAN = st.builds(_drop_none, name=OPTIONAL_TEXT, status=st.sampled_from(["P", "F", "S"]))
STRING = st.builds(
    _drop_none,
    name=OPTIONAL_TEXT,
    status=st.sampled_from(["P", "F"]),
    value=OPTIONAL_TEXT,
    compOp=st.sampled_from(["LOG", "CASESENSIT", "IGNORECASE"]),
    limit=OPTIONAL_TEXT,
)
CHART = st.builds(
    _drop_none,
    chartType=st.sampled_from(["Line", "LineLogX", "LineLogY", "LineLogXY"]),
    label=OPTIONAL_TEXT,
    series=st.lists(
        st.builds(_drop_none, dataType=st.just("XYG"), name=TEXT, xdata=TEXT, ydata=TEXT),
        max_size=2,
    ),
)


def _leaf(**fields: Any) -> dict[str, Any]:
    return _drop_none(**fields)


LEAF = st.builds(
    _leaf,
    id=st.integers(0, 100_000),
    group=st.sampled_from(["S", "M", "C"]),
    stepType=st.sampled_from(["ET_NLT", "ET_MNLT", "ET_PFT", "ET_SVT", "ET_A", "NI_Wait"]),
    name=OPTIONAL_TEXT,
    status=st.sampled_from(["P", "F", "D", "S", "E", "T", "U"]),
    start=st.none() | DATETIME.map(_iso),
    totTime=OPTIONAL_FLOAT,
    reportText=OPTIONAL_TEXT,
    causedUUTFailure=st.booleans(),
    numericMeas=st.none() | st.lists(NUMERIC, min_size=1, max_size=3),
    booleanMeas=st.none() | st.lists(BOOLEAN, min_size=1, max_size=2),
    stringMeas=st.none() | st.lists(STRING, min_size=1, max_size=2),
    chart=st.none() | CHART,
    loop=st.none() | st.builds(_drop_none, idx=st.none() | INT16, num=st.none() | INT16),
)


def _sequence(children: list[dict[str, Any]], name: str, status: str) -> dict[str, Any]:
    return {
        "stepType": "SequenceCall",
        "name": name,
        "status": status,
        "seqCall": {"path": "seq.py", "name": name, "version": "1"},
        "steps": children,
    }


STEPS = st.recursive(
    LEAF,
    lambda children: st.builds(
        _sequence, st.lists(children, max_size=4), TEXT, st.sampled_from(["P", "F", "D"])
    ),
    max_leaves=12,
)


@st.composite
def uut_documents(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(DATETIME)
    return {
        "type": "T",
        "id": draw(UUIDS),
        "pn": draw(TEXT),
        "sn": draw(TEXT),
        "rev": draw(TEXT),
        "processCode": draw(INT16),
        "result": draw(st.sampled_from(["P", "F", "E", "T"])),
        "machineName": draw(TEXT),
        "location": draw(OPTIONAL_TEXT),
        "start": start.isoformat(),
        "startUTC": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "uut": draw(st.builds(_drop_none, user=OPTIONAL_TEXT, execTime=OPTIONAL_FLOAT)),
        "miscInfos": draw(
            st.lists(st.builds(_drop_none, description=TEXT, text=OPTIONAL_TEXT), max_size=2)
        ),
        "root": _sequence(draw(st.lists(STEPS, max_size=4)), "MainSequence Callback", "P"),
    }


@st.composite
def uur_documents(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(DATETIME)
    failure = st.builds(_drop_none, category=TEXT, code=TEXT, comRef=OPTIONAL_TEXT, refStepId=INT16)
    unit = st.builds(
        _drop_none,
        partType=TEXT,
        pn=TEXT,
        sn=TEXT,
        rev=TEXT,
        idx=st.integers(0, 5),
        failures=st.none() | st.lists(failure, max_size=2),
    )
    return {
        "type": "R",
        "id": draw(UUIDS),
        "pn": draw(TEXT),
        "sn": draw(TEXT),
        "rev": draw(TEXT),
        "processCode": draw(INT16),
        "result": "P",
        "machineName": draw(TEXT),
        "start": start.isoformat(),
        "startUTC": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "uur": {
            "user": draw(TEXT),
            "processCode": draw(INT16),
            "refUUT": str(uuid.uuid4()),
            "finalizeDate": draw(DATETIME).astimezone(UTC).isoformat(),
        },
        "subUnits": draw(st.lists(unit, max_size=3)),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uut_documents() | uur_documents())
def test_parse_write_parse_is_the_identity(document: dict[str, Any]) -> None:
    first = parse_report(json.dumps(document))
    written = first.to_json()
    second = parse_report(written)
    assert second == first
    assert second.to_json() == written


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(uut_documents())
def test_verdicts_survive_the_round_trip_and_are_stable(document: dict[str, Any]) -> None:
    report = parse_report(json.dumps(document))
    assert isinstance(report, UUTReport)
    apply_verdicts(report)
    written = report.to_json()
    again = parse_report(written)
    assert isinstance(again, UUTReport)
    apply_verdicts(again)
    assert again.to_json() == written  # applying verdicts twice changes nothing
