"""Shared fixtures. Tests never share state: each gets its own WATS_STATION_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.devserver", "tests.fixtures.worker"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_SAMPLES = REPO_ROOT.parent / "shared" / "samples"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own config/data/log root so nothing touches the real user dirs."""
    home = tmp_path / "wats-home"
    monkeypatch.setenv("WATS_STATION_HOME", str(home))
    return home
