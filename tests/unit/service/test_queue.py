"""The report queue: transitions, idempotency, group commit, browsing, files, reopening."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.service import queue_schema
from app.service.queue import (
    InvalidReportError,
    QueueError,
    ReportQueue,
    ReportState,
)
from app.service.queue_models import FileCounts, QueuedReport
from app.service.queue_schema import SCHEMA_VERSION

from .queue_support import T0, FakeTime, batch, report, wsjf


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "queue.db"


@pytest.fixture
def queue(db_path: Path, clock: FakeTime) -> Iterator[ReportQueue]:
    q = ReportQueue.open(db_path, now=clock)
    yield q
    q.close()


def state_of(queue: ReportQueue, report_id: str) -> ReportState:
    row = queue.get(report_id)
    assert row is not None
    return row.state


# ---------------------------------------------------------------- opening


def test_open_creates_a_wal_database_at_the_current_schema(db_path: Path) -> None:
    with ReportQueue.open(db_path):
        pass
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 1
    finally:
        conn.close()


def test_a_database_from_a_newer_program_is_refused_in_plain_words(db_path: Path) -> None:
    with ReportQueue.open(db_path):
        pass
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(QueueError, match="newer than this program"):
        ReportQueue.open(db_path)


def test_a_file_that_is_not_a_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(QueueError, match="damaged or not a database"):
        ReportQueue.open(db_path)


def test_a_closed_queue_says_so(queue: ReportQueue) -> None:
    queue.close()
    with pytest.raises(QueueError, match="closed"):
        queue.counts()


# ---------------------------------------------------------------- enqueue


def test_enqueue_stores_reports_headers_and_the_source_file(
    queue: ReportQueue, clock: FakeTime
) -> None:
    upper = "0B6F2A52-3C1E-4F0E-9A57-2D1C4B7E9F10"
    r1 = report(report_id=upper, sn="SN-7")
    r2 = report(sn="SN-8")
    [result] = queue.enqueue_files([batch([r1, r2], path="/in/two.json")])
    assert (result.ok, result.inserted, result.already_queued) == (True, 2, 0)

    row = queue.get(upper)  # lookups accept any case; ids are stored lowercase
    assert row is not None
    assert row.id == upper.lower()
    assert row.state is ReportState.QUEUED
    assert (row.attempts, row.next_attempt_at, row.created_at) == (0, T0, T0)
    assert row.payload == r1.payload
    assert row.payload_size == len(r1.payload)
    assert row.header == r1.header
    assert (row.source_path, row.converter) == ("/in/two.json", "wsjf")
    assert queue.counts() == {"queued": 2, "uploading": 0, "uploaded": 0, "rejected": 0}
    assert queue.files_today("wsjf", since=T0) == FileCounts(done=1, failed=0)


def test_enqueue_is_insert_or_ignore_by_id(queue: ReportQueue) -> None:
    file = batch([report(), report()])
    assert queue.enqueue_files([file])[0].inserted == 2
    again = queue.enqueue_files([file])[0]
    assert (again.inserted, again.already_queued, again.all_already_queued) == (0, 2, True)
    assert queue.counts()["queued"] == 2
    # The same id arriving from another file is the same report: nothing new either.
    other = batch([file.reports[0], report()], path="/in/other.json")
    assert queue.enqueue_files([other])[0].inserted == 1
    assert queue.list().total == 3


def test_an_uploaded_report_found_again_is_not_queued_again(
    queue: ReportQueue, clock: FakeTime
) -> None:
    file = batch([report()])
    queue.enqueue_files([file])
    [claimed] = queue.claim_due(clock.now, 10)
    queue.mark_uploaded(claimed.id, clock.now)
    assert queue.enqueue_files([file])[0].all_already_queued
    assert state_of(queue, claimed.id) is ReportState.UPLOADED


def test_group_commit_keeps_each_file_all_or_nothing(queue: ReportQueue) -> None:
    good1 = batch([report(sn="A1"), report(sn="A2")], path="/in/1.json")
    bad_id = batch([report(sn="B1"), replace(report(sn="B2"), id="not-a-uuid")], path="/in/2.json")
    # A value SQLite cannot store fails inside the database, after B3 was already inserted.
    too_big = replace(report(sn="C2"), header=replace(report().header, process_code=2**70))
    bad_db = batch([report(sn="C1"), too_big], path="/in/3.json")
    good2 = batch([report(sn="D1")], path="/in/4.json")

    results = queue.enqueue_files([good1, bad_id, bad_db, good2])

    assert [r.ok for r in results] == [True, False, False, True]
    assert "not a UUID" in (results[1].error or "")
    assert "could not be stored" in (results[2].error or "")
    stored = sorted(row.header.sn or "" for row in queue.list().rows)
    assert stored == ["A1", "A2", "D1"]
    assert queue.files_today("wsjf", since=0).done == 2


def test_enqueue_of_nothing_and_of_a_file_with_no_reports(queue: ReportQueue) -> None:
    assert queue.enqueue_files([]) == []
    [empty] = queue.enqueue_files([batch([], path="/in/empty.json")])
    assert (empty.ok, empty.inserted, empty.all_already_queued) == (True, 0, False)
    assert queue.files_today("wsjf", since=0).done == 1


# ---------------------------------------------------------------- upload transitions


def test_claim_moves_due_reports_to_uploading_oldest_first(
    queue: ReportQueue, clock: FakeTime
) -> None:
    first = report(sn="first")
    queue.enqueue_files([batch([first])])
    clock.now += 1
    second = report(sn="second")
    queue.enqueue_files([batch([second], path="/in/b.json")])

    claimed = queue.claim_due(clock.now, 1)
    assert [c.id for c in claimed] == [first.id]
    assert claimed[0].payload == first.payload
    assert claimed[0].attempts == 0
    assert state_of(queue, first.id) is ReportState.UPLOADING
    assert [c.id for c in queue.claim_due(clock.now, 5)] == [second.id]
    assert queue.claim_due(clock.now, 5) == []
    assert queue.claim_due(clock.now, 0) == []


def test_uploaded(queue: ReportQueue, clock: FakeTime) -> None:
    r = report()
    queue.enqueue_files([batch([r])])
    queue.claim_due(clock.now, 1)
    assert queue.mark_uploaded(r.id, T0 + 5)
    row = queue.get(r.id)
    assert row is not None
    assert (row.state, row.attempts, row.uploaded_at, row.last_error) == (
        ReportState.UPLOADED,
        1,
        T0 + 5,
        None,
    )
    # Only an uploading row takes an outcome.
    assert not queue.mark_uploaded(r.id, T0 + 6)
    assert not queue.mark_retry(r.id, T0 + 6, T0 + 10, "late")


def test_retry_later_is_not_claimed_before_it_is_due(queue: ReportQueue, clock: FakeTime) -> None:
    r = report()
    queue.enqueue_files([batch([r])])
    queue.claim_due(clock.now, 1)
    assert queue.mark_retry(r.id, T0, T0 + 30, "HTTP 503")
    row = queue.get(r.id)
    assert row is not None
    assert (row.state, row.attempts, row.next_attempt_at, row.last_error) == (
        ReportState.QUEUED,
        1,
        T0 + 30,
        "HTTP 503",
    )
    assert queue.next_due_time() == T0 + 30
    assert queue.claim_due(T0 + 29.9, 10) == []
    [again] = queue.claim_due(T0 + 30, 10)
    assert again.attempts == 1


def test_rejected_is_parked_with_the_message_and_can_be_retried(
    queue: ReportQueue, clock: FakeTime
) -> None:
    r = report()
    queue.enqueue_files([batch([r])])
    queue.claim_due(clock.now, 1)
    assert queue.mark_rejected(r.id, T0, "Unknown process code 999")
    row = queue.get(r.id)
    assert row is not None
    assert (row.state, row.last_error) == (ReportState.REJECTED, "Unknown process code 999")
    assert queue.next_due_time() is None
    assert queue.claim_due(T0 + 10_000, 10) == []

    clock.now = T0 + 60
    assert queue.retry(r.id)
    assert state_of(queue, r.id) is ReportState.QUEUED
    assert queue.next_due_time() == T0 + 60


def test_retry_makes_a_waiting_report_due_now_but_not_an_uploaded_one(
    queue: ReportQueue, clock: FakeTime
) -> None:
    waiting, done = report(), report()
    queue.enqueue_files([batch([waiting, done])])
    queue.claim_due(clock.now, 2)
    queue.mark_retry(waiting.id, T0, T0 + 300, "timeout")
    queue.mark_uploaded(done.id, T0)
    clock.now = T0 + 1
    assert queue.retry(waiting.id)
    assert queue.next_due_time() == T0 + 1
    assert not queue.retry(done.id)
    assert not queue.retry("00000000-0000-0000-0000-000000000000")


def test_release_and_reset_uploading_do_not_count_an_attempt(
    queue: ReportQueue, clock: FakeTime
) -> None:
    a, b = report(), report()
    queue.enqueue_files([batch([a, b])])
    queue.claim_due(clock.now, 2)
    assert queue.release(a.id)
    assert not queue.release(a.id)
    assert state_of(queue, a.id) is ReportState.QUEUED
    assert queue.reset_uploading() == 1
    assert queue.counts() == {"queued": 2, "uploading": 0, "uploaded": 0, "rejected": 0}
    assert {c.attempts for c in queue.claim_due(clock.now, 2)} == {0}


def test_resubmit_replaces_the_payload_and_header_of_a_rejected_report(
    queue: ReportQueue, clock: FakeTime
) -> None:
    r = report(sn="BAD SN")
    queue.enqueue_files([batch([r])])
    queue.claim_due(clock.now, 1)
    queue.mark_retry(r.id, T0, T0, "HTTP 502")
    queue.claim_due(clock.now, 1)
    queue.mark_rejected(r.id, T0, "SN contains a space")

    fixed = json.dumps(wsjf(report_id=r.id.upper(), sn="SN-FIXED")).encode()
    assert queue.resubmit(r.id, fixed)
    row = queue.get(r.id)
    assert row is not None
    assert (row.state, row.attempts, row.last_error, row.header.sn) == (
        ReportState.QUEUED,
        0,
        None,
        "SN-FIXED",
    )
    assert row.payload == fixed
    [claimed] = queue.claim_due(clock.now, 1)
    assert claimed.payload == fixed
    # Only rejected reports take a new payload.
    assert not queue.resubmit(r.id, fixed)


def test_resubmit_refuses_a_payload_with_another_id(queue: ReportQueue, clock: FakeTime) -> None:
    r = report()
    queue.enqueue_files([batch([r])])
    queue.claim_due(clock.now, 1)
    queue.mark_rejected(r.id, T0, "bad")
    with pytest.raises(InvalidReportError, match="must keep its id"):
        queue.resubmit(r.id, json.dumps(wsjf()).encode())
    with pytest.raises(InvalidReportError, match="not valid JSON"):
        queue.resubmit(r.id, b"<xml/>")
    assert state_of(queue, r.id) is ReportState.REJECTED


def test_delete_removes_the_report_but_not_while_uploading(
    queue: ReportQueue, clock: FakeTime
) -> None:
    a, b = report(), report()
    queue.enqueue_files([batch([a, b])])
    assert queue.delete(a.id)
    assert queue.get(a.id) is None
    assert not queue.delete(a.id)
    queue.claim_due(clock.now, 1)
    assert not queue.delete(b.id)
    assert queue.mark_uploaded(b.id, T0)
    assert queue.delete(b.id)
    assert queue.counts() == {"queued": 0, "uploading": 0, "uploaded": 0, "rejected": 0}


def test_an_outcome_for_a_report_deleted_meanwhile_is_ignored(
    queue: ReportQueue, clock: FakeTime
) -> None:
    r = report()
    queue.enqueue_files([batch([r])])
    queue.claim_due(clock.now, 1)
    queue.reset_uploading()
    assert queue.delete(r.id)
    assert not queue.mark_uploaded(r.id, T0)
    assert queue.get(r.id) is None


def test_prune_drops_old_payloads_and_keeps_headers(queue: ReportQueue, clock: FakeTime) -> None:
    old, recent, waiting = report(sn="old"), report(sn="recent"), report(sn="waiting")
    queue.enqueue_files([batch([old, recent, waiting])])
    queue.claim_due(clock.now, 2)
    queue.mark_uploaded(old.id, T0 + 10)
    queue.mark_uploaded(recent.id, T0 + 100)
    clock.now = T0 + 200

    assert queue.prune(older_than=T0 + 50) == 1
    assert queue.prune(older_than=T0 + 50) == 0
    pruned = queue.get(old.id)
    assert pruned is not None
    assert (pruned.pruned, pruned.payload, pruned.header.sn) == (True, None, "old")
    assert pruned.payload_size == len(old.payload)
    kept = queue.get(recent.id)
    assert kept is not None
    assert (kept.pruned, kept.payload) == (False, recent.payload)
    assert queue.get(waiting.id) is not None
    assert queue.list(state="uploaded").total == 2


def test_next_due_time_and_counts(queue: ReportQueue, clock: FakeTime) -> None:
    assert queue.next_due_time() is None
    assert queue.counts() == {"queued": 0, "uploading": 0, "uploaded": 0, "rejected": 0}
    queue.enqueue_files([batch([report(), report(), report()])])
    queue.claim_due(clock.now, 1)
    assert queue.next_due_time() == T0
    assert queue.counts() == {"queued": 2, "uploading": 1, "uploaded": 0, "rejected": 0}


# ---------------------------------------------------------------- browsing


def fill(queue: ReportQueue, clock: FakeTime, n: int) -> list[QueuedReport]:
    reports = []
    for i in range(n):
        clock.now = T0 + i
        r = report(
            sn=f"SN-{i:03d}",
            pn="PN-EVEN" if i % 2 == 0 else "PN-ODD",
            # Start order is the reverse of creation order.
            start=f"2025-03-01T10:{59 - i:02d}:00+01:00",
        )
        queue.enqueue_files([batch([r], path=f"/in/{i}.json")])
        reports.append(r)
    return reports


def test_list_pages_and_sorts(queue: ReportQueue, clock: FakeTime) -> None:
    fill(queue, clock, 25)
    page = queue.list(limit=10)
    assert page.total == 25
    assert [r.header.sn for r in page.rows] == [f"SN-{i:03d}" for i in range(24, 14, -1)]
    assert all(r.payload is None for r in page.rows)
    last = queue.list(offset=20, limit=10)
    assert [r.header.sn for r in last.rows] == [f"SN-{i:03d}" for i in range(4, -1, -1)]
    asc = queue.list(sort="created_asc", limit=3)
    assert [r.header.sn for r in asc.rows] == ["SN-000", "SN-001", "SN-002"]
    by_start = queue.list(sort="start_asc", limit=3)
    assert [r.header.sn for r in by_start.rows] == ["SN-024", "SN-023", "SN-022"]
    by_start_desc = queue.list(sort="start_desc", limit=2)
    assert [r.header.sn for r in by_start_desc.rows] == ["SN-000", "SN-001"]
    with pytest.raises(ValueError, match="unknown sort"):
        queue.list(sort="random")


def test_list_filters_by_state_and_searches(queue: ReportQueue, clock: FakeTime) -> None:
    reports = fill(queue, clock, 12)
    queue.claim_due(clock.now, 3)
    for r in reports[:3]:
        queue.mark_rejected(r.id, clock.now, "bad")

    rejected = queue.list(state="rejected")
    assert rejected.total == 3
    assert {r.state for r in rejected.rows} == {ReportState.REJECTED}
    assert queue.list(search="pn-odd").total == 6  # case-insensitive substring
    found = queue.list(search="SN-01")
    assert (found.total, {r.header.sn for r in found.rows}) == (2, {"SN-010", "SN-011"})
    assert queue.list(state="rejected", search="PN-EVEN").total == 2
    assert queue.list(search=reports[5].id[:13]).rows[0].id == reports[5].id
    # LIKE wildcards in the search text are literal.
    assert queue.list(search="SN_0").total == 0
    assert queue.list(search="%").total == 0
    assert queue.list(search="0_").total == 0  # too short for the index: LIKE, escaped
    assert queue.list(search="-0").total == 12
    with pytest.raises(ValueError, match="unknown state"):
        queue.list(state="lost")


def test_search_index_follows_resubmit_and_delete(queue: ReportQueue, clock: FakeTime) -> None:
    r = report(sn="OLD-SERIAL", operator="Kari Nordmann")
    queue.enqueue_files([batch([r])])
    assert queue.list(search="nordmann").total == 1  # spaces and case do not matter
    assert queue.list(search="ri No").total == 1
    queue.claim_due(clock.now, 1)
    queue.mark_rejected(r.id, T0, "bad serial")
    queue.resubmit(r.id, json.dumps(wsjf(report_id=r.id, sn="NEW-SERIAL")).encode())
    assert queue.list(search="OLD-SERIAL").total == 0
    assert queue.list(search="new-serial").total == 1
    assert queue.list(search='"quoted"').total == 0  # quotes cannot break the query
    queue.delete(r.id)
    assert queue.list(search="NEW-SERIAL").total == 0


def test_search_without_fts5_falls_back_to_like(
    db_path: Path, clock: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_schema, "fts5_trigram_available", lambda conn: False)
    with ReportQueue.open(db_path, now=clock) as q:
        fill(q, clock, 12)
        found = q.list(search="sn-01")
        assert (found.total, {r.header.sn for r in found.rows}) == (2, {"SN-010", "SN-011"})
        assert q.list(search="SN_0").total == 0
    conn = sqlite3.connect(db_path)
    try:
        assert not queue_schema.has_search_index(conn)
    finally:
        conn.close()


def test_headers_since_yields_in_start_order_across_chunks(
    queue: ReportQueue, clock: FakeTime
) -> None:
    base = 1_740_000_000
    files = []
    for i in range(2500):
        start = f"2025-02-19T21:{(i // 60) % 60:02d}:{i % 60:02d}+00:00"
        files.append(batch([report(sn=f"U{i}", start=start)], path=f"/in/{i}"))
    queue.enqueue_files(files)
    rows = list(queue.headers_since(0))
    assert len(rows) == 2500
    starts = [r.header.start_utc or 0 for r in rows]
    assert starts == sorted(starts)
    assert len({r.id for r in rows}) == 2500
    later = list(queue.headers_since(starts[1500]))
    assert len(later) == sum(1 for s in starts if s >= starts[1500])
    assert all(r.header.start_utc is not None and r.header.start_utc >= base for r in later)


# ---------------------------------------------------------------- source files


def test_failed_files_are_listed_forgotten_and_counted(queue: ReportQueue, clock: FakeTime) -> None:
    key = queue.record_failed_file("csv", "/in/x.csv", "AB" * 32, "line 3: no serial number")
    [failed] = queue.failed_files()
    assert (failed.key, failed.path, failed.converter, failed.error) == (
        key,
        "/in/x.csv",
        "csv",
        "line 3: no serial number",
    )
    assert failed.sha256 == "ab" * 32
    queue.enqueue_files([batch([report()], path="/in/y.csv", converter="csv")])
    assert queue.files_today("csv", since=T0) == FileCounts(done=1, failed=1)
    assert queue.files_today("csv", since=T0 + 1) == FileCounts()
    assert queue.files_today("wsjf", since=0) == FileCounts()
    assert queue.forget_failed_file(key)
    assert not queue.forget_failed_file(key)
    assert queue.failed_files() == []


def test_a_failed_file_converted_later_is_done(queue: ReportQueue) -> None:
    file = batch([report()], path="/in/z.json")
    queue.record_failed_file(file.converter, file.source_path, file.source_sha256, "boom")
    queue.enqueue_files([file])
    assert queue.failed_files() == []
    assert queue.files_today("wsjf", since=0) == FileCounts(done=1, failed=0)


# ---------------------------------------------------------------- persistence, threads


def test_reopen_after_close_keeps_everything(db_path: Path, clock: FakeTime) -> None:
    a, b, c = report(sn="a"), report(sn="b"), report(sn="c")
    with ReportQueue.open(db_path, now=clock) as q:
        q.enqueue_files([batch([a, b, c])])
        q.claim_due(clock.now, 3)
        q.mark_uploaded(a.id, T0 + 1)
        q.mark_rejected(b.id, T0 + 2, "nope")
        q.record_failed_file("wsjf", "/in/bad.json", "00" * 32, "not JSON")
    with ReportQueue.open(db_path, now=clock) as q:
        assert q.counts() == {"queued": 0, "uploading": 1, "uploaded": 1, "rejected": 1}
        assert q.reset_uploading() == 1
        row = q.get(b.id)
        assert row is not None
        assert (row.last_error, row.payload) == ("nope", b.payload)
        assert [f.path for f in q.failed_files()] == ["/in/bad.json"]
        assert q.integrity_check() == "ok"


def test_threads_never_claim_the_same_report_twice(queue: ReportQueue, clock: FakeTime) -> None:
    queue.enqueue_files([batch([report(sn=f"T{i}") for i in range(400)])])
    seen: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        while claimed := queue.claim_due(clock.now, 3):
            for c in claimed:
                queue.mark_uploaded(c.id, clock.now)
            with lock:
                seen.extend(c.id for c in claimed)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(seen) == 400
    assert len(set(seen)) == 400
    assert queue.counts()["uploaded"] == 400
