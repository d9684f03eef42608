"""Instance folders: WATS_STATION_HOME, platform folders, instance names, ensure()."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from app.core.paths import InstanceNameError, InstancePaths


@pytest.fixture
def home() -> Path:
    """The per-test WATS_STATION_HOME that tests/conftest.py sets."""
    return Path(os.environ["WATS_STATION_HOME"])


def test_home_puts_everything_under_one_folder(home: Path) -> None:
    paths = InstancePaths.for_instance("line2")
    root = home / "line2"
    assert paths.instance == "line2"
    assert paths.config_dir == root / "config"
    assert paths.data_dir == root / "data"
    assert paths.log_dir == root / "logs"
    assert paths.runtime_dir == root / "run"
    assert paths.config_file == root / "config" / "config.json"
    assert paths.config_lock.parent == root / "config"
    assert paths.queue_db == root / "data" / "queue.sqlite3"
    assert paths.plugin_dir == root / "config" / "converters"
    assert paths.secrets_file == root / "config" / "secrets.json"


def test_default_instance_is_default(home: Path) -> None:
    assert InstancePaths.for_instance().config_dir == home / "default" / "config"


def test_without_home_the_platform_folders_are_used() -> None:
    paths = InstancePaths.for_instance("default", environ={})  # no WATS_STATION_HOME
    # Only the shape is platform-independent; nothing is created on disk.
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.runtime_dir):
        assert folder.name == "default"
        assert "WATS Station" in folder.parts


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "instance name must not be empty"),
        ("a/b", "instance name 'a/b' may only contain letters, digits, '-' and '_'"),
        ("line 2", "instance name 'line 2' may only contain letters, digits, '-' and '_'"),
        ("x" * 41, f"instance name {'x' * 41!r} is too long (41 characters, at most 40)"),
    ],
)
def test_bad_instance_names_are_refused_readably(name: str, message: str) -> None:
    with pytest.raises(InstanceNameError) as exc:
        InstancePaths.for_instance(name)
    assert str(exc.value) == message


def test_good_instance_names() -> None:
    for name in ("default", "line-2", "ICT_3", "x" * 40):
        assert InstancePaths.for_instance(name).instance == name


def test_for_instance_touches_nothing_and_ensure_creates(home: Path) -> None:
    paths = InstancePaths.for_instance("fresh")
    assert not home.exists()
    assert paths.ensure() is paths
    for folder in (paths.config_dir, paths.data_dir, paths.log_dir, paths.runtime_dir):
        assert folder.is_dir()
    if sys.platform != "win32":
        assert stat.S_IMODE(paths.runtime_dir.stat().st_mode) == 0o700
    paths.ensure()  # a second call is harmless


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_ensure_tightens_a_loose_runtime_folder(home: Path) -> None:
    paths = InstancePaths.for_instance()
    paths.runtime_dir.mkdir(parents=True)
    paths.runtime_dir.chmod(0o777)
    paths.ensure()
    assert stat.S_IMODE(paths.runtime_dir.stat().st_mode) == 0o700
