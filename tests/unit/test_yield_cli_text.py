"""`wats-station yield` text: the dashboard's figures as lines (no worker needed)."""

from __future__ import annotations

import re

from app.commands.yield_figures import render, render_server
from app.core.yield_settings import YieldSettings
from tests.unit.core.test_yield_engine import PASSES_1_2_3_NEVER
from tests.unit.core.yield_support import view


def test_render_shows_kpis_breakdown_trend_pareto_and_alarms() -> None:
    settings = YieldSettings.model_validate(
        {"targets": [{"process_code": 50, "fpy_warning": 0.9}], "alarms": {"min_units": 2}}
    )
    data = view(PASSES_1_2_3_NEVER, "today", "2025-03-04 12:00", by=("pn",), settings=settings)
    document = data.to_dict()
    document["alarms"] = [{"level": "warning", "message": "FPY of 50 PCBA test is 25% …"}]
    text = "\n".join(render(document))
    assert text.isascii()
    assert text.startswith("Yield - Today Tue 04 Mar 2025 - as of 2025-03-04 ")
    assert re.search(r"FPY\s+25%\s+BELOW TARGET 90%", text)
    assert re.search(r"Report yield\s+33.3%\n", text)
    assert "SPY 50%   TPY 75%   LPY 75%" in text
    assert re.search(r"PN-1\s+4\s+25% !\s+50%", text)
    assert re.search(r"Current\s+3\s+50%\s+50%", text)
    assert re.search(r"Firmware\s+1\s+16.7%\s+100%", text)
    assert "WARNING FPY of 50 PCBA test is 25% ..." in text
    assert "Yield alarms" in text


def test_render_an_empty_period_and_the_server_view() -> None:
    empty = view([], "shift", "2025-03-04 12:00").to_dict()
    assert render(empty)[-1] == "No units were tested in this period."
    assert render_server(None, "the WATS server cannot be reached now (offline)") == [
        "Server figures: not available (the WATS server cannot be reached now (offline))"
    ]
    server = {
        "as_of": 0.0,
        "by": ["pn"],
        "ignored_filters": ["operator"],
        "total": {"fpy": 0.5, "report_yield": 0.4, "units": 2},
        "groups": [
            {
                "label": "PN-1",
                "units": 2,
                "fpy": 0.5,
                "spy": 1.0,
                "tpy": 1.0,
                "lpy": 1.0,
                "reports": 5,
                "report_yield": 0.4,
            }
        ],
    }
    lines = render_server(server, "")
    assert lines[0].startswith("Server figures (WATS DynamicYield, all stations)")
    assert lines[1] == "  FPY 50%   Report yield 40%   Units 2"
    assert lines[2] == "  (the server cannot filter by operator)"
    assert re.match(r"\s+PN-1\s+2\s+50%", lines[4])
