"""Basic auth on every /api route (wats-api.md §1)."""

from __future__ import annotations

import httpx
import pytest

from app.devserver import DEFAULT_TOKEN, RunningServer, basic_token, run_in_thread


def test_default_token_is_station_wats() -> None:
    assert DEFAULT_TOKEN == "c3RhdGlvbjp3YXRz"
    assert basic_token("station", "wats") == DEFAULT_TOKEN


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic d3Jvbmc6dG9rZW4="},
        {"Authorization": f"Bearer {DEFAULT_TOKEN}"},
        {"Authorization": "Basic"},
    ],
    ids=["missing", "wrong-token", "bearer", "empty-basic"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/App/Version"),
        ("POST", "/api/Report/WSJF"),
        ("GET", "/api/Report/Query/Header"),
        ("POST", "/api/internal/Client/Register"),
    ],
)
def test_refused_without_the_token(
    devserver_inproc: RunningServer, headers: dict[str, str], method: str, path: str
) -> None:
    response = httpx.request(method, devserver_inproc.url + path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"Message": "Authorization has been denied for this request."}
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_auth_is_checked_before_routing(devserver_inproc: RunningServer) -> None:
    # An unknown route without a token says 401, not 404: no probing without credentials.
    response = httpx.get(devserver_inproc.url + "/api/No/Such/Thing")
    assert response.status_code == 401


def test_scheme_name_is_case_insensitive(devserver_inproc: RunningServer) -> None:
    response = httpx.get(
        devserver_inproc.url + "/api/App/Version",
        headers={"Authorization": f"basic {DEFAULT_TOKEN}"},
    )
    assert response.status_code == 200


def test_custom_token_replaces_the_default() -> None:
    token = basic_token("ci", "s3cret")
    with run_in_thread(token=token) as server:
        assert server.token == token
        ok = httpx.get(server.url + "/api/App/Version", headers={"Authorization": f"Basic {token}"})
        default = httpx.get(
            server.url + "/api/App/Version", headers={"Authorization": f"Basic {DEFAULT_TOKEN}"}
        )
    assert ok.status_code == 200
    assert default.status_code == 401
