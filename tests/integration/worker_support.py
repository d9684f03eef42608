"""Helpers shared by the worker integration tests: dropping files, expected ids, queue reads."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

from app.core.report_ids import deterministic_report_id
from app.samples.generate import generated_uut, generated_uut_bytes


def drop(folder: Path, name: str, data: bytes) -> Path:
    """Write a result file the way a careful tester does: temp name, then rename."""
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    path = folder / name
    os.replace(tmp, path)
    return path


def drop_generated(folder: Path, count: int, start: int = 0, **kwargs: Any) -> list[str]:
    """Drop `count` generated WSJF files without ids; returns their expected report ids."""
    ids = []
    for index in range(start, start + count):
        data = generated_uut_bytes(index, **kwargs)
        drop(folder, f"unit-{index:06d}.json", data)
        ids.append(expected_id(data))
    return ids


def expected_id(data: bytes, converter: str = "wsjf") -> str:
    return str(deterministic_report_id(converter, hashlib.sha256(data).hexdigest(), 0))


def rejected_report(index: int) -> dict[str, Any]:
    return generated_uut(index, process_code=4242)  # unknown to the local server


def queue_rows(db: Path, state: str | None = None) -> list[sqlite3.Row]:
    """Read the worker's queue read-only (the worker stays its only writer)."""
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM reports"
        if state is not None:
            return conn.execute(sql + " WHERE state = ?", (state,)).fetchall()
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def files_in(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
