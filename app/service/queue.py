"""The durable report queue: one SQLite database, the single source of truth (DESIGN.md §3).

Only the worker opens it. Calls are synchronous and short; the worker runs them on an
executor thread, so the class serialises them with one lock around one connection.

Durability:
- WAL mode. Every change is one transaction, so a power cut at any instant leaves either
  the state before or the state after it, never half.
- `synchronous=FULL` for commits that must survive a power cut once they returned: enqueue
  (the source file is moved or deleted right after), user actions (retry, resubmit, delete)
  and the source-file log.
- `synchronous=NORMAL` for upload bookkeeping (claim, uploaded, retry, rejected, release,
  prune). In WAL mode NORMAL never corrupts the database; a power cut can only lose the last
  few such commits. Losing "uploaded" or "uploading" means one more upload of the same id,
  which the server upserts (wats-api.md §6.1); losing "rejected" means one more 400. Paying
  an fsync per upload for that would halve upload throughput on a slow disk.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from app.core.closing import ClosesOnExit
from app.service.queue_models import (
    HEADER_COLUMNS,
    ClaimedReport,
    EnqueueResult,
    FailedFile,
    FileCounts,
    FileState,
    InvalidReportError,
    Page,
    QueuedReport,
    QueueError,
    QueueWriteError,
    ReportHeader,
    ReportRow,
    ReportState,
    SourceBatch,
    normalize_id,
    parse_payload,
    source_key,
)
from app.service.queue_schema import (
    SEARCH_COLUMNS,
    SEARCH_TABLE,
    SchemaTooNewError,
    has_search_index,
    migrate,
)

__all__ = [
    "ClaimedReport",
    "EnqueueResult",
    "FailedFile",
    "FileCounts",
    "InvalidReportError",
    "Page",
    "QueueError",
    "QueueWriteError",
    "QueuedReport",
    "ReportHeader",
    "ReportQueue",
    "ReportRow",
    "ReportState",
    "SourceBatch",
]

_META_COLUMNS = (
    "id",
    "state",
    "attempts",
    "next_attempt_at",
    "last_error",
    "created_at",
    "updated_at",
    "uploaded_at",
    "source_path",
    "source_sha256",
    "converter",
    "payload_size",
    "pruned_at",
)
_ROW_COLUMNS = _META_COLUMNS + HEADER_COLUMNS
_SELECT_ROW = ", ".join(f"r.{c}" for c in _ROW_COLUMNS)

_INSERT_REPORT = (
    f"INSERT OR IGNORE INTO reports ({', '.join(_ROW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _ROW_COLUMNS)})"
)

# Every sort order is served by an index (queue_schema.py), so a page costs ~limit reads.
# "created" is insertion order, i.e. rowid order: the same as created_at order unless the
# wall clock stepped back, and unlike created_at also the order the search index keeps.
SORTS: dict[str, str] = {
    "created_desc": "r.rowid DESC",
    "created_asc": "r.rowid ASC",
    "start_desc": "r.start_utc DESC, r.rowid DESC",
    "start_asc": "r.start_utc ASC, r.rowid ASC",
}

_HEADER_CHUNK = 1000
# Prune in short transactions so the uploader and enqueue never wait seconds for the lock.
_PRUNE_CHUNK = 500
# The trigram index needs three characters; shorter searches scan with LIKE.
_MIN_INDEXED_SEARCH = 3


class ReportQueue(ClosesOnExit):
    """Thread-safe access to the queue database. Create with `ReportQueue.open(path)`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, now: Callable[[], float]) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._path = path
        self._now = now
        self._lock = threading.Lock()
        self._synchronous = ""
        self._indexed_search = has_search_index(conn)

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, now: Callable[[], float] = time.time) -> Self:
        """Open (creating or migrating) the queue database at `path`."""
        db_path = Path(path)
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                db_path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        except (OSError, sqlite3.Error) as exc:
            raise QueueError(f"The report queue at {db_path} cannot be opened: {exc}.") from exc
        try:
            conn.row_factory = sqlite3.Row
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise QueueError(
                    f"The report queue at {db_path} cannot use write-ahead logging "
                    f"(the file system gave {mode!r}); put the data folder on a local disk."
                )
            conn.execute("PRAGMA foreign_keys = ON")
            # Keep the WAL file from growing without bound after a large burst.
            conn.execute("PRAGMA journal_size_limit = 67108864")
            migrate(conn)
        except SchemaTooNewError as exc:
            conn.close()
            raise QueueError(f"The report queue at {db_path} cannot be used: {exc}.") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise QueueError(
                f"The report queue at {db_path} is damaged or not a database: {exc}."
            ) from exc
        except BaseException:
            conn.close()
            raise
        queue = cls(conn, db_path, now)
        queue._set_synchronous("FULL")
        return queue

    @property
    def path(self) -> Path:
        return self._path

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("PRAGMA optimize")
            self._conn.close()
            self._conn = None

    def integrity_check(self) -> str:
        """SQLite's verdict on the file: "ok" or the problems found."""
        with self._lock:
            rows = self._db().execute("PRAGMA integrity_check").fetchall()
        return "\n".join(str(r[0]) for r in rows)

    # ------------------------------------------------------------------ enqueue

    def enqueue_files(self, batches: Sequence[SourceBatch]) -> list[EnqueueResult]:
        """Store the reports of several source files in ONE durable transaction.

        Each file is all-or-nothing (a savepoint); ids already present are ignored, so a
        file found again after a crash inserts nothing and reports them `already_queued`.
        Returns after the commit is on disk. Raises QueueWriteError if nothing was stored.
        """
        prepared = [(batch, _prepare(batch)) for batch in batches]
        with self._lock, self._transaction(durable=True) as conn:
            now = self._now()
            return [
                self._enqueue_one(conn, batch, rows, now)
                if not isinstance(rows, str)
                else EnqueueResult(key=batch.key, error=rows)
                for batch, rows in prepared
            ]

    def _enqueue_one(
        self,
        conn: sqlite3.Connection,
        batch: SourceBatch,
        reports: list[QueuedReport],
        now: float,
    ) -> EnqueueResult:
        conn.execute("SAVEPOINT source_file")
        try:
            inserted = 0
            for report in reports:
                values = (
                    report.id,
                    ReportState.QUEUED.value,
                    0,
                    now,
                    None,
                    now,
                    now,
                    None,
                    batch.source_path,
                    batch.source_sha256.lower(),
                    batch.converter,
                    len(report.payload),
                    None,
                    *_header_values(report.header),
                )
                if conn.execute(_INSERT_REPORT, values).rowcount == 1:
                    conn.execute(
                        "INSERT INTO report_payloads (id, payload) VALUES (?, ?)",
                        (report.id, report.payload),
                    )
                    inserted += 1
            _upsert_file(
                conn, batch, state=FileState.DONE, report_count=len(reports), error=None, now=now
            )
            conn.execute("RELEASE source_file")
        except (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError) as exc:
            # This file's data is unacceptable; undo only this file, keep the others.
            conn.execute("ROLLBACK TO source_file")
            conn.execute("RELEASE source_file")
            return EnqueueResult(key=batch.key, error=f"the reports could not be stored: {exc}")
        return EnqueueResult(
            key=batch.key, inserted=inserted, already_queued=len(reports) - inserted
        )

    # ------------------------------------------------------------------ uploader

    def reset_uploading(self) -> int:
        """At start: every `uploading` row goes back to `queued`. Returns how many."""
        with self._lock, self._transaction(durable=False) as conn:
            return conn.execute(
                "UPDATE reports SET state = 'queued', updated_at = ? WHERE state = 'uploading'",
                (self._now(),),
            ).rowcount

    def claim_due(self, now: float, limit: int) -> list[ClaimedReport]:
        """Move up to `limit` due queued reports to `uploading`, oldest due first."""
        if limit <= 0:
            return []
        with self._lock, self._transaction(durable=False) as conn:
            rows = conn.execute(
                "SELECT r.id, r.attempts, p.payload FROM reports r "
                "LEFT JOIN report_payloads p ON p.id = r.id "
                "WHERE r.state = 'queued' AND r.next_attempt_at <= ? "
                "ORDER BY r.next_attempt_at, r.rowid LIMIT ?",
                (now, limit),
            ).fetchall()
            claimed: list[ClaimedReport] = []
            for row in rows:
                if row["payload"] is None:
                    # Cannot happen through this API; never let such a row spin the uploader.
                    conn.execute(
                        "UPDATE reports SET state = 'rejected', updated_at = ?, last_error = ? "
                        "WHERE id = ?",
                        (now, "the report's content is missing from the queue", row["id"]),
                    )
                    continue
                conn.execute(
                    "UPDATE reports SET state = 'uploading', updated_at = ? WHERE id = ?",
                    (now, row["id"]),
                )
                claimed.append(
                    ClaimedReport(id=row["id"], payload=bytes(row["payload"]), attempts=row[1])
                )
            return claimed

    def mark_uploaded(self, report_id: str, now: float) -> bool:
        return self._finish(
            report_id,
            "state = 'uploaded', attempts = attempts + 1, uploaded_at = ?, updated_at = ?, "
            "last_error = NULL",
            (now, now),
        )

    def mark_uploaded_many(self, report_ids: Sequence[str], now: float) -> list[str]:
        """Mark several uploads done in one transaction; returns the ids that changed."""
        changed: list[str] = []
        with self._lock, self._transaction(durable=False) as conn:
            for report_id in report_ids:
                cursor = conn.execute(
                    "UPDATE reports SET state = 'uploaded', attempts = attempts + 1, "
                    "uploaded_at = ?, updated_at = ?, last_error = NULL "
                    "WHERE id = ? AND state = 'uploading'",
                    (now, now, _canonical(report_id)),
                )
                if cursor.rowcount == 1:
                    changed.append(_canonical(report_id))
        return changed

    def mark_retry(self, report_id: str, now: float, next_attempt_at: float, error: str) -> bool:
        return self._finish(
            report_id,
            "state = 'queued', attempts = attempts + 1, next_attempt_at = ?, updated_at = ?, "
            "last_error = ?",
            (next_attempt_at, now, error),
        )

    def mark_rejected(self, report_id: str, now: float, message: str) -> bool:
        return self._finish(
            report_id,
            "state = 'rejected', attempts = attempts + 1, updated_at = ?, last_error = ?",
            (now, message),
        )

    def release(self, report_id: str) -> bool:
        """Back to `queued` without counting an attempt (graceful shutdown)."""
        return self._finish(report_id, "state = 'queued', updated_at = ?", (self._now(),))

    def _finish(self, report_id: str, assignments: str, params: tuple[Any, ...]) -> bool:
        # Only an `uploading` row is changed: a user's delete or a restart's reset that
        # happened meanwhile wins over a late upload outcome.
        with self._lock, self._transaction(durable=False) as conn:
            cursor = conn.execute(
                f"UPDATE reports SET {assignments} WHERE id = ? AND state = 'uploading'",
                (*params, _canonical(report_id)),
            )
            return cursor.rowcount == 1

    def next_due_time(self) -> float | None:
        """When the earliest queued report is due (may be in the past), or None."""
        with self._lock:
            row = (
                self._db()
                .execute("SELECT min(next_attempt_at) FROM reports WHERE state = 'queued'")
                .fetchone()
            )
        return None if row[0] is None else float(row[0])

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = (
                self._db().execute("SELECT state, count(*) FROM reports GROUP BY state").fetchall()
            )
        counts = {state.value: 0 for state in ReportState}
        counts.update({str(r[0]): int(r[1]) for r in rows})
        return counts

    # ------------------------------------------------------------------ browsing

    def list(
        self,
        state: str | None = None,
        search: str | None = None,
        sort: str = "created_desc",
        offset: int = 0,
        limit: int = 100,
    ) -> Page:
        """One page of header rows (no payloads) and the total matching the filter."""
        if sort not in SORTS:
            raise ValueError(f"unknown sort {sort!r}; use one of {', '.join(SORTS)}")
        query = _listing(state, search, sort, indexed=self._indexed_search)
        with self._lock:
            conn = self._db()
            total = int(conn.execute(query.count_sql, query.count_params).fetchone()[0])
            rows = conn.execute(
                f"{query.page_sql} LIMIT ? OFFSET ?",
                (*query.page_params, max(0, limit), max(0, offset)),
            ).fetchall()
        return Page(rows=[_report_row(r) for r in rows], total=total)

    def get(self, report_id: str) -> ReportRow | None:
        """One report with its payload (None if pruned)."""
        with self._lock:
            row = (
                self._db()
                .execute(
                    f"SELECT {_SELECT_ROW}, p.payload FROM reports r "
                    "LEFT JOIN report_payloads p ON p.id = r.id WHERE r.id = ?",
                    (_canonical(report_id),),
                )
                .fetchone()
            )
        if row is None:
            return None
        payload = row["payload"]
        return _report_row(row, None if payload is None else bytes(payload))

    def headers_since(self, start_utc: float) -> Iterator[ReportRow]:
        """Rows (no payloads) whose start is at or after `start_utc`, oldest first.

        Read in chunks, taking the lock per chunk, so the uploader is never blocked for
        the whole scan.
        """
        last: tuple[float, int] = (start_utc, -1)
        while True:
            with self._lock:
                rows = (
                    self._db()
                    .execute(
                        f"SELECT {_SELECT_ROW}, r.rowid AS row_key FROM reports r "
                        "WHERE r.start_utc >= ? AND (r.start_utc, r.rowid) > (?, ?) "
                        "ORDER BY r.start_utc, r.rowid LIMIT ?",
                        (start_utc, last[0], last[1], _HEADER_CHUNK),
                    )
                    .fetchall()
                )
            for row in rows:
                yield _report_row(row)
            if len(rows) < _HEADER_CHUNK:
                return
            last = (float(rows[-1]["start_utc"]), int(rows[-1]["row_key"]))

    # ------------------------------------------------------------------ user actions

    def retry(self, report_id: str) -> bool:
        """A rejected or waiting report: queue it, due now."""
        return bool(self.retry_many([report_id]))

    def retry_many(self, report_ids: Sequence[str]) -> builtins.list[str]:
        """`retry` for many reports in one durable transaction; returns the ids it changed."""
        now = self._now()
        return self._change_each(
            report_ids,
            "UPDATE reports SET state = 'queued', next_attempt_at = ?, updated_at = ? "
            "WHERE id = ? AND state IN ('rejected', 'queued')",
            (now, now),
        )

    def resubmit(self, report_id: str, payload: bytes) -> bool:
        """Replace a rejected report's payload (same id) and queue it, due now.

        The header columns are read again from the new payload. Raises InvalidReportError
        if the payload is not a WSJF object with the same id.
        """
        canonical = _canonical(report_id)
        doc = parse_payload(payload)
        if normalize_id(doc.get("id")) != canonical:
            raise InvalidReportError(
                f"the corrected report must keep its id {canonical}; it has {doc.get('id')!r}"
            )
        header = ReportHeader.from_wsjf(doc)
        now = self._now()
        assignments = ", ".join(f"{c} = ?" for c in HEADER_COLUMNS)
        with self._lock, self._transaction(durable=True) as conn:
            changed = conn.execute(
                "UPDATE reports SET state = 'queued', attempts = 0, next_attempt_at = ?, "
                "updated_at = ?, last_error = NULL, payload_size = ?, pruned_at = NULL, "
                f"{assignments} WHERE id = ? AND state = 'rejected'",
                (now, now, len(payload), *_header_values(header), canonical),
            ).rowcount
            if changed != 1:
                return False
            conn.execute(
                "INSERT OR REPLACE INTO report_payloads (id, payload) VALUES (?, ?)",
                (canonical, bytes(payload)),
            )
            return True

    def delete(self, report_id: str) -> bool:
        """Remove a report and its payload; refused (False) while it is being uploaded."""
        return bool(self.delete_many([report_id]))

    def delete_many(self, report_ids: Sequence[str]) -> builtins.list[str]:
        """`delete` for many reports in one durable transaction; returns the ids it removed."""
        return self._change_each(
            report_ids, "DELETE FROM reports WHERE id = ? AND state != 'uploading'", ()
        )

    def _change_each(
        self, report_ids: Sequence[str], statement: str, params: tuple[Any, ...]
    ) -> builtins.list[str]:
        # One transaction (one fsync) for the lot: a user's bulk action on 10,000 reports
        # takes a moment, not one disk flush per report.
        changed: builtins.list[str] = []
        with self._lock, self._transaction(durable=True) as conn:
            for report_id in dict.fromkeys(map(_canonical, report_ids)):
                if conn.execute(statement, (*params, report_id)).rowcount == 1:
                    changed.append(report_id)
        return changed

    def prune(self, older_than: float) -> int:
        """Drop the payloads of reports uploaded before `older_than`; keep their headers.

        Works in short transactions (a crash in between just leaves the rest for next time).
        """
        pruned = 0
        while True:
            now = self._now()
            with self._lock, self._transaction(durable=False) as conn:
                ids = [
                    row[0]
                    for row in conn.execute(
                        "SELECT id FROM reports WHERE state = 'uploaded' AND uploaded_at < ? "
                        "AND pruned_at IS NULL LIMIT ?",
                        (older_than, _PRUNE_CHUNK),
                    )
                ]
                marks = ", ".join("?" for _ in ids)
                if ids:
                    conn.execute(f"DELETE FROM report_payloads WHERE id IN ({marks})", ids)
                    conn.execute(
                        f"UPDATE reports SET pruned_at = ? WHERE id IN ({marks})", (now, *ids)
                    )
            pruned += len(ids)
            if len(ids) < _PRUNE_CHUNK:
                return pruned

    # ------------------------------------------------------------------ source files

    def record_failed_file(self, converter: str, path: str, sha256: str, error: str) -> str:
        """Log a source file that could not be converted; returns its key."""
        batch = SourceBatch(converter=converter, source_path=path, source_sha256=sha256, reports=())
        with self._lock, self._transaction(durable=True) as conn:
            _upsert_file(
                conn, batch, state=FileState.FAILED, report_count=0, error=error, now=self._now()
            )
        return batch.key

    def failed_files(self) -> builtins.list[FailedFile]:
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT key, path, converter, sha256, error, updated_at FROM source_files "
                    "WHERE state = 'failed' ORDER BY updated_at DESC"
                )
                .fetchall()
            )
        return [
            FailedFile(
                key=r["key"],
                path=r["path"],
                converter=r["converter"],
                sha256=r["sha256"],
                error=r["error"],
                updated_at=float(r["updated_at"]),
            )
            for r in rows
        ]

    def forget_failed_file(self, key: str) -> bool:
        with self._lock, self._transaction(durable=True) as conn:
            return (
                conn.execute(
                    "DELETE FROM source_files WHERE key = ? AND state = 'failed'", (key,)
                ).rowcount
                == 1
            )

    def file_done(self, converter: str, sha256: str, path: str) -> bool:
        """Whether this file (same converter, bytes and path) had its reports committed.

        The keep post-action leaves files in the watch folder; this is how a rescan or a
        restart recognises one by its hash instead of converting it again.
        """
        with self._lock:
            row = (
                self._db()
                .execute(
                    "SELECT 1 FROM source_files WHERE key = ? AND state = 'done'",
                    (source_key(converter, sha256, path),),
                )
                .fetchone()
            )
        return row is not None

    def files_today(self, converter: str, since: float) -> FileCounts:
        """How many files of `converter` were done and failed since `since` (epoch s)."""
        with self._lock:
            rows = (
                self._db()
                .execute(
                    "SELECT state, count(*) FROM source_files "
                    "WHERE converter = ? AND updated_at >= ? GROUP BY state",
                    (converter, since),
                )
                .fetchall()
            )
        found = {str(r[0]): int(r[1]) for r in rows}
        return FileCounts(done=found.get("done", 0), failed=found.get("failed", 0))

    # ------------------------------------------------------------------ plumbing

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise QueueError("The report queue is closed.")
        return self._conn

    def _set_synchronous(self, level: str) -> None:
        # SQLite refuses to change the safety level inside a transaction, so this runs
        # before BEGIN; it is a no-op when the level is already right.
        if self._synchronous != level:
            self._db().execute(f"PRAGMA synchronous = {level}")
            self._synchronous = level

    @contextlib.contextmanager
    def _transaction(self, durable: bool) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction; storage errors become QueueWriteError."""
        conn = self._db()
        try:
            self._set_synchronous("FULL" if durable else "NORMAL")
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise QueueWriteError(f"The report queue cannot be written: {exc}.") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise QueueWriteError(f"The report queue cannot be written: {exc}.") from exc
            raise


def _prepare(batch: SourceBatch) -> list[QueuedReport] | str:
    """Validate one file's reports before touching the database; a str is the error."""
    prepared: list[QueuedReport] = []
    try:
        for report in batch.reports:
            if not isinstance(report.payload, bytes | bytearray | memoryview):
                return "a report's content is not bytes"
            prepared.append(
                QueuedReport(
                    id=normalize_id(report.id), header=report.header, payload=bytes(report.payload)
                )
            )
    except InvalidReportError as exc:
        return str(exc)
    return prepared


