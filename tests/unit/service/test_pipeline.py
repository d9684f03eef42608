"""The pipeline end to end: real folders, real conversion children, a real SQLite queue."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.core.config import ConverterConfig
from app.samples import sample_path
from app.service import post_actions
from app.service.conversion import ConversionPool
from app.service.pipeline import (
    BURST_RESCAN_MIN_FILES,
    Pipeline,
    PipelineCallbacks,
    QueueStore,
)
from app.service.queue import QueueWriteError, ReportQueue
from app.service.queue_models import EnqueueResult, SourceBatch
from tests.fixtures.waiting import eventually as wait_for

PLUGINS = Path(__file__).parent / "plugin_converters"
SETTLE_MS = 50


def wsjf_without_id(sn: str = "SN-1") -> bytes:
    doc = json.loads(sample_path("wsjf-uut-minimal.json").read_bytes())
    doc.pop("id", None)
    doc["sn"] = sn
    return json.dumps(doc).encode()


@dataclass
class Recorder:
    done: list[tuple[Path, list[str]]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    alarms: dict[tuple[str, str], str] = field(default_factory=dict)
    raised: list[str] = field(default_factory=list)
    queued: int = 0

    def callbacks(self) -> PipelineCallbacks:
        def queued(count: int) -> None:
            self.queued += count

        def alarm(kind: str, message: str, subject: str) -> None:
            self.alarms[(kind, subject)] = message
            self.raised.append(kind)

        return PipelineCallbacks(
            on_reports_queued=queued,
            on_file_done=lambda path, ids: self.done.append((path, ids)),
            on_file_failed=lambda path, reason: self.failed.append((path, reason)),
            on_alarm=alarm,
            on_alarm_cleared=lambda kind, subject: self.alarms.pop((kind, subject), None),
        )

    def done_names(self) -> list[str]:
        return [p.name for p, _ in self.done]


class FlakyStore(QueueStore):
    """The real queue, except that enqueue fails like a full disk while `full` is set."""

    def __init__(self, queue: ReportQueue, error: BaseException) -> None:
        super().__init__(queue)
        self.full = True
        self.error = error
        self.refused = 0

    def enqueue_files(self, batches: Sequence[SourceBatch]) -> list[EnqueueResult]:
        if self.full:
            self.refused += 1
            raise self.error
        return super().enqueue_files(batches)


@pytest.fixture(scope="module")
def pool() -> Iterator[ConversionPool]:
    shared = ConversionPool(size=2, timeout_s=2.0, plugin_dirs=[PLUGINS])
    yield shared
    asyncio.run(shared.close())


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[ReportQueue]:
    opened = ReportQueue.open(tmp_path / "data" / "queue.sqlite3")
    yield opened
    opened.close()


Factory = Callable[..., Awaitable[tuple[Pipeline, Recorder]]]


@pytest.fixture
async def start_pipeline(queue: ReportQueue, pool: ConversionPool) -> AsyncIterator[Factory]:
    started: list[Pipeline] = []

    async def start(
        converters: Sequence[ConverterConfig], store: Any = None, **options: Any
    ) -> tuple[Pipeline, Recorder]:
        recorder = Recorder()
        settings: dict[str, Any] = {
            "settle_ms": SETTLE_MS,
            "rescan_s": 3600,
            "folder_check_s": 0.1,
            "storage_retry_s": 0.2,
        }
        settings.update(options)
        pipeline = Pipeline(
            store if store is not None else QueueStore(queue),
            pool,
            station_name="TEST-PC",
            callbacks=recorder.callbacks(),
            **settings,
        )
        await pipeline.start(converters)
        started.append(pipeline)
        await wait_for(lambda: all(s.state != "idle" for s in pipeline.stats()))
        return pipeline, recorder

    yield start
    for pipeline in started:
        await pipeline.stop()


def converter(folder: Path, name: str = "line1", kind: str = "wsjf", **options: Any):
    folder.mkdir(parents=True, exist_ok=True)
    return ConverterConfig(name=name, converter=kind, watch_folder=folder, **options)


async def settle_all(pipeline: Pipeline) -> None:
    """Scan once more and wait until everything found is dealt with."""
    await pipeline.scan()
    await wait_for(lambda: pipeline.idle)


# ---------------------------------------------------------------------------- the good path


async def test_file_is_queued_then_moved_to_done(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue
) -> None:
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch)])
    source = watch / "unit 7 – résultat ✓.json"
    source.write_bytes(wsjf_without_id())
    await wait_for(lambda: len(recorder.done) == 1)
    assert not source.exists()
    assert (watch / "Done" / source.name).read_bytes() == wsjf_without_id()
    (path, ids) = recorder.done[0]
    assert path == source
    row = queue.get(ids[0])
    assert row is not None
    assert row.payload is not None
    assert json.loads(row.payload)["machineName"]  # the sample's station name is kept
    assert row.source_path == str(source)
    assert recorder.queued == 1
    (stats,) = pipeline.stats()
    assert (stats.state, stats.files_done_today, stats.files_failed_today) == ("watching", 1, 0)
    assert stats.last_file == str(source)


@pytest.mark.parametrize("polling", [False, True], ids=["events", "polling"])
async def test_slow_writer_is_converted_once_and_complete(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue, polling: bool
) -> None:
    """A tester writes a file over ~2 s. Read early, the JSON would be cut and fail."""
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch, polling=polling)], settle_ms=500)
    content = wsjf_without_id()
    chunks = [
        content[i : i + len(content) // 20 + 1]
        for i in range(0, len(content), len(content) // 20 + 1)
    ]

    def write_slowly() -> None:
        with open(watch / "slow.json", "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                handle.flush()
                time.sleep(0.1)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        await wait_for(lambda: len(recorder.done) + len(recorder.failed) >= 1)
    finally:
        writer.join()
    await settle_all(pipeline)
    assert recorder.failed == []
    assert recorder.done_names() == ["slow.json"]
    assert (watch / "Done" / "slow.json").read_bytes() == content
    assert queue.counts()["queued"] == 1


async def test_many_files_share_commits(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue
) -> None:
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch)])
    for index in range(120):
        (watch / f"r{index:03}.json").write_bytes(wsjf_without_id(f"SN-{index}"))
    await wait_for(lambda: len(recorder.done) == 120)
    assert queue.counts()["queued"] == 120
    assert pipeline.commits < 120  # group commit: several files per transaction
    assert len(list((watch / "Done").iterdir())) == 120


async def test_files_whose_events_were_lost_are_found_when_a_burst_ends(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue
) -> None:
    # A big burst can overflow the kernel's event queue; the periodic rescan is an hour away
    # here, so only the scan at the end of the burst can find the files whose events were lost.
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch)])
    notify = pipeline.notify
    unset = object()

    def lossy(path: Path | str, closed: Any = unset) -> None:
        # Watcher events pass `closed`; scans do not. Drop the events of the "lost" files.
        if closed is not unset and Path(path).name.startswith("lost-"):
            return
        notify(path, False if closed is unset else closed)

    pipeline.notify = lossy  # type: ignore[method-assign]
    count = BURST_RESCAN_MIN_FILES + 20
    for index in range(count):
        (watch / f"r{index:04}.json").write_bytes(wsjf_without_id(f"SN-{index}"))
    for index in range(10):
        (watch / f"lost-{index}.json").write_bytes(wsjf_without_id(f"LOST-{index}"))
    await wait_for(lambda: len(recorder.done) == count + 10)
    assert queue.counts()["queued"] == count + 10
    assert not any(watch.glob("lost-*.json"))


async def test_same_bytes_twice_give_the_same_ids(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue
) -> None:
    watch = tmp_path / "in"
    _pipeline, recorder = await start_pipeline([converter(watch)])
    (watch / "a.json").write_bytes(wsjf_without_id())
    await wait_for(lambda: len(recorder.done) == 1)
    (watch / "b.json").write_bytes(wsjf_without_id())
    await wait_for(lambda: len(recorder.done) == 2)
    (_, first), (_, second) = recorder.done
    assert first == second
    assert queue.counts()["queued"] == 1
    assert recorder.queued == 1  # the second file inserted nothing


# ---------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "the file is empty"),
        (b'{"type": "T", "pn": ', "not valid JSON"),
        (b'{"type": "T", "pn": "\xff\xfe"}', "invalid unicode"),
    ],
    ids=["empty", "malformed", "not-utf8"],
)
async def test_bad_file_goes_to_error_with_a_sidecar(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue, content: bytes, reason: str
) -> None:
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch)])
    (watch / "bad.json").write_bytes(content)
    await wait_for(lambda: len(recorder.failed) == 1)
    await wait_for((watch / "Error" / "bad.json.error.txt").exists)
    assert reason.lower() in recorder.failed[0][1].lower()
    assert (watch / "Error" / "bad.json").read_bytes() == content
    sidecar = (watch / "Error" / "bad.json.error.txt").read_text(encoding="utf-8")
    assert "Converter: wsjf 1.0" in sidecar
    assert reason.lower() in sidecar.lower()
    assert [f.path for f in queue.failed_files()] == [str(watch / "bad.json")]
    (stats,) = pipeline.stats()
    assert stats.files_failed_today == 1
    assert stats.last_error is not None


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("test-raising", "the converter failed: ValueError: unexpected byte soup"),
        ("test-hanging", "the converter did not finish within 1 s"),
        ("test-exiting", "the converter process ended unexpectedly (exit code 3)"),
    ],
)
async def test_misbehaving_converter_fails_only_its_files(
    tmp_path: Path,
    start_pipeline: Factory,
    pool: ConversionPool,
    kind: str,
    message: str,
) -> None:
    bad, good = tmp_path / "bad", tmp_path / "good"
    pool.timeout_s = 1.0
    try:
        _pipeline, recorder = await start_pipeline(
            [converter(bad, "bad", kind, patterns=["*.txt"]), converter(good, "good")]
        )
        for index in range(3):
            (bad / f"{index}.txt").write_text("x")
        (good / "fine.json").write_bytes(wsjf_without_id())
        await wait_for(lambda: len(recorder.failed) == 3)
        await wait_for(lambda: recorder.done_names() == ["fine.json"])
    finally:
        pool.timeout_s = 2.0
    assert {reason for _, reason in recorder.failed} == {message}
    await wait_for(lambda: len(list((bad / "Error").glob("*.error.txt"))) == 3)
    assert ("converter_failing", "bad") in recorder.alarms


# ---------------------------------------------------------------------------- what is skipped


async def test_done_and_error_are_never_picked_up_again(
    tmp_path: Path, start_pipeline: Factory
) -> None:
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch, recursive=True)])
    (watch / "good.json").write_bytes(wsjf_without_id())
    (watch / "bad.json").write_bytes(b"{")
    await wait_for(lambda: len(recorder.done) == 1 and len(recorder.failed) == 1)
    await wait_for((watch / "Error" / "bad.json.error.txt").exists)
    (watch / "~$lock.json").write_text("{")
    (watch / "partial.json.tmp").write_text("{")
    await settle_all(pipeline)
    assert (len(recorder.done), len(recorder.failed)) == (1, 1)
    assert sorted(p.name for p in (watch / "Done").iterdir()) == ["good.json"]
    assert sorted(p.name for p in (watch / "Error").iterdir()) == [
        "bad.json",
        "bad.json.error.txt",
    ]


async def test_a_plugin_converter_without_patterns_watches_its_own_patterns(
    tmp_path: Path, start_pipeline: Factory
) -> None:
    # test-lines (a plug-in of the pool's folder) declares *.txt; no patterns are configured.
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch, "lines", "test-lines")])
    (watch / "unit.txt").write_text("PN-1;SN-1;5.0")
    (watch / "unit.dat").write_text("PN-1;SN-2;5.0")
    await wait_for(lambda: recorder.done_names() == ["unit.txt"])
    await settle_all(pipeline)
    assert recorder.done_names() == ["unit.txt"]
    assert recorder.failed == []
    assert (watch / "unit.dat").exists()


async def test_keep_does_not_convert_again_even_after_a_restart(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue
) -> None:
    watch = tmp_path / "in"
    config = converter(watch, post_action="keep")
    pipeline, recorder = await start_pipeline([config])
    (watch / "kept.json").write_bytes(wsjf_without_id())
    await wait_for(lambda: len(recorder.done) == 1)
    await settle_all(pipeline)
    assert len(recorder.done) == 1
    assert (watch / "kept.json").exists()
    await pipeline.stop()
    again, second = await start_pipeline([config])
    await settle_all(again)
    assert second.done == []
    assert second.queued == 0
    (watch / "kept.json").write_bytes(wsjf_without_id("SN-CHANGED"))  # new content: new file
    await wait_for(lambda: len(second.done) == 1)
    assert queue.counts()["queued"] == 2


async def test_zip_post_action(tmp_path: Path, start_pipeline: Factory) -> None:
    watch = tmp_path / "in"
    _pipeline, recorder = await start_pipeline([converter(watch, post_action="zip")])
    for name in ("a.json", "b.json"):
        (watch / name).write_bytes(wsjf_without_id(name))
    await wait_for(lambda: len(recorder.done) == 2)
    archive = watch / "Done" / f"{date.today().isoformat()}.zip"
    with zipfile.ZipFile(archive) as bundle:
        assert sorted(bundle.namelist()) == ["a.json", "b.json"]
        assert bundle.read("a.json") == wsjf_without_id("a.json")
    assert not (watch / "a.json").exists()


async def test_delete_post_action(tmp_path: Path, start_pipeline: Factory) -> None:
    watch = tmp_path / "in"
    _pipeline, recorder = await start_pipeline([converter(watch, post_action="delete")])
    (watch / "a.json").write_bytes(wsjf_without_id())
    await wait_for(lambda: len(recorder.done) == 1)
    assert list(watch.iterdir()) == []


# ---------------------------------------------------------------------------- trouble


async def test_read_only_done_folder_keeps_the_file_and_retries(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    watch = tmp_path / "in"
    done = watch / "Done"
    pipeline, recorder = await start_pipeline([converter(watch)])
    done.mkdir()
    done.chmod(0o555)
    if os.geteuid() == 0:  # root ignores permission bits: refuse like a read-only folder
        real = post_actions._move_no_clobber

        def refuse(source: Path, target: Path) -> None:
            if target.parent == done:
                raise PermissionError(errno.EACCES, "Permission denied", str(target))
            real(source, target)

        monkeypatch.setattr(post_actions, "_move_no_clobber", refuse)
    try:
        (watch / "r.json").write_bytes(wsjf_without_id())
        await wait_for(lambda: ("write_failed", "line1") in recorder.alarms)
        assert (watch / "r.json").exists()
        assert queue.counts()["queued"] == 1  # the reports are safe in the queue already
        assert recorder.done == []
        assert "permission denied" in recorder.alarms[("write_failed", "line1")]
    finally:
        done.chmod(0o755)
        monkeypatch.undo()
    await settle_all(pipeline)  # the next scan retries the post-action
    assert recorder.done_names() == ["r.json"]
    assert (done / "r.json").exists()
    assert ("write_failed", "line1") not in recorder.alarms
    assert queue.counts()["queued"] == 1


@pytest.mark.parametrize(
    "error",
    [
        QueueWriteError("The report queue cannot be written: database or disk is full."),
        sqlite3.OperationalError("database or disk is full"),
        OSError(errno.ENOSPC, "No space left on device"),
    ],
    ids=["queue", "sqlite", "enospc"],
)
async def test_full_disk_leaves_the_file_and_raises_the_alarm(
    tmp_path: Path,
    start_pipeline: Factory,
    queue: ReportQueue,
    error: BaseException,
) -> None:
    watch = tmp_path / "in"
    store = FlakyStore(queue, error)
    _pipeline, recorder = await start_pipeline([converter(watch)], store=store)
    (watch / "r.json").write_bytes(wsjf_without_id())
    await wait_for(lambda: ("write_failed", "") in recorder.alarms)
    assert "cannot be written" in recorder.alarms[("write_failed", "")]
    await wait_for(lambda: store.refused >= 2)  # retried while the disk stays full
    assert (watch / "r.json").exists()
    assert recorder.done == []
    assert recorder.failed == []
    store.full = False  # space returns
    await wait_for(lambda: recorder.done_names() == ["r.json"])
    assert ("write_failed", "") not in recorder.alarms
    assert queue.counts()["queued"] == 1
    assert (watch / "Done" / "r.json").exists()


async def test_watch_folder_removed_and_recreated(tmp_path: Path, start_pipeline: Factory) -> None:
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch)])
    shutil.rmtree(watch)
    await wait_for(lambda: pipeline.stats()[0].state == "error")
    assert ("folder_missing", "line1") in recorder.alarms
    watch.mkdir()
    await wait_for(lambda: pipeline.stats()[0].state == "watching")
    assert ("folder_missing", "line1") not in recorder.alarms
    (watch / "back.json").write_bytes(wsjf_without_id())  # seen by the new watch, not a scan
    await wait_for(lambda: recorder.done_names() == ["back.json"])


async def test_missing_folder_at_start_is_an_error_state(
    tmp_path: Path, start_pipeline: Factory
) -> None:
    config = ConverterConfig(name="nowhere", converter="wsjf", watch_folder=tmp_path / "nope")
    pipeline, recorder = await start_pipeline([config])
    (stats,) = pipeline.stats()
    assert stats.state == "error"
    assert stats.last_error is not None
    assert "does not exist" in stats.last_error
    assert ("folder_missing", "nowhere") in recorder.alarms


# ---------------------------------------------------------------------------- live config


async def test_apply_config_adds_and_removes_converters_live(
    tmp_path: Path, start_pipeline: Factory
) -> None:
    first, second = converter(tmp_path / "a", "a"), converter(tmp_path / "b", "b")
    pipeline, recorder = await start_pipeline([first])
    started = time.monotonic()
    pipeline.apply_config([first, second])
    await wait_for(lambda: {s.name: s.state for s in pipeline.stats()}.get("b") == "watching")
    assert time.monotonic() - started < 2.0
    (tmp_path / "b" / "new.json").write_bytes(wsjf_without_id())
    await wait_for(lambda: recorder.done_names() == ["new.json"])
    pipeline.apply_config([second])
    assert [s.name for s in pipeline.stats()] == ["b"]
    (tmp_path / "a" / "ignored.json").write_bytes(wsjf_without_id("other"))
    (tmp_path / "b" / "taken.json").write_bytes(wsjf_without_id("taken"))
    await wait_for(lambda: "taken.json" in recorder.done_names())
    await settle_all(pipeline)
    assert (tmp_path / "a" / "ignored.json").exists()


async def test_disabled_converter_is_not_watched(tmp_path: Path, start_pipeline: Factory) -> None:
    watch = tmp_path / "in"
    pipeline, recorder = await start_pipeline([converter(watch, enabled=False)])
    (watch / "a.json").write_bytes(wsjf_without_id())
    await settle_all(pipeline)
    assert pipeline.stats()[0].state == "disabled"
    assert recorder.done == []
    assert (watch / "a.json").exists()


@pytest.mark.slow
async def test_fifty_megabyte_file(
    tmp_path: Path, start_pipeline: Factory, queue: ReportQueue, pool: ConversionPool
) -> None:
    watch = tmp_path / "in"
    step = {
        "group": "M",
        "stepType": "ET_NLT",
        "name": "Step",
        "status": "P",
        "reportText": "x" * 400,
        "numericMeas": [{"name": None, "status": "P", "compOp": "LOG", "value": 1.0}],
    }
    doc = json.loads(wsjf_without_id())
    doc["root"]["steps"] = [{**step, "id": i + 1} for i in range(90_000)]
    content = json.dumps(doc).encode()
    assert len(content) > 50_000_000
    pool.timeout_s = 120
    try:
        _pipeline, recorder = await start_pipeline([converter(watch)])
        (watch / "big.json").write_bytes(content)
        await wait_for(lambda: len(recorder.done) + len(recorder.failed) == 1, timeout=120)
    finally:
        pool.timeout_s = 2.0
    assert recorder.failed == []
    row = queue.get(recorder.done[0][1][0])
    assert row is not None
    assert row.payload is not None
    assert len(json.loads(row.payload)["root"]["steps"]) == 90_000
