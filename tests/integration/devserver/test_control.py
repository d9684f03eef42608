"""The /_dev control endpoints: stats, reset, and the loopback-only check."""

from __future__ import annotations

from unittest import mock

import httpx
import pytest
from aiohttp.test_utils import make_mocked_request

from app.devserver import RunningServer, basic_token
from app.devserver.control import handle_control
from app.devserver.jsonio import ApiError
from app.devserver.loopback import is_loopback_address, is_loopback_host
from tests.integration.devserver.conftest import submit, uut


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.10.20.30", "::1", "[::1]", "::ffff:127.0.0.1", "  127.0.0.1 "],
)
def test_loopback_addresses(address: str) -> None:
    assert is_loopback_address(address) is True


@pytest.mark.parametrize(
    "address",
    [
        None,
        "",
        "10.0.0.5",
        "192.168.1.20",
        "0.0.0.0",
        "::",
        "::ffff:10.0.0.5",
        "fe80::1%eth0",
        "localhost",  # a name, not an address: the peer address is what counts
        "not-an-ip",
    ],
)
def test_other_addresses(address: str | None) -> None:
    assert is_loopback_address(address) is False


def test_loopback_hosts() -> None:
    assert is_loopback_host("127.0.0.1") is True
    assert is_loopback_host("::1") is True
    assert is_loopback_host("localhost") is True
    assert is_loopback_host("0.0.0.0") is False
    assert is_loopback_host("::") is False
    assert is_loopback_host("192.168.1.20") is False


async def test_control_refuses_a_remote_caller(devserver_inproc: RunningServer) -> None:
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("192.168.1.20", 50000)
    request = make_mocked_request("GET", "/_dev/stats", transport=transport)
    assert request.remote == "192.168.1.20"
    with pytest.raises(ApiError) as refused:
        await handle_control(devserver_inproc.server.state, request, "/_dev/stats")
    assert refused.value.status == 403
    assert "loopback" in refused.value.message


def test_stats_count_submits_and_statuses(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    first, second = uut("S1"), uut("S2")
    submit(api, first)
    submit(api, first)
    submit(api, second)
    api.post("/api/Report/WSJF", json=uut(sn=None))
    httpx.get(devserver_inproc.url + "/api/App/Version")  # no token
    stats = httpx.get(devserver_inproc.url + "/_dev/stats").json()
    assert stats == {
        "received": 3,
        "distinct_ids": 2,
        "receive_counts": {first["id"]: 2, second["id"]: 1},
        "by_status": {"200": 3, "400": 1, "401": 1},
        "requests": 5,
    }
    assert devserver_inproc.stats() == stats
    light = httpx.get(devserver_inproc.url + "/_dev/stats", params={"ids": "0"}).json()
    assert light == {k: v for k, v in stats.items() if k != "receive_counts"}
    timed = httpx.get(devserver_inproc.url + "/_dev/stats", params={"times": "1"}).json()
    assert set(timed["first_received_at"]) == {first["id"], second["id"]}


def test_reset_clears_data_but_keeps_faults(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    submit(api, uut())
    passcode = api.post(
        "/api/internal/Client/Register", params={"mac": "AABBCCDDEEFF", "name": "ST"}
    ).json()
    devserver_inproc.set_faults(latency_ms=1)
    response = httpx.post(devserver_inproc.url + "/_dev/reset")
    assert response.json() == {"reset": True}
    stats = devserver_inproc.stats()
    assert (stats["received"], stats["distinct_ids"], stats["requests"]) == (0, 0, 0)
    assert devserver_inproc.reports == {}
    assert api.get("/api/Report/Query/Header").json() == []
    station = {"Authorization": f"Basic {basic_token('AABBCCDDEEFF', passcode)}"}
    assert httpx.get(devserver_inproc.url + "/api/App/Version", headers=station).status_code == 401
    assert httpx.get(devserver_inproc.url + "/_dev/faults").json()["latency_ms"] == 1
    # Legacy Report_IDs start again from 1.
    assert submit(api, uut())["Report_ID"] == 1


def test_unknown_control_path_and_method(devserver_inproc: RunningServer) -> None:
    assert httpx.get(devserver_inproc.url + "/_dev/nothing").status_code == 404
    assert httpx.get(devserver_inproc.url + "/_dev/reset").status_code == 405
    assert httpx.post(devserver_inproc.url + "/_dev/faults", json=[1]).status_code == 400
