"""Fault injection: 5xx, 429 with Retry-After, latency, dropped connections, outages."""

from __future__ import annotations

import time

import httpx
import pytest

from app.devserver import Faults, RunningServer, run_in_thread
from tests.integration.devserver.conftest import authed_client, submit, uut


def statuses(client: httpx.Client, count: int) -> list[int]:
    return [client.get("/api/App/Version").status_code for _ in range(count)]


def test_healthy_by_default(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    assert statuses(api, 20) == [200] * 20
    assert devserver_inproc.set_faults() == Faults()


def test_fail_rate_one_fails_every_call(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    devserver_inproc.set_faults(fail_rate=1.0)
    response = api.post("/api/Report/WSJF", json=uut())
    assert response.status_code == 500
    assert "injected" in response.json()["Message"]
    assert devserver_inproc.stats()["distinct_ids"] == 0
    devserver_inproc.set_faults(fail_status=503)
    assert statuses(api, 3) == [503] * 3


def test_fail_rate_share_is_repeatable_with_a_seed() -> None:
    runs = []
    for _ in range(2):
        with run_in_thread(fail_rate=0.3, fault_seed=7) as server, authed_client(server) as c:
            runs.append(statuses(c, 200))
    assert runs[0] == runs[1]
    failures = runs[0].count(500)
    assert 35 <= failures <= 85  # 30 % of 200, give or take
    assert failures + runs[0].count(200) == 200


def test_rate_limit_answers_429_with_retry_after(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    devserver_inproc.set_faults(rate_limit=5)
    responses = [api.get("/api/App/Version") for _ in range(20)]
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    # 20 calls take well under a second, so at most two one-second windows were open.
    assert 5 <= len(ok) <= 10
    assert len(ok) + len(limited) == 20
    assert limited[0].headers["Retry-After"] == "1"
    assert "Too many requests" in limited[0].json()["Message"]
    assert devserver_inproc.stats()["by_status"]["429"] == len(limited)


def test_rate_limit_with_a_fixed_retry_after(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    devserver_inproc.set_faults(rate_limit=1, throttle_retry_after=3)
    responses = [api.get("/api/App/Version") for _ in range(5)]
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= 3
    assert {r.headers["Retry-After"] for r in limited} == {"3"}


def test_throttle_without_rate_limit_refuses_every_call(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    devserver_inproc.set_faults(throttle_retry_after=7)
    responses = [api.get("/api/App/Version") for _ in range(3)]
    assert [(r.status_code, r.headers["Retry-After"]) for r in responses] == [(429, "7")] * 3


def test_latency_delays_replies(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    devserver_inproc.set_faults(latency_ms=300)
    started = time.perf_counter()
    response = api.get("/api/App/Version")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.3


def test_drop_closes_the_connection_without_a_reply(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    devserver_inproc.set_faults(drop_rate=1.0)
    report = uut()
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/api/Report/WSJF", json=report)
    assert devserver_inproc.reports == {}
    assert devserver_inproc.stats()["by_status"] == {"dropped": 1}


def test_drop_after_handling_stores_but_loses_the_reply(
    api: httpx.Client, devserver_inproc: RunningServer
) -> None:
    devserver_inproc.set_faults(drop_rate=1.0, drop_after_handling=True)
    report = uut()
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/api/Report/WSJF", json=report)
    assert list(devserver_inproc.reports) == [report["id"]]
    # The client retries with the same id once the network is back: no duplicate.
    devserver_inproc.set_faults(drop_rate=0.0)
    submit(api, report)
    stats = devserver_inproc.stats()
    assert stats["distinct_ids"] == 1
    assert stats["receive_counts"] == {report["id"]: 2}


def test_outage_503(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    devserver_inproc.set_faults(outage=True)
    response = api.get("/api/App/Version")
    assert response.status_code == 503
    assert "outage" in response.json()["Message"]
    # Even calls without a token get the outage: the server is down, not refusing.
    assert httpx.get(devserver_inproc.url + "/api/App/Version").status_code == 503
    # The control endpoints keep working, so the outage can be ended.
    assert httpx.get(devserver_inproc.url + "/_dev/stats").status_code == 200
    devserver_inproc.set_faults(outage=None)
    assert api.get("/api/App/Version").status_code == 200


def test_outage_drop(api: httpx.Client, devserver_inproc: RunningServer) -> None:
    devserver_inproc.set_faults(outage="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/api/App/Version")
    devserver_inproc.set_faults(outage=False)
    assert api.get("/api/App/Version").status_code == 200


def test_faults_at_start() -> None:
    with run_in_thread(outage="503") as server, authed_client(server) as client:
        assert client.get("/api/App/Version").status_code == 503


def test_control_endpoint_sets_and_shows_faults(devserver_inproc: RunningServer) -> None:
    url = devserver_inproc.url
    shown = httpx.post(url + "/_dev/faults", json={"fail_rate": 1, "latency_ms": 5}).json()
    assert shown["fail_rate"] == 1.0
    assert shown["latency_ms"] == 5.0
    assert httpx.get(url + "/_dev/faults").json() == shown
    merged = httpx.post(url + "/_dev/faults", json={"fail_status": 502}).json()
    assert (merged["fail_rate"], merged["fail_status"]) == (1.0, 502)
    cleared = httpx.post(url + "/_dev/faults", json={"reset": True, "drop_rate": 0.5}).json()
    assert cleared == {**Faults().to_json(), "drop_rate": 0.5}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"fail_rate": 2}, ["fail_rate", "between 0 and 1"]),
        ({"fail_rate": "high"}, ["fail_rate", "number"]),
        ({"fail_status": 404}, ["fail_status", "5xx"]),
        ({"rate_limit": -1}, ["rate_limit"]),
        ({"outage": "maybe"}, ["outage", "maybe"]),
        ({"latency": 5}, ["unknown fault setting", "latency"]),
        ({"drop_after_handling": "yes"}, ["drop_after_handling", "true or false"]),
    ],
)
def test_control_endpoint_refuses_bad_settings(
    devserver_inproc: RunningServer, body: dict[str, object], words: list[str]
) -> None:
    before = httpx.get(devserver_inproc.url + "/_dev/faults").json()
    response = httpx.post(devserver_inproc.url + "/_dev/faults", json=body)
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["Message"]
    assert httpx.get(devserver_inproc.url + "/_dev/faults").json() == before


def test_bad_fault_options_at_start() -> None:
    with pytest.raises(ValueError, match="drop_rate"), run_in_thread(drop_rate=1.5):
        pass
