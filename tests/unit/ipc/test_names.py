"""Socket names: one per user and instance, short enough for sun_path, private folders."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.paths import InstanceNameError, RuntimeDirError
from app.ipc import names
from app.ipc.names import (
    LOCK_FILE,
    MAX_SOCKET_PATH_BYTES,
    SOCKET_FILE,
    prepare_socket_dir,
    socket_address,
)

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="Unix socket files")


@pytest.fixture
def short_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A home shallow enough for the socket to live in the runtime folder itself."""
    home = Path(tempfile.mkdtemp(prefix="wh"))
    monkeypatch.setenv("WATS_STATION_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@posix_only
def test_socket_is_in_the_instance_runtime_dir(short_home: Path) -> None:
    address = socket_address("line2")
    runtime = short_home / "line2" / "run"
    assert address.path == runtime / SOCKET_FILE
    assert address.name == str(runtime / SOCKET_FILE)
    assert address.lock_path == runtime / LOCK_FILE
    assert address.runtime_dir == runtime
    assert address.display == str(address.path)


@posix_only
def test_each_instance_gets_its_own_socket(short_home: Path) -> None:
    assert socket_address("a").name != socket_address("b").name


@posix_only
def test_deep_runtime_dirs_fall_back_to_a_short_hashed_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    monkeypatch.setenv("WATS_STATION_HOME", str(deep))
    first, second = socket_address("a"), socket_address("b")
    assert first.path is not None
    assert second.path is not None
    assert first.path.parent == names.fallback_socket_dir()
    assert first.path.name.endswith(".sock")
    assert first.path != second.path
    assert len(os.fsencode(first.path)) <= MAX_SOCKET_PATH_BYTES
    # The lock never goes to the shared folder.
    assert first.lock_path == deep / "a" / "run" / LOCK_FILE
    # Same home + instance -> same name (the worker and its clients must agree).
    assert socket_address("a") == first


def test_invalid_instance_names_are_refused() -> None:
    with pytest.raises(InstanceNameError, match="may only contain"):
        socket_address("../evil")


@posix_only
def test_prepare_creates_a_private_runtime_dir(short_home: Path) -> None:
    address = socket_address("p")
    prepare_socket_dir(address)
    assert stat.S_IMODE(address.runtime_dir.stat().st_mode) == 0o700


@posix_only
def test_prepare_makes_the_fallback_dir_private(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WATS_STATION_HOME", str(tmp_path / ("d" * 100)))
    shared = tmp_path / "shared-tmp"
    monkeypatch.setattr(names, "fallback_socket_dir", lambda: shared / "wats-station-x")
    (shared / "wats-station-x").mkdir(parents=True, mode=0o755)
    (shared / "wats-station-x").chmod(0o755)
    address = socket_address("f")
    prepare_socket_dir(address)
    assert stat.S_IMODE((shared / "wats-station-x").stat().st_mode) == 0o700


@posix_only
def test_prepare_refuses_a_fallback_dir_owned_by_someone_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("WATS_STATION_HOME", str(tmp_path / ("d" * 100)))
    monkeypatch.setattr(names, "fallback_socket_dir", lambda: tmp_path / "theirs")
    (tmp_path / "theirs").mkdir()
    address = socket_address("f")
    prepare_socket_dir(address)  # ours: fine
    monkeypatch.setattr(names, "_current_uid", lambda: os.getuid() + 1)
    with pytest.raises(RuntimeDirError, match="not a folder of your own"):
        prepare_socket_dir(address)


def test_windows_uses_a_named_pipe_per_user_and_instance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "Test Operator")
    monkeypatch.delenv("WATS_STATION_HOME")
    address = socket_address("line1", platform="win32")
    assert address.name == "wats-station-Test_Operator-line1"
    assert address.path is None
    assert address.display == r"\\.\pipe\wats-station-Test_Operator-line1"


def test_windows_pipe_names_differ_per_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "op")
    monkeypatch.setenv("WATS_STATION_HOME", str(tmp_path / "one"))
    one = socket_address("default", platform="win32").name
    monkeypatch.setenv("WATS_STATION_HOME", str(tmp_path / "two"))
    two = socket_address("default", platform="win32").name
    assert one.startswith("wats-station-op-default-")
    assert two.startswith("wats-station-op-default-")
    assert one != two


def test_user_name_falls_back_when_getuser_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_user() -> str:
        raise OSError("no user")

    monkeypatch.setattr("getpass.getuser", no_user)
    monkeypatch.setenv("USERNAME", "svc/acct")
    assert names._user_name() == "svc_acct"
