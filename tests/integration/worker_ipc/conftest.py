"""A real worker process for the IPC method tests (tests/fixtures/worker.py's Station)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.worker import Station


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    st = Station(tmp_path / "home")
    # Not supervised by systemd or launchd here, whatever runs the tests: service.restart
    # must start its own successor.
    st.env.pop("INVOCATION_ID", None)
    st.env.pop("XPC_SERVICE_NAME", None)
    try:
        yield st
    finally:
        try:
            st.stop()
        except Exception:
            st.kill()
