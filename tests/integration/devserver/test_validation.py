"""The validation rules of wats-api.md §6.4: 400 with a Message naming the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.devserver import RunningServer, run_in_thread
from tests.integration.devserver.conftest import authed_client, submit, uut


def without(field: str) -> dict[str, Any]:
    report = uut()
    del report[field]
    return report


@pytest.mark.parametrize("field", ["type", "id", "pn", "sn", "rev", "processCode", "machineName"])
def test_missing_required_field(api: httpx.Client, field: str) -> None:
    response = api.post("/api/Report/WSJF", json=without(field))
    assert response.status_code == 400
    assert response.json()["Message"] == f"Missing required field: '{field}'"


def test_several_missing_fields_are_all_named(api: httpx.Client) -> None:
    report = uut()
    del report["sn"], report["rev"]
    response = api.post("/api/Report/WSJF", json=report)
    assert response.json()["Message"] == "Missing required fields: 'sn', 'rev'"


def test_null_counts_as_missing(api: httpx.Client) -> None:
    response = api.post("/api/Report/WSJF", json=uut(pn=None))
    assert response.status_code == 400
    assert "'pn'" in response.json()["Message"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"type": "X"}, ["'type'", "'X'"]),
        ({"type": "t"}, ["'type'"]),
        ({"id": "not-a-uuid"}, ["'id'", "not a UUID"]),
        ({"id": 12345}, ["'id'", "UUID string"]),
        ({"id": "00000000-0000-0000-0000-000000000000"}, ["'id'", "all-zero"]),
        ({"root": None}, ["'root'", "type T"]),
        ({"root": "Main"}, ["'root'", "step object"]),
        ({"processCode": 4242}, ["'processCode'", "4242", "not a process"]),
        ({"processCode": "100"}, ["'processCode'", "integer"]),
        ({"sn": "  "}, ["'sn'", "empty"]),
        ({"pn": 17}, ["'pn'", "string"]),
    ],
)
def test_invalid_field(api: httpx.Client, overrides: dict[str, Any], words: list[str]) -> None:
    response = api.post("/api/Report/WSJF", json=uut(**overrides))
    assert response.status_code == 400
    message = response.json()["Message"]
    for word in words:
        assert word in message


def test_uut_without_root_key(api: httpx.Client) -> None:
    response = api.post("/api/Report/WSJF", json=without("root"))
    assert response.status_code == 400
    assert "'root'" in response.json()["Message"]


def test_repair_report_needs_no_root(api: httpx.Client) -> None:
    report = without("root")
    report.update(type="R", processCode=500, uur={"processCode": 100})
    submit(api, report)


def test_empty_revision_is_accepted(api: httpx.Client) -> None:
    submit(api, uut(rev=""))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"type": "T", "id": ', ["Malformed JSON"]),
        (b"", ["empty"]),
        (b"[1, 2]", ["JSON object", "array"]),
        (b'"text"', ["JSON object", "str"]),
    ],
)
def test_malformed_body(api: httpx.Client, body: bytes, words: list[str]) -> None:
    response = api.post(
        "/api/Report/WSJF", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["Message"]


def test_invalid_reports_are_not_stored(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    api.post("/api/Report/WSJF", json=uut(processCode=4242))
    stats = devserver_inproc.stats()
    assert stats["distinct_ids"] == 0
    assert stats["received"] == 0
    assert stats["by_status"] == {"400": 1}


def test_unknown_process_accepted_on_request() -> None:
    with run_in_thread(accept_unknown_process=True) as server, authed_client(server) as client:
        result = submit(client, uut(processCode=4242))
        (row,) = client.get("/api/Report/Query/Header").json()
    assert result["Report_ID"] == 1
    assert row["processCode"] == 4242


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        (b"<Reports><Report", ["Malformed XML"]),
        (b"<Other/>", ["<Reports>", "<Other>"]),
        (b"<Reports/>", ["no <Report>"]),
        (
            b'<Report type="UUT" ID="x" SN="1" PN="2" Rev="" MachineName="M">'
            b'<Process Code="100"/><Step/></Report>',
            ["'ID'", "not a UUID"],
        ),
        (
            b'<Report type="UUT" ID="D26DDF31-FD90-47A5-AF13-180404CDE8BE" PN="2" Rev=""'
            b' MachineName="M"><Step/></Report>',
            ["'SN'", "'Process/@Code'"],
        ),
        (
            b'<Report type="UUT" ID="D26DDF31-FD90-47A5-AF13-180404CDE8BE" SN="1" PN="2" Rev=""'
            b' MachineName="M" Result="Passed"><Process Code="100"/></Report>',
            ["root <Step>"],
        ),
        (
            b'<Report type="XYZ" ID="D26DDF31-FD90-47A5-AF13-180404CDE8BE" SN="1" PN="2" Rev=""'
            b' MachineName="M"><Process Code="100"/></Report>',
            ["'type'", "UUT or UUR"],
        ),
        (
            b'<Report type="UUT" ID="D26DDF31-FD90-47A5-AF13-180404CDE8BE" SN="1" PN="2" Rev=""'
            b' MachineName="M" Result="Passed"><Process Code="4242"/><Step/></Report>',
            ["4242", "not a process"],
        ),
    ],
)
def test_invalid_wsxf(api: httpx.Client, xml: bytes, words: list[str]) -> None:
    response = api.post("/api/Report/WSXF", content=xml)
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["Message"]