def _upsert_file(
    conn: sqlite3.Connection,
    batch: SourceBatch,
    *,
    state: FileState,
    report_count: int,
    error: str | None,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO source_files "
        "(key, path, converter, sha256, state, report_count, error, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET state = excluded.state, "
        "report_count = excluded.report_count, error = excluded.error, "
        "updated_at = excluded.updated_at",
        (
            batch.key,
            batch.source_path,
            batch.converter,
            batch.source_sha256.lower(),
            state.value,
            report_count,
            error,
            now,
            now,
        ),
    )


@dataclass(frozen=True)
class _Listing:
    count_sql: str
    count_params: tuple[Any, ...]
    page_sql: str  # without LIMIT/OFFSET
    page_params: tuple[Any, ...]


def _listing(state: str | None, search: str | None, sort: str, *, indexed: bool) -> _Listing:
    """The SQL of one listing. With the search index, the index drives the query, in its
    own rowid order for the "created" sorts: a term found in 14,000 of 100,000 reports
    still costs one index walk that stops after the page, not 14,000 row lookups."""
    state_params: tuple[Any, ...] = ()
    if state:
        try:
            state_params = (ReportState(state).value,)
        except ValueError:
            raise ValueError(
                f"unknown state {state!r}; use one of {', '.join(s.value for s in ReportState)}"
            ) from None
    text = (search or "").strip()
    order = SORTS[sort]
    if indexed and len(text) >= _MIN_INDEXED_SEARCH:
        # One FTS5 string: a trigram phrase, i.e. a case-insensitive substring match.
        phrase = '"' + text.replace('"', '""') + '"'
        source = (
            f"FROM {SEARCH_TABLE} s CROSS JOIN reports r ON r.rowid = s.rowid "
            f"WHERE s.{SEARCH_TABLE} MATCH ?" + (" AND r.state = ?" if state_params else "")
        )
        params = (phrase, *state_params)
        if state_params:
            count_sql, count_params = f"SELECT count(*) {source}", params
        else:
            count_sql = f"SELECT count(*) FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH ?"
            count_params = (phrase,)
        order = order.replace("r.rowid", "s.rowid")
        return _Listing(
            count_sql, count_params, f"SELECT {_SELECT_ROW} {source} ORDER BY {order}", params
        )
    clauses = ["r.state = ?"] if state_params else []
    params = state_params
    if text:
        pattern = "%" + _escape_like(text) + "%"
        clauses.append("(" + " OR ".join(f"r.{c} LIKE ? ESCAPE '\\'" for c in SEARCH_COLUMNS) + ")")
        params = (*params, *(pattern for _ in SEARCH_COLUMNS))
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    return _Listing(
        f"SELECT count(*) FROM reports r{where}",
        params,
        f"SELECT {_SELECT_ROW} FROM reports r{where} ORDER BY {order}",
        params,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _canonical(report_id: str) -> str:
    try:
        return normalize_id(report_id)
    except InvalidReportError:
        # Not a UUID: it cannot be in the queue; a lowercase lookup simply finds nothing.
        return str(report_id).strip().lower()


def _header_values(header: ReportHeader) -> tuple[Any, ...]:
    return tuple(getattr(header, c) for c in HEADER_COLUMNS)


def _report_row(row: sqlite3.Row, payload: bytes | None = None) -> ReportRow:
    return ReportRow(
        id=row["id"],
        state=ReportState(row["state"]),
        attempts=int(row["attempts"]),
        next_attempt_at=float(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        uploaded_at=None if row["uploaded_at"] is None else float(row["uploaded_at"]),
        source_path=row["source_path"],
        source_sha256=row["source_sha256"],
        converter=row["converter"],
        payload_size=int(row["payload_size"]),
        pruned=row["pruned_at"] is not None,
        header=ReportHeader(**{c: row[c] for c in HEADER_COLUMNS}),
        payload=payload,
    )
