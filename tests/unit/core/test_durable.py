"""fsync_dir / fsync_file: what they flush, and that Windows skips the folder."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from app.core import durable


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the st_mode of every descriptor fsynced, then really fsync it."""
    modes: list[int] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        modes.append(os.fstat(fd).st_mode)
        real_fsync(fd)

    monkeypatch.setattr(durable.os, "fsync", recording_fsync)
    return modes


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX folders can be fsynced")
def test_fsync_dir_flushes_the_folder_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modes = _record_fsyncs(monkeypatch)
    durable.fsync_dir(tmp_path)
    assert len(modes) == 1
    assert stat.S_ISDIR(modes[0])


def test_fsync_dir_does_nothing_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modes = _record_fsyncs(monkeypatch)
    monkeypatch.setattr(durable.sys, "platform", "win32")
    durable.fsync_dir(tmp_path / "not even there")
    assert modes == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX folders can be fsynced")
def test_fsync_dir_of_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        durable.fsync_dir(tmp_path / "missing")


def test_fsync_file_flushes_the_file_and_keeps_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "archive.zip"
    target.write_bytes(b"PK\x05\x06")
    modes = _record_fsyncs(monkeypatch)
    durable.fsync_file(target)
    assert len(modes) == 1
    assert stat.S_ISREG(modes[0])
    assert target.read_bytes() == b"PK\x05\x06"
