"""Reads the header rows the yield index needs from the queue database.

A connection of its own, used only on the yield thread and only for reading: the queue's
connection stays free for enqueues and uploads, and SQLite (WAL) lets this one read a
consistent snapshot while the worker writes. Only test (UUT) reports count for yield;
repair reports are left out here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from app.core.yield_index import HeaderRow

_COLUMNS = (
    "rowid, sn, pn, process_code, start_utc, result, rev, station, fixture_id, operator, "
    "process_name, failing_step_name, failing_step_path"
)
LOAD_CHUNK = 50_000
# SQLite allows 32766 parameters; changed-id lists are far shorter, but stay well inside.
IDS_CHUNK = 900


@dataclass
class ChangedRows:
    """The current rows of changed report ids, and the ids no longer in the queue."""

    rows: list[HeaderRow] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)


class YieldStore:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(self._path, timeout=30.0)
            conn.execute("PRAGMA query_only = ON")
            self._conn = conn
        return self._conn

    def load(self, chunk: int = LOAD_CHUNK) -> Iterator[list[HeaderRow]]:
        """Every test-report header in rowid (arrival) order, in chunks."""
        last = 0
        while True:
            rows = (
                self._db()
                .execute(
                    f"SELECT {_COLUMNS} FROM reports WHERE rowid > ? "
                    "AND COALESCE(type, 'T') = 'T' ORDER BY rowid LIMIT ?",
                    (last, chunk),
                )
                .fetchall()
            )
            if not rows:
                return
            # The rows are plain tuples in HeaderRow's field order; the index reads them by
            # position, and building a million named tuples would cost a second.
            yield cast(list[HeaderRow], rows)
            last = int(rows[-1][0])
            if len(rows) < chunk:
                return

    def changed(self, ids: Sequence[str]) -> ChangedRows:
        """The rows of `ids` as they are now. Ids of repair reports are neither rows nor
        missing; ids not in the queue at all are `missing` (deleted)."""
        result = ChangedRows()
        unique = list(dict.fromkeys(ids))
        for begin in range(0, len(unique), IDS_CHUNK):
            part = unique[begin : begin + IDS_CHUNK]
            marks = ", ".join("?" for _ in part)
            found: set[str] = set()
            for row in self._db().execute(
                f"SELECT id, COALESCE(type, 'T'), {_COLUMNS} FROM reports WHERE id IN ({marks})",
                part,
            ):
                found.add(row[0])
                if row[1] == "T":
                    result.rows.append(HeaderRow._make(row[2:]))
            result.missing.update(set(part) - found)
        result.rows.sort(key=lambda r: r.key)
        return result

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
