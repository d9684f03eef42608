"""The server view's DynamicYield request and the reading of its rows; the shared wording."""

from __future__ import annotations

import pytest

from app.core.yield_engine import YieldFilter
from app.core.yield_server import server_request, server_rows
from app.core.yield_text import percent, rate, status_note, target_note


def test_the_request_covers_the_same_span_products_and_processes() -> None:
    body, dims = server_request(
        start=1_741_100_000.0,
        end=None,
        flt=YieldFilter(station=("ST-1",), operator=("kari",)),
        by=("process", "pn"),
        pns=["PN-B", "PN-A", "PN-A"],
        processes=["PCBA test"],
    )
    assert body == {
        "topCount": 500,
        "dateFrom": "2025-03-04T14:53:20Z",
        "partNumber": "PN-A;PN-B",
        "testOperation": "PCBA test",
        "stationName": "ST-1",
    }
    assert dims == "processCode;testOperation;partNumber;unitCount desc"
    own, _ = server_request(
        start=None, end=None, flt=YieldFilter(pn=("X%",)), by=(), pns=["PN-A"], processes=[]
    )
    assert own == {"topCount": 500, "partNumber": "X%"}


def test_rows_are_read_as_fractions_and_summed() -> None:
    rows = [
        {
            "partNumber": "PN-A",
            "unitCount": 10,
            "fpCount": 9,
            "fpy": 90.0,
            "testYield": 0.8,
            "testReportCount": 12,
            "testYieldCount": 10,
            "spCount": 10,
            "lpCount": 10,
        },
        {
            "partNumber": "PN-B",
            "unitCount": 10,
            "fpCount": 5,
            "fpy": 0.5,
            "testReportCount": 15,
            "testYieldCount": 9,
            "spCount": 8,
            "lpCount": 9,
        },
    ]
    result = server_rows(rows, ("pn",))
    assert [g["label"] for g in result["groups"]] == ["PN-A", "PN-B"]
    assert result["groups"][0]["fpy"] == pytest.approx(0.9)  # 90 read as percent
    assert result["groups"][1]["fpy"] == 0.5
    total = result["total"]
    assert (total["units"], total["first_pass"], total["reports"]) == (20, 14, 27)
    assert total["fpy"] == pytest.approx(0.7)
    assert total["report_yield"] == pytest.approx(19 / 27)
    assert server_rows([], ("pn",))["total"]["fpy"] is None


def test_wording() -> None:
    assert percent(0.25) == "25%"
    assert percent(1 / 3) == "33.3%"
    assert percent(None) == "-"
    assert rate(12.345) == "12.3"
    assert rate(1234.5) == "1,234"
    figures = {
        "status": {"fpy": "alarm", "report_yield": "few", "units_per_hour": "warning"},
        "target": {"fpy_warning": 0.95, "fpy_alarm": 0.9, "units_per_hour_warning": 20.0},
    }
    assert status_note(figures, "fpy") == "below alarm level 90%"
    assert status_note(figures, "report_yield") == "too few units to judge"
    assert status_note(figures, "units_per_hour") == "below target 20.0"
    assert target_note(figures, "fpy") == "target 95%"
    assert target_note(figures, "report_yield") == ""
    assert status_note({"status": {"fpy": "ok"}}, "fpy") == ""
