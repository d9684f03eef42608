"""Helpers for the local WATS server tests: an authenticated client and report builders."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.devserver import RunningServer


def uut(
    sn: str = "SN-1",
    result: str = "P",
    start: str = "2025-03-01T09:00:00+01:00",
    **overrides: Any,
) -> dict[str, Any]:
    """A small valid WSJF test report; keyword overrides replace top-level fields."""
    report: dict[str, Any] = {
        "type": "T",
        "id": str(uuid.uuid4()),
        "pn": "PN-1",
        "sn": sn,
        "rev": "A",
        "processCode": 100,
        "result": result,
        "machineName": "ST-1",
        "location": "Lab",
        "purpose": "Test",
        "start": start,
        "root": {"id": 0, "stepType": "SequenceCall", "name": "MainSequence Callback"},
        "uut": {"user": "op1"},
    }
    report.update(overrides)
    return report


def authed_client(server: RunningServer) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Basic {server.token}"}, timeout=10.0
    )


@pytest.fixture
def api(devserver_inproc: RunningServer) -> Iterator[httpx.Client]:
    """An httpx client for the in-process server that sends the server's token."""
    with authed_client(devserver_inproc) as client:
        yield client


def submit(api: httpx.Client, report: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/Report/WSJF", json=report)
    assert response.status_code == 200, response.text
    (result,) = response.json()
    return result
