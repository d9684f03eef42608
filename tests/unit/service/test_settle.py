"""A file is read only when its writer is done: quiet period, close event, locks, slow writers."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from app.core.clock import ManualClock, SystemClock
from app.service import settle
from app.service.settle import FileSignature, file_signature, wait_until_settled


async def turn(times: int = 5) -> None:
    """Let the loop run the settle task up to its next sleep."""
    for _ in range(times):
        await asyncio.sleep(0)


def test_signature_of_missing_file_and_folder(tmp_path: Path) -> None:
    assert file_signature(tmp_path / "nope") is None
    assert file_signature(tmp_path) is None
    file = tmp_path / "a.json"
    file.write_bytes(b"12345")
    signature = file_signature(file)
    assert signature is not None
    assert signature.size == 5


async def test_settles_after_the_quiet_period(tmp_path: Path) -> None:
    clock = ManualClock()
    file = tmp_path / "a.json"
    file.write_bytes(b"{}")
    task = asyncio.create_task(wait_until_settled(file, clock=clock, settle_s=0.5))
    await turn()
    clock.advance(0.4)
    await turn()
    assert not task.done()
    clock.advance(0.1)
    await turn()
    assert task.done()
    assert task.result() == file_signature(file)


async def test_every_change_restarts_the_quiet_period(tmp_path: Path) -> None:
    clock = ManualClock()
    file = tmp_path / "a.json"
    file.write_bytes(b"{")
    task = asyncio.create_task(wait_until_settled(file, clock=clock, settle_s=0.5))
    await turn()
    for chunk in (b'"a"', b":1", b"}"):
        with open(file, "ab") as handle:
            handle.write(chunk)
        clock.advance(0.5)
        await turn()
        assert not task.done(), "a file that changed within settle_s must not be read"
    clock.advance(0.5)
    await turn()
    assert task.done()
    signature = task.result()
    assert signature is not None
    assert signature.size == len(b'{"a":1}')


async def test_close_event_ends_the_wait_at_once(tmp_path: Path) -> None:
    clock = ManualClock()
    file = tmp_path / "a.json"
    file.write_bytes(b"{}")
    closed = asyncio.Event()
    task = asyncio.create_task(wait_until_settled(file, clock=clock, settle_s=60, closed=closed))
    await turn()
    assert not task.done()
    closed.set()
    await turn()
    assert task.done()
    assert task.result() == file_signature(file)
    assert clock.sleepers == 0


async def test_vanished_file_gives_none(tmp_path: Path) -> None:
    clock = ManualClock()
    file = tmp_path / "a.json"
    file.write_bytes(b"{}")
    task = asyncio.create_task(wait_until_settled(file, clock=clock, settle_s=0.5))
    await turn()
    file.unlink()
    clock.advance(0.5)
    await turn()
    assert task.done()
    assert task.result() is None
    assert await wait_until_settled(tmp_path / "never", clock=clock) is None


async def test_locked_file_waits_until_the_writer_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: a writer holding the file keeps it unsettled however quiet it is."""
    locked = {"value": True}
    monkeypatch.setattr(settle, "can_open_exclusively", lambda path: not locked["value"])
    clock = ManualClock()
    file = tmp_path / "a.json"
    file.write_bytes(b"{}")
    task = asyncio.create_task(wait_until_settled(file, clock=clock, settle_s=0.5))
    for _ in range(4):
        clock.advance(0.5)
        await turn()
    assert not task.done()
    locked["value"] = False
    clock.advance(0.5)
    await turn()
    assert task.done()
    assert task.result() is not None


async def test_runner_is_used_for_blocking_calls(tmp_path: Path) -> None:
    calls: list[str] = []

    async def in_thread(call):  # type: ignore[no-untyped-def]
        calls.append(threading.current_thread().name)
        return await asyncio.to_thread(call)

    file = tmp_path / "a.json"
    file.write_bytes(b"{}")
    result = await wait_until_settled(file, clock=SystemClock(), settle_s=0.01, run=in_thread)
    assert result is not None
    assert len(calls) >= 3  # first stat, second stat, open check


async def test_slow_writer_is_read_only_when_complete(tmp_path: Path) -> None:
    """A tester streaming a file over ~2 s: settled once, after the last byte."""
    file = tmp_path / "slow.json"
    chunks = 20
    finished = threading.Event()

    def write_slowly() -> None:
        with open(file, "wb") as handle:
            for _index in range(chunks):
                handle.write(b"x" * 100)
                handle.flush()
                os.fsync(handle.fileno())
                time.sleep(0.1)
        finished.set()

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        while not file.exists():
            await asyncio.sleep(0.01)
        result = await wait_until_settled(file, clock=SystemClock(), settle_s=0.3)
        assert finished.is_set(), "settled while the writer was still writing"
        assert result == FileSignature(chunks * 100, os.stat(file).st_mtime_ns)
    finally:
        writer.join()
