"""ReportQueue.file_done: how the keep post-action recognises a file it already queued."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.service.queue import QueueError, ReportQueue

from .queue_support import batch, report


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[ReportQueue]:
    opened = ReportQueue.open(tmp_path / "queue.db")
    yield opened
    opened.close()


def test_a_committed_file_is_done_by_converter_hash_and_path(queue: ReportQueue) -> None:
    file = batch([report()], path="/in/kept.json", converter="wsjf")
    assert not queue.file_done("wsjf", file.source_sha256, "/in/kept.json")
    queue.enqueue_files([file])
    assert queue.file_done("wsjf", file.source_sha256, "/in/kept.json")
    # Hash letters in either case name the same bytes.
    assert queue.file_done("wsjf", file.source_sha256.upper(), "/in/kept.json")
    assert not queue.file_done("table", file.source_sha256, "/in/kept.json")
    assert not queue.file_done("wsjf", "0" * 64, "/in/kept.json")
    assert not queue.file_done("wsjf", file.source_sha256, "/in/other.json")


def test_a_failed_file_is_not_done(queue: ReportQueue) -> None:
    queue.record_failed_file("wsjf", "/in/bad.json", "ab" * 32, "line 1: not JSON")
    assert not queue.file_done("wsjf", "ab" * 32, "/in/bad.json")


def test_done_survives_a_reopen(tmp_path: Path) -> None:
    file = batch([report()], path="/in/kept.json")
    with ReportQueue.open(tmp_path / "queue.db") as first:
        first.enqueue_files([file])
    with ReportQueue.open(tmp_path / "queue.db") as again:
        assert again.file_done(file.converter, file.source_sha256, file.source_path)


def test_a_closed_queue_says_so(queue: ReportQueue) -> None:
    queue.close()
    with pytest.raises(QueueError, match="closed"):
        queue.file_done("wsjf", "ab" * 32, "/in/a.json")
