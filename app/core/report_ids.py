"""Deterministic report ids: the backbone of exactly-once delivery (DESIGN.md §3).

The WATS server upserts by report id. A converter that does not set an id gets one derived from
the converter name, the file's bytes and the report's index in the file, so a crash between
enqueue and post-action re-finds the file, recomputes the same ids and inserts nothing new.
"""

from __future__ import annotations

import uuid

# Fixed forever: changing it would give every re-found file new ids (duplicates on the server).
WATS_STATION_NAMESPACE = uuid.UUID("6f1c0c1e-7a55-4d0e-9a3b-57a710c0ffee")
NIL_IDS = frozenset({"", "00000000-0000-0000-0000-000000000000"})


def deterministic_report_id(converter: str, file_sha256: str, index: int) -> uuid.UUID:
    return uuid.uuid5(WATS_STATION_NAMESPACE, f"{converter}:{file_sha256}:{index}")


def is_missing_id(value: object) -> bool:
    """True for a missing, empty or all-zero id (Virinco's converters treat those as 'none')."""
    if value is None:
        return True
    text = str(value).strip().lower()
    if text in NIL_IDS:
        return True
    try:
        return uuid.UUID(text).int == 0
    except ValueError:
        return False
