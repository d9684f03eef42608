"""`POST /api/App/DynamicYield` and `POST /api/App/UutReport` on a hand-built history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.devserver.conftest import submit, uut

# PN-1 in process 100 (End of line test), five units:
#   A: P                -> FPY
#   B: F, P             -> SPY
#   C: F, F, P          -> TPY
#   D: F, F, F, P       -> only LPY
#   E: P, F             -> FPY, but its last run failed
# The first runs of A, B, C are at ST-1 on 1 March; D and E at ST-2 on 2 March; B's retest
# runs at ST-2 on 2 March. PN-2 in process 50: X passed, Y failed. Plus one repair report.
DAY1 = "2025-03-01T{:02d}:00:00+00:00"
DAY2 = "2025-03-02T{:02d}:00:00+00:00"
HISTORY = [
    uut("A", "P", DAY1.format(8)),
    uut("B", "F", DAY1.format(9)),
    uut("B", "P", DAY2.format(9), machineName="ST-2"),
    uut("C", "F", DAY1.format(10)),
    uut("C", "F", DAY1.format(11)),
    uut("C", "P", DAY1.format(12)),
    uut("D", "F", DAY2.format(8), machineName="ST-2"),
    uut("D", "F", DAY2.format(10), machineName="ST-2"),
    uut("D", "F", DAY2.format(11), machineName="ST-2"),
    uut("D", "P", DAY2.format(12), machineName="ST-2"),
    uut("E", "P", DAY2.format(9), machineName="ST-2"),
    uut("E", "F", DAY2.format(13), machineName="ST-2"),
    uut("X", "P", DAY1.format(8), pn="PN-2", processCode=50, machineName="ST-3"),
    uut("Y", "F", DAY1.format(9), pn="PN-2", processCode=50, machineName="ST-3"),
]
REPAIR = {
    **uut("B", "P", DAY1.format(10)),
    "type": "R",
    "processCode": 500,
    "root": None,
    "uur": {"processCode": 100},
}


@pytest.fixture
def history(api: httpx.Client) -> None:
    for report in [*HISTORY, REPAIR]:
        submit(api, report)


def dynamic_yield(api: httpx.Client, body: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    if body is None:
        response = api.post("/api/App/DynamicYield")
    else:
        response = api.post("/api/App/DynamicYield", json=body)
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


@pytest.mark.usefixtures("history")
def test_yield_per_part_number(api: httpx.Client) -> None:
    rows = dynamic_yield(api, {"dimensions": "partNumber"})
    assert [row["partNumber"] for row in rows] == ["PN-1", "PN-2"]
    pn1, pn2 = rows
    assert pn1["unitCount"] == 5
    assert (pn1["fpCount"], pn1["spCount"], pn1["tpCount"], pn1["lpCount"]) == (2, 3, 4, 4)
    assert pn1["fpy"] == pytest.approx(0.4)
    assert pn1["spy"] == pytest.approx(0.6)
    assert pn1["tpy"] == pytest.approx(0.8)
    assert pn1["lpy"] == pytest.approx(0.8)
    assert pn1["testReportCount"] == 12
    assert pn1["testYieldCount"] == 5
    assert pn1["testYield"] == pytest.approx(5 / 12)
    assert pn1["retestCount"] == 7
    assert pn1["fpFailCount"] == 3
    assert pn1["firstUtc"] == "2025-03-01T08:00:00Z"
    assert pn1["lastUtc"] == "2025-03-02T13:00:00Z"
    assert (pn2["unitCount"], pn2["fpy"], pn2["lpy"]) == (2, 0.5, 0.5)


@pytest.mark.usefixtures("history")
def test_no_dimensions_is_one_total_row(api: httpx.Client) -> None:
    (total,) = dynamic_yield(api, {"partNumber": "PN-1"})
    assert set(total) >= {"unitCount", "fpy", "spy", "tpy", "lpy", "testYield", "retestCount"}
    assert total["unitCount"] == 5
    assert "partNumber" not in total


@pytest.mark.usefixtures("history")
def test_filter_selects_units_by_first_run(api: httpx.Client) -> None:
    # B's first run was at ST-1; its ST-2 retest still counts for ST-1.
    (st1,) = dynamic_yield(api, {"stationName": "ST-1", "partNumber": "PN-1"})
    assert st1["unitCount"] == 3
    assert st1["testReportCount"] == 6
    assert (st1["fpCount"], st1["spCount"], st1["tpCount"]) == (1, 2, 3)
    (st2,) = dynamic_yield(api, {"stationName": "ST-2"})
    assert st2["unitCount"] == 2  # D and E only: B's first run was not at ST-2
    assert st2["lpCount"] == 1


@pytest.mark.usefixtures("history")
def test_date_range_applies_to_first_runs(api: httpx.Client) -> None:
    (day1,) = dynamic_yield(
        api,
        {
            "partNumber": "PN-1",
            "dateFrom": "2025-03-01T00:00:00Z",
            "dateTo": "2025-03-01T23:59:59Z",
        },
    )
    assert day1["unitCount"] == 3  # A, B, C
    assert day1["lastUtc"] == "2025-03-02T09:00:00Z"  # B's retest on day 2 counts
    (day2,) = dynamic_yield(api, {"dateFrom": "2025-03-02T00:00:00+00:00"})
    assert day2["unitCount"] == 2


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(
    ("value", "units"),
    [
        ("A;B", 2),
        ("%", 7),
        ("_", 7),
        ("a", 1),  # case-insensitive
        ("[AB]", 0),  # no regular expressions: brackets are literal
        ("Z%;X", 1),
    ],
)
def test_wildcards_and_lists(api: httpx.Client, value: str, units: int) -> None:
    rows = dynamic_yield(api, {"serialNumber": value})
    assert sum(row["unitCount"] for row in rows) == units


@pytest.mark.usefixtures("history")
def test_wildcards_match_the_whole_value(api: httpx.Client) -> None:
    (row,) = dynamic_yield(api, {"partNumber": "PN-%", "testOperation": "End%"})
    assert row["unitCount"] == 5
    (row,) = dynamic_yield(api, {"partNumber": "PN_2"})
    assert row["unitCount"] == 2
    assert dynamic_yield(api, {"partNumber": "PN"}) == []
    (by_code,) = dynamic_yield(api, {"testOperation": "50"})
    assert by_code["unitCount"] == 2


@pytest.mark.usefixtures("history")
def test_status_filter_on_first_run(api: httpx.Client) -> None:
    (failed_first,) = dynamic_yield(api, {"status": "Failed", "partNumber": "PN-1"})
    assert failed_first["unitCount"] == 3  # B, C, D
    assert failed_first["fpy"] == 0


@pytest.mark.usefixtures("history")
def test_dimensions_order_and_kpi_sort(api: httpx.Client) -> None:
    rows = dynamic_yield(api, {"dimensions": "stationName desc"})
    assert [row["stationName"] for row in rows] == ["ST-3", "ST-2", "ST-1"]
    rows = dynamic_yield(api, {"dimensions": "unitCount desc;stationName"})
    assert [(row["stationName"], row["unitCount"]) for row in rows] == [
        ("ST-1", 3),
        ("ST-2", 2),
        ("ST-3", 2),
    ]
    assert "fpy" in rows[0]  # a KPI used as a sort key does not hide the others
    rows = dynamic_yield(api, {"dimensions": "fpy asc;partNumber;processCode"})
    assert [(row["partNumber"], row["processCode"]) for row in rows] == [
        ("PN-1", 100),
        ("PN-2", 50),
    ]


@pytest.mark.usefixtures("history")
def test_dimensions_from_query_parameter(api: httpx.Client) -> None:
    response = api.post("/api/App/DynamicYield?dimensions=testOperation", json={"partNumber": "%"})
    names = sorted(row["testOperation"] for row in response.json())
    assert names == ["End of line test", "PCBA test"]


@pytest.mark.usefixtures("history")
def test_period_dimension(api: httpx.Client) -> None:
    rows = dynamic_yield(api, {"dimensions": "period;partNumber", "dateGrouping": 1})
    assert [(r["period"], r["partNumber"], r["unitCount"]) for r in rows] == [
        ("2025-03-01", "PN-1", 3),
        ("2025-03-01", "PN-2", 2),
        ("2025-03-02", "PN-1", 2),
    ]
    monthly = dynamic_yield(api, {"dimensions": "period", "dateGrouping": 3})
    assert [(r["period"], r["unitCount"]) for r in monthly] == [("2025-03", 7)]


@pytest.mark.usefixtures("history")
def test_empty_body_uses_the_server_defaults(api: httpx.Client) -> None:
    rows = dynamic_yield(api)
    assert [(r["partNumber"], r["testOperation"], r["unitCount"]) for r in rows] == [
        ("PN-1", "End of line test", 5),
        ("PN-2", "PCBA test", 2),
    ]


@pytest.mark.usefixtures("history")
def test_top_count(api: httpx.Client) -> None:
    rows = dynamic_yield(api, {"dimensions": "stationName", "topCount": 2})
    assert [row["stationName"] for row in rows] == ["ST-1", "ST-2"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"dimensions": "colour"}, ["'colour'", "dimension"]),
        ({"dimensions": "partNumber sideways"}, ["dimensions", "partNumber sideways"]),
        ({"dateFrom": "yesterday"}, ["'dateFrom'", "date"]),
        ({"serialNumber": 5}, ["'serialNumber'", "string"]),
        ({"topCount": "ten"}, ["'topCount'", "integer"]),
        ({"dimensions": "period", "dateGrouping": 9}, ["'dateGrouping'"]),
    ],
)
def test_bad_yield_filters(api: httpx.Client, body: dict[str, Any], words: list[str]) -> None:
    response = api.post("/api/App/DynamicYield", json=body)
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["Message"]


def test_yield_body_must_be_an_object(api: httpx.Client) -> None:
    response = api.post("/api/App/DynamicYield", json=[1])
    assert response.status_code == 400


def test_no_reports_no_rows(api: httpx.Client) -> None:
    assert dynamic_yield(api, {}) == []


@pytest.mark.usefixtures("history")
def test_uut_report_lists_recent_test_reports(api: httpx.Client) -> None:
    rows = api.post("/api/App/UutReport", json={"serialNumber": "D;E"}).json()
    assert [(r["serialNumber"], r["start"]) for r in rows] == [
        ("E", "2025-03-02T13:00:00+00:00"),
        ("D", "2025-03-02T12:00:00+00:00"),
        ("D", "2025-03-02T11:00:00+00:00"),
        ("D", "2025-03-02T10:00:00+00:00"),
        ("E", "2025-03-02T09:00:00+00:00"),
        ("D", "2025-03-02T08:00:00+00:00"),
    ]
    assert rows[0]["run"] == 2
    everything = api.post("/api/App/UutReport").json()
    assert len(everything) == len(HISTORY)  # the repair report is not a UUT report
    top = api.post("/api/App/UutReport", json={"topCount": 3}).json()
    assert len(top) == 3
