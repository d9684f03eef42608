"""`GET /api/Report/Query/Header` with its OData subset (wats-api.md §2.6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.devserver.odata import ODataError, parse_filter
from tests.integration.devserver.conftest import submit, uut

# Unit A: F then P at ST-1 (runs 1, 2); unit B: P at ST-2; unit C (other PN): E.
HISTORY = [
    uut("A", "F", "2025-03-01T08:00:00+00:00"),
    uut("A", "P", "2025-03-01T09:00:00+00:00"),
    uut("B", "P", "2025-03-01T10:00:00+01:00", machineName="ST-2"),  # 09:00 UTC
    uut("C", "E", "2025-03-02T08:00:00+00:00", pn="PN-2", processCode=50),
]


@pytest.fixture
def history(api: httpx.Client) -> list[dict[str, Any]]:
    for report in HISTORY:
        submit(api, report)
    return HISTORY


def query(api: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = api.get("/api/Report/Query/Header", params=params)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def sns(rows: list[dict[str, Any]]) -> list[str]:
    return [row["serialNumber"] for row in rows]


def test_rows_carry_the_header_fields(api: httpx.Client, history: list[dict[str, Any]]) -> None:
    rows = {row["uuid"]: row for row in query(api)}
    a1, a2, b, c = (rows[r["id"]] for r in history)
    assert (a1["run"], a1["passedInRun"], a2["run"], a2["passedInRun"]) == (1, 2, 2, 2)
    assert (b["run"], b["passedInRun"]) == (1, 1)
    assert (c["run"], c["passedInRun"]) == (1, 0)
    assert a1["result"] == "Failed"
    assert c["result"] == "Error"
    assert a1["reportType"] == "U"
    assert a1["processName"] == "End of line test"
    assert c["processName"] == "PCBA test"
    assert a1["receiveCount"] == 1
    assert a1["userName"] == "op1"
    assert b["stationName"] == "ST-2"
    assert b["start"] == "2025-03-01T10:00:00+01:00"
    assert a1["reportSize"] > 100
    assert a2["timeStamp"] > a1["timeStamp"]


def test_default_is_newest_first_and_ten_rows(api: httpx.Client) -> None:
    for i in range(12):
        submit(api, uut(f"S{i:02d}", start=f"2025-03-01T08:{i:02d}:00+00:00"))
    rows = query(api)
    assert sns(rows) == [f"S{i:02d}" for i in range(11, 1, -1)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("serialNumber eq 'A'", ["A", "A"]),
        ("serialNumber eq 'a'", ["A", "A"]),  # case-insensitive like WATS
        ("serialNumber ne 'A'", ["B", "C"]),
        ("result eq 'Passed'", ["A", "B"]),
        ("result eq 'Failed' or result eq 'Error'", ["A", "C"]),
        ("serialNumber eq 'A' and result eq 'Passed'", ["A"]),
        ("stationName eq 'ST-2'", ["B"]),
        ("processCode eq 50", ["C"]),
        ("processCode gt 50", ["A", "A", "B"]),
        ("processCode le 50", ["C"]),
        ("start ge 2025-03-01T09:00:00Z", ["A", "B", "C"]),
        ("start lt 2025-03-01T09:00:00Z", ["A"]),
        ("start gt 2025-03-01T09:30:00+01:00 and start le 2025-03-01T09:00:00Z", ["A", "B"]),
        ("start ge 2025-03-02", ["C"]),
        ("run eq 2", ["A"]),
        ("passedInRun eq 0", ["C"]),
        ("partNumber in ('PN-2', 'PN-9')", ["C"]),
        ("not (partNumber eq 'PN-1')", ["C"]),
        ("contains(stationName, 'st-')", ["A", "A", "B", "C"]),
        ("startswith(partNumber, 'PN-2')", ["C"]),
        ("endswith(serialNumber, 'b')", ["B"]),
        ("(result eq 'Passed' or result eq 'Error') and partNumber eq 'PN-1'", ["A", "B"]),
        ("'ST-2' eq stationName", ["B"]),
        ("comment eq null", []),
        ("errorCode eq null", ["A", "A", "B", "C"]),
        ("batchNumber eq ''", ["A", "A", "B", "C"]),
    ],
)
def test_filter(
    api: httpx.Client, history: list[dict[str, Any]], expression: str, expected: list[str]
) -> None:
    rows = query(api, **{"$filter": expression, "$orderby": "serialNumber"})
    assert sorted(sns(rows)) == expected


def test_filter_by_uuid(api: httpx.Client, history: list[dict[str, Any]]) -> None:
    report_id = history[2]["id"]
    assert sns(query(api, **{"$filter": f"uuid eq {report_id}"})) == ["B"]
    assert sns(query(api, **{"$filter": f"uuid eq '{report_id.upper()}'"})) == ["B"]


def test_orderby_top_skip(api: httpx.Client, history: list[dict[str, Any]]) -> None:
    assert sns(query(api, **{"$orderby": "start asc"})) == ["A", "A", "B", "C"]
    assert sns(query(api, **{"$orderby": "serialNumber desc, start asc"})) == ["C", "B", "A", "A"]
    assert sns(query(api, **{"$orderby": "start", "$top": 2, "$skip": 1})) == ["A", "B"]
    assert query(api, **{"$top": 0}) == []
    by_timestamp = query(api, **{"$orderby": "timeStamp desc"})
    assert [row["uuid"] for row in by_timestamp] == [r["id"] for r in reversed(history)]


def test_select_and_report_type(api: httpx.Client, history: list[dict[str, Any]]) -> None:
    rows = query(api, **{"$select": "serialNumber,run", "$orderby": "start"})
    assert rows[0] == {"serialNumber": "A", "run": 1}
    assert query(api, reportType="R") == []
    assert len(query(api, reportType="U")) == 4


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"$filter": "colour eq 'red'"}, ["unknown field", "colour"]),
        ({"$filter": "serialNumber eq"}, ["ends too early"]),
        ({"$filter": "serialNumber like 'A'"}, ["unknown operator", "like"]),
        ({"$filter": "serialNumber eq 'A' xor"}, ["unexpected", "xor"]),
        ({"$filter": "serialNumber eq 'A"}, ["cannot read"]),
        ({"$filter": "start ge 2025-13-45"}, ["2025-13-45", "not a valid date"]),
        ({"$top": "10001"}, ["$top", "10000"]),
        ({"$top": "ten"}, ["$top", "whole number"]),
        ({"$skip": "-1"}, ["$skip", "negative"]),
        ({"$orderby": "partNumber"}, ["$orderby", "partNumber"]),
        ({"$orderby": "start sideways"}, ["asc or desc"]),
        ({"$select": "serialNumber,nope"}, ["$select", "nope"]),
        ({"reportType": "X"}, ["reportType"]),
    ],
)
def test_bad_query_options(
    api: httpx.Client, history: list[dict[str, Any]], params: dict[str, str], words: list[str]
) -> None:
    response = api.get("/api/Report/Query/Header", params=params)
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["Message"]


def test_filter_field_names_are_checked_on_an_empty_server(api: httpx.Client) -> None:
    assert api.get("/api/Report/Query/Header?$filter=nope eq 1").status_code == 400
    assert query(api, **{"$filter": "serialNumber eq 'A'"}) == []


def test_parse_filter_needs_known_fields() -> None:
    predicate = parse_filter("a eq 1 and b eq 'x'", ["a", "b"])
    assert predicate({"a": 1, "b": "X"}) is True
    assert predicate({"a": 2, "b": "x"}) is False
    with pytest.raises(ODataError, match="unknown field 'c'"):
        parse_filter("c eq 1", ["a"])
