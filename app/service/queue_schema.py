"""Schema of the queue database and its migrations (`PRAGMA user_version`).

Each migration moves the database from version N-1 to N inside one transaction together
with the `user_version` bump, so a crash mid-migration leaves the old version intact.
To change the schema: append a function to `MIGRATIONS`; never edit a released one.

The payload lives in its own table, not as a column of `reports`: SQLite keeps up to a page
of a large BLOB inline in the row, so a payload column would spread the header rows over
one page each and make every listing, search and yield scan read the whole database.
`reports` stays a compact table of headers; pruning deletes `report_payloads` rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

_V1 = [
    """
    CREATE TABLE reports (
        id                TEXT PRIMARY KEY,
        state             TEXT NOT NULL
                          CHECK (state IN ('queued', 'uploading', 'uploaded', 'rejected')),
        attempts          INTEGER NOT NULL DEFAULT 0,
        next_attempt_at   REAL NOT NULL,
        last_error        TEXT,
        created_at        REAL NOT NULL,
        updated_at        REAL NOT NULL,
        uploaded_at       REAL,
        source_path       TEXT,
        source_sha256     TEXT,
        converter         TEXT,
        payload_size      INTEGER NOT NULL DEFAULT 0,
        pruned_at         REAL,
        type              TEXT,
        pn                TEXT,
        rev               TEXT,
        sn                TEXT,
        process_code      INTEGER,
        process_name      TEXT,
        result            TEXT,
        start             TEXT,
        start_utc         REAL,
        station           TEXT,
        location          TEXT,
        purpose           TEXT,
        operator          TEXT,
        fixture_id        TEXT,
        batch_sn          TEXT,
        socket_index      INTEGER,
        failing_step_name TEXT,
        failing_step_path TEXT
    )
    """,
    """
    CREATE TABLE report_payloads (
        id      TEXT PRIMARY KEY REFERENCES reports(id) ON DELETE CASCADE,
        payload BLOB NOT NULL
    )
    """,
    # Due queued reports: claim_due and next_due_time.
    "CREATE INDEX ix_reports_due ON reports (state, next_attempt_at)",
    # Listing: newest first is rowid order (no index needed); within a state, this index
    # is in rowid order too (SQLite appends the rowid to every index key). By start time:
    "CREATE INDEX ix_reports_state ON reports (state)",
    "CREATE INDEX ix_reports_start ON reports (start_utc)",
    # Yield queries: a process over a time window; a unit's history.
    "CREATE INDEX ix_reports_yield ON reports (process_code, start_utc)",
    "CREATE INDEX ix_reports_unit ON reports (sn, pn, process_code)",
    # Pruning finds old uploaded rows without scanning the queue.
    "CREATE INDEX ix_reports_uploaded ON reports (uploaded_at) WHERE state = 'uploaded'",
    """
    CREATE TABLE source_files (
        key          TEXT PRIMARY KEY,
        path         TEXT NOT NULL,
        converter    TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('done', 'failed')),
        report_count INTEGER NOT NULL DEFAULT 0,
        error        TEXT,
        created_at   REAL NOT NULL,
        updated_at   REAL NOT NULL
    )
    """,
    "CREATE INDEX ix_files_converter ON source_files (converter, updated_at)",
    "CREATE INDEX ix_files_state ON source_files (state, updated_at)",
]


# Free-text search over the header columns: an FTS5 trigram index finds any substring of
# three or more characters in ~3 ms on 100,000 reports, where LIKE over eight columns scans
# the whole table (~150 ms). External content: the index stores no second copy of the text.
SEARCH_COLUMNS = ("id", "sn", "pn", "rev", "station", "operator", "process_name", "batch_sn")
SEARCH_TABLE = "report_search"
_COLS = ", ".join(SEARCH_COLUMNS)
_NEW = ", ".join(f"new.{c}" for c in SEARCH_COLUMNS)
_OLD = ", ".join(f"old.{c}" for c in SEARCH_COLUMNS)
_SEARCH_V1 = [
    f"""
    CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(
        {_COLS}, content='reports', content_rowid='rowid', tokenize='trigram'
    )
    """,
    f"""
    CREATE TRIGGER reports_search_insert AFTER INSERT ON reports BEGIN
        INSERT INTO {SEARCH_TABLE} (rowid, {_COLS}) VALUES (new.rowid, {_NEW});
    END
    """,
    f"""
    CREATE TRIGGER reports_search_delete AFTER DELETE ON reports BEGIN
        INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, {_COLS})
        VALUES ('delete', old.rowid, {_OLD});
    END
    """,
    # Only header edits (resubmit) touch the index; state changes do not fire this.
    f"""
    CREATE TRIGGER reports_search_update AFTER UPDATE OF {_COLS} ON reports BEGIN
        INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, {_COLS})
        VALUES ('delete', old.rowid, {_OLD});
        INSERT INTO {SEARCH_TABLE} (rowid, {_COLS}) VALUES (new.rowid, {_NEW});
    END
    """,
]


def fts5_trigram_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite has FTS5 with the trigram tokenizer (3.34+, FTS5 compiled in)."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x, tokenize='trigram')")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts5_probe")
    return True


def has_search_index(conn: sqlite3.Connection) -> bool:
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (SEARCH_TABLE,)
    ).fetchone()
    return row is not None


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    for statement in _V1:
        conn.execute(statement)
    # An SQLite without FTS5 still gets a working queue; search then falls back to LIKE.
    if fts5_trigram_available(conn):
        for statement in _SEARCH_V1:
            conn.execute(statement)


# MIGRATIONS[n] takes the database from version n to version n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1]
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(Exception):
    """The database was written by a newer WATS Station."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the database to SCHEMA_VERSION; return the version it had before.

    `conn` must be in autocommit mode (isolation_level=None); each step is its own
    IMMEDIATE transaction.
    """
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"the queue database has schema version {found}, newer than this program's "
            f"{SCHEMA_VERSION}; install the newer WATS Station again or move the file away"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[version](conn)
            # PRAGMA takes no parameters; the value is our own integer.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found
