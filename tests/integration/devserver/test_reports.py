"""Report submit (WSJF, WSXF), upsert by id and read-back (wats-api.md §2.3, §6.1)."""

from __future__ import annotations

import json
import uuid

import httpx

from app.devserver import RunningServer
from app.samples import sample_path
from tests.integration.devserver.conftest import submit, uut


def test_submit_returns_the_insert_result(api: httpx.Client) -> None:
    report = uut()
    response = api.post("/api/Report/WSJF", json=report)
    assert response.status_code == 200
    assert response.json() == [{"ID": report["id"], "uuid": report["id"], "Report_ID": 1}]


def test_resubmit_upserts_and_counts(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    report = uut(result="F")
    first = submit(api, report)
    changed = {**report, "result": "P", "sn": "SN-MOVED"}
    second = submit(api, changed)
    assert second == first  # same id, same legacy Report_ID

    assert devserver_inproc.reports == {report["id"]: changed}
    stats = devserver_inproc.stats()
    assert stats["received"] == 2
    assert stats["distinct_ids"] == 1
    assert stats["receive_counts"] == {report["id"]: 2}
    (row,) = api.get("/api/Report/Query/Header").json()
    assert row["receiveCount"] == 2
    assert row["serialNumber"] == "SN-MOVED"
    assert row["result"] == "Passed"


def test_ids_are_matched_without_regard_to_case(api: httpx.Client) -> None:
    report = uut()
    lower = report["id"]
    upper = {**report, "id": lower.upper()}
    submit(api, report)
    result = submit(api, upper)
    assert result["ID"] == lower.upper()  # echoed as sent
    assert result["uuid"] == lower  # stored in canonical form
    assert (
        api.get(f"/api/Report/Query/Header?$filter=uuid eq {lower}").json()[0]["receiveCount"] == 2
    )


def test_read_back_the_stored_report(api: httpx.Client) -> None:
    report = json.loads(sample_path("wsjf-uut-minimal.json").read_text())
    submit(api, report)
    response = api.get(f"/api/Report/Wsjf/{report['id']}")
    assert response.status_code == 200
    assert response.json() == report


def test_read_unknown_or_malformed_id(api: httpx.Client) -> None:
    unknown = api.get(f"/api/Report/Wsjf/{uuid.uuid4()}")
    assert unknown.status_code == 404
    assert "No report" in unknown.json()["Message"]
    bad = api.get("/api/Report/Wsjf/not-a-uuid")
    assert bad.status_code == 400


def test_sample_repair_report_is_accepted(api: httpx.Client) -> None:
    report = json.loads(sample_path("wsjf-uur.json").read_text())
    submit(api, report)
    (row,) = api.get("/api/Report/Query/Header", params={"reportType": "R"}).json()
    assert row["uuid"] == report["id"]
    assert row["processCode"] == 500
    assert row["processName"] == "Repair"
    assert row["run"] == 0


def test_wsxf_submit_stores_by_report_id(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    xml = sample_path("wsxf-uut.xml").read_bytes()
    response = api.post(
        "/api/Report/WSXF", content=xml, headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 200
    sent = "D26DDF31-FD90-47A5-AF13-180404CDE8BE"
    assert response.json() == [{"ID": sent, "uuid": sent.lower(), "Report_ID": 1}]
    stored = devserver_inproc.reports[sent.lower()]
    assert stored["sn"] == "FATTest-422"
    assert stored["processCode"] == 10
    assert stored["result"] == "F"
    assert stored["uut"]["user"] == "FAToper"
    (row,) = api.get("/api/Report/Query/Header").json()
    assert row["serialNumber"] == "FATTest-422"
    assert row["userName"] == "FAToper"
    assert row["executionTime"] == 123.67
    assert row["fixtureId"] == "FAT FixtureId"
    assert row["start"] == "2017-06-07T09:24:20.857000+02:00"
    assert api.get(f"/api/Report/Wsxf/{sent}").content == xml
    assert api.get(f"/api/Report/Wsjf/{sent}").json()["sn"] == "FATTest-422"


def test_wsxf_repair_report(api: httpx.Client) -> None:
    xml = sample_path("wsxf-uur.xml").read_bytes()
    (result,) = api.post("/api/Report/WSXF", content=xml).json()
    assert result["uuid"] == "22f77b28-80b3-4ad4-83b7-6439f1ccc245"
    (row,) = api.get("/api/Report/Query/Header").json()
    assert row["reportType"] == "R"
    assert row["processCode"] == 500
    assert row["referencedUut"] == "9EE40DD0-7009-4CEA-92AB-7671C42EA86A"


def test_wsxf_resubmit_counts_receipts(api: httpx.Client) -> None:
    xml = sample_path("wsxf-uut.xml").read_bytes()
    api.post("/api/Report/WSXF", content=xml)
    api.post("/api/Report/WSXF", content=xml)
    (row,) = api.get("/api/Report/Query/Header").json()
    assert row["receiveCount"] == 2


def test_wsjf_report_has_no_xml_to_read(api: httpx.Client) -> None:
    report = uut()
    submit(api, report)
    response = api.get(f"/api/Report/Wsxf/{report['id']}")
    assert response.status_code == 404
    assert "WSJF" in response.json()["Message"]


def test_report_id_numbers_grow(api: httpx.Client) -> None:
    numbers = [submit(api, uut(sn=f"SN-{i}"))["Report_ID"] for i in range(3)]
    assert numbers == [1, 2, 3]
