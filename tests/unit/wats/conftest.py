"""WatsClient test helpers: an in-process server (httpx.MockTransport) recording requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.wats import WatsClient

BASE = "https://wats.example.test/"

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _no_proxy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's or CI's proxy settings must not route loopback test traffic."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class Recorder:
    """Answers every request with `handler` and keeps the requests for assertions."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def json_response(value: Any, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(value).encode(),
        headers={"Content-Type": "application/json", **headers},
    )


@pytest.fixture
def mock_client() -> Callable[..., tuple[WatsClient, Recorder]]:
    """`client, recorder = mock_client(handler, **client_kwargs)`."""

    def make(handler: Handler, **kwargs: Any) -> tuple[WatsClient, Recorder]:
        recorder = Recorder(handler)
        kwargs.setdefault("token", "dGVzdDpzZWNyZXQ=")
        client = WatsClient(
            kwargs.pop("base_url", BASE), transport=httpx.MockTransport(recorder), **kwargs
        )
        return client, recorder

    return make
