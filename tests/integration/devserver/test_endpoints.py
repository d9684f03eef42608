"""The station endpoints of wats-api.md §2.1, over real HTTP on loopback."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from app.devserver import RunningServer, basic_token, run_in_thread
from tests.integration.devserver.conftest import authed_client


def test_app_version_is_a_json_string(api: httpx.Client) -> None:
    response = api.get("/api/App/Version")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == "2025.1.0.0"


def test_server_info_values_are_strings(api: httpx.Client) -> None:
    info = api.get("/api/internal/Client/ServerInfo").json()
    assert info["Version"] == "2025.1.0.0"
    assert all(isinstance(value, str) for value in info.values())


def test_ping_gives_server_time_with_offset(api: httpx.Client) -> None:
    body = api.get("/api/internal/Client/Ping").json()
    assert body["ServerName"] == "WATS local server"
    server_time = datetime.fromisoformat(body["ServerTime"])
    assert server_time.tzinfo is not None
    assert abs((server_time - datetime.now().astimezone()).total_seconds()) < 5


def test_clock_skew_shifts_ping_time() -> None:
    with run_in_thread(clock_skew_s=-600) as server, authed_client(server) as client:
        body = client.get("/api/internal/Client/Ping").json()
    skew = datetime.fromisoformat(body["ServerTime"]) - datetime.now().astimezone()
    assert timedelta(seconds=-605) < skew < timedelta(seconds=-595)


def test_module_versions_are_not_empty(api: httpx.Client) -> None:
    modules = api.get("/api/internal/Client/Version").json()
    assert modules
    assert {"Module", "Name", "Version"} <= set(modules[0])


def test_register_issues_working_station_credentials(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    response = api.post(
        "/api/internal/Client/Register",
        params={"mac": "4C5F70D62FF4", "name": "ST-7", "location": "Lab"},
    )
    assert response.status_code == 200
    passcode = response.json()
    assert isinstance(passcode, str)
    assert len(passcode) >= 16
    station = {"Authorization": f"Basic {basic_token('4C5F70D62FF4', passcode)}"}
    info = httpx.get(f"{devserver_inproc.url}/api/internal/Client/ServerInfo", headers=station)
    assert info.status_code == 200
    assert info.json()["Registered"] == "true"

    # Registering again issues a new passcode and retires the old one.
    second = api.post(
        "/api/internal/Client/Register", params={"mac": "4C5F70D62FF4", "name": "ST-7"}
    ).json()
    assert second != passcode
    old = httpx.get(f"{devserver_inproc.url}/api/App/Version", headers=station)
    assert old.status_code == 401


def test_register_needs_mac_and_name(api: httpx.Client) -> None:
    response = api.post("/api/internal/Client/Register", params={"name": "ST-7"})
    assert response.status_code == 400
    assert "mac" in response.json()["Message"]
    response = api.post("/api/internal/Client/Register", params={"mac": "001122334455"})
    assert response.status_code == 400
    assert "name" in response.json()["Message"]


def test_client_update_stores_and_echoes_the_client(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    passcode = api.post(
        "/api/internal/Client/Register", params={"mac": "001122334455", "name": "ST-9"}
    ).json()
    station = authed_client(devserver_inproc)
    station.headers["Authorization"] = f"Basic {basic_token('001122334455', passcode)}"
    with station:
        body = {"name": "ST-9b", "utcoffset": "01:00:00", "miscinfo": "<info/>"}
        client = station.post("/api/internal/Client/Update", json=body).json()
        assert client["Name"] == "ST-9b"
        assert client["UTCOffset"] == "01:00:00"
        assert client["MiscInfo"] == "<info/>"
        assert client["MachineAccountId"] == "001122334455"
        assert client["ClientType"] == 5
        again = station.post("/api/internal/Client/Update", json={"name": "ST-9c"}).json()
    assert again["Client_ID"] == client["Client_ID"]
    assert again["MiscInfo"] == "<info/>"


def test_client_update_without_registration_needs_a_name(api: httpx.Client) -> None:
    response = api.post("/api/internal/Client/Update", json={"utcoffset": "00:00:00"})
    assert response.status_code == 400
    assert "name" in response.json()["Message"]
    ok = api.post("/api/internal/Client/Update", json={"name": "ST-X"})
    assert ok.json()["Name"] == "ST-X"


def test_client_log_upload_is_stored(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    text = "2025-03-01 08:00 started\n2025-03-01 08:01 uploaded 3 reports\n"
    response = api.post(
        "/api/internal/Blob/clientlog/001122334455",
        content=text.encode(),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    assert devserver_inproc.client_logs == {"001122334455": text}
    assert api.get("/api/SystemManager/ClientLog/001122334455").text == text
    assert api.get("/api/SystemManager/ClientLog/FFFFFFFFFFFF").status_code == 404


def test_processes_from_the_sample_list(api: httpx.Client) -> None:
    processes = api.get("/api/App/Processes").json()
    by_code = {p["code"]: p for p in processes}
    assert by_code[100]["name"] == "End of line test"
    assert by_code[500]["isRepairOperation"] is True
    assert "repairOperation" in by_code[500]
    assert all(p["state"] == 1 for p in processes)
    assert len(by_code[100]["ProcessID"]) == 36


def test_process_filters(api: httpx.Client) -> None:
    tests_only = api.get(
        "/api/App/Processes",
        params={"includeRepairOperations": "false", "includeWipOperations": "false"},
    ).json()
    assert tests_only
    assert all(p["isTestOperation"] for p in tests_only)
    repairs = api.get(
        "/api/App/Processes",
        params={"includeTestOperations": "false", "includeWipOperations": "false"},
    ).json()
    assert {p["code"] for p in repairs} >= {500}
    assert not any(p["isTestOperation"] for p in repairs)
    bad = api.get("/api/App/Processes", params={"includeTestOperations": "maybe"})
    assert bad.status_code == 400


def test_inactive_processes_only_on_request() -> None:
    processes = [
        {"code": 1, "name": "Active", "isTestOperation": True, "state": 1},
        {"code": 2, "name": "Retired", "isTestOperation": True, "state": 0},
    ]
    with run_in_thread(processes=processes) as server, authed_client(server) as client:
        default = client.get("/api/App/Processes").json()
        everything = client.get(
            "/api/App/Processes", params={"includeInactiveProcesses": "true"}
        ).json()
        internal = client.get("/api/internal/Process/GetProcesses").json()
    assert [p["code"] for p in default] == [1]
    assert [p["code"] for p in everything] == [1, 2]
    assert [(p["Code"], p["State"], p["IsTestOperation"]) for p in internal] == [
        (1, 1, True),
        (2, 0, True),
    ]
    assert set(internal[0]) == {
        "Code",
        "ProcessID",
        "Name",
        "Description",
        "ProcessIndex",
        "State",
        "Properties",
        "IsTestOperation",
        "IsWIPOperation",
        "IsRepairOperation",
    }


@pytest.mark.parametrize(
    "path", ["/api/app/version", "/API/APP/VERSION", "/api/App/Version/", "/Api/aPP/vErSiOn"]
)
def test_routes_ignore_case(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == "2025.1.0.0"


def test_unknown_route_and_wrong_method(api: httpx.Client) -> None:
    missing = api.get("/api/No/Such/Thing")
    assert missing.status_code == 404
    assert "Message" in missing.json()
    wrong = api.get("/api/Report/WSJF")
    assert wrong.status_code == 405
    assert "GET" in wrong.json()["Message"]


def test_root_page_points_to_the_api(devserver_inproc: RunningServer) -> None:
    response = httpx.get(devserver_inproc.url + "/")
    assert response.status_code == 200
    assert "/api" in response.text
