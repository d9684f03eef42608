"""Queue benchmark: enqueue throughput with fsync, and browsing speed on 100,000 reports.

Run: `.venv/bin/python bench/queue_db.py [--rows 100000] [--dir DIR]`. Prints one JSON object.
Times are medians of several runs, in milliseconds unless the key says otherwise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.service.queue import ReportQueue
from app.service.queue_models import QueuedReport, SourceBatch

PAD = "x" * 4000  # a realistic small report is a few kB of JSON


def make_report(i: int) -> QueuedReport:
    doc = {
        "type": "T",
        "id": str(uuid.uuid4()),
        "pn": f"PN-{i % 40}",
        "sn": f"SN-{i:07d}",
        "rev": "A",
        "processCode": (10, 50, 100)[i % 3],
        "processName": "End of line test",
        "result": "F" if i % 17 == 0 else "P",
        "machineName": "EOL-3",
        "location": "Plant A",
        "purpose": "Production",
        "start": "2025-03-01T10:00:00+01:00",
        "startUTC": f"2025-03-{1 + (i // 5000) % 28:02d}T09:{(i // 60) % 60:02d}:{i % 60:02d}Z",
        "uut": {"user": f"op{i % 7}", "fixtureId": "FX-1", "batchSN": f"LOT-{i // 500}"},
        "root": {"id": 0, "name": "MainSequence Callback", "status": "P", "pad": PAD},
    }
    return QueuedReport.from_payload(json.dumps(doc).encode())


def batches(start: int, files: int, per_file: int) -> list[SourceBatch]:
    out = []
    for f in range(files):
        reports = [make_report(start + f * per_file + r) for r in range(per_file)]
        out.append(SourceBatch("wsjf", f"/in/{start + f}.json", f"{start + f:064x}", reports))
    return out


def median_ms(fn: Callable[[], Any], runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        results = run(Path(tmp) / "queue.db", args.rows)
    json.dump(results, sys.stdout, indent=2)
    print()


def run(db: Path, rows: int) -> dict[str, Any]:
    results: dict[str, Any] = {"rows": rows}
    queue = ReportQueue.open(db)

    # Durable enqueue: one fsync'd commit per file, then group commits of 50 files.
    single = batches(0, 100, 1)
    t0 = time.perf_counter()
    for b in single:
        queue.enqueue_files([b])
    results["enqueue_files_per_s_one_per_commit"] = round(len(single) / (time.perf_counter() - t0))
    grouped = batches(100, 1000, 1)
    t0 = time.perf_counter()
    for i in range(0, len(grouped), 50):
        queue.enqueue_files(grouped[i : i + 50])
    results["enqueue_files_per_s_50_per_commit"] = round(len(grouped) / (time.perf_counter() - t0))

    # Fill to `rows` in big commits (not timed as a rate: it is setup).
    done = 1100
    t0 = time.perf_counter()
    while done < rows:
        n = min(1000, rows - done)
        queue.enqueue_files(batches(done, n, 1))
        done += n
    results["fill_s"] = round(time.perf_counter() - t0, 1)

    # Make the states realistic: most uploaded, some rejected, the rest queued.
    now = time.time()
    t0 = time.perf_counter()
    claimed = 0
    while claimed < rows * 0.9:
        batch = queue.claim_due(now + 1, 500)
        if not batch:
            break
        for i, c in enumerate(batch):
            if (claimed + i) % 97 == 0:
                queue.mark_rejected(c.id, now, "Unknown process code")
            else:
                queue.mark_uploaded(c.id, now)
        claimed += len(batch)
    elapsed = time.perf_counter() - t0
    results["claim_and_mark_per_s"] = round(claimed / elapsed)
    results["counts"] = queue.counts()
    results["db_mb"] = round(db.stat().st_size / 1e6, 1)

    results["list_first_page_ms"] = median_ms(lambda: queue.list(limit=100))
    results["list_first_page_start_desc_ms"] = median_ms(
        lambda: queue.list(sort="start_desc", limit=100)
    )
    results["list_rejected_first_page_ms"] = median_ms(
        lambda: queue.list(state="rejected", limit=100)
    )
    results["list_queued_first_page_ms"] = median_ms(lambda: queue.list(state="queued", limit=100))
    results["list_page_at_offset_50000_ms"] = median_ms(
        lambda: queue.list(offset=50_000, limit=100)
    )
    results["search_sn_ms"] = median_ms(lambda: queue.list(search="SN-00042", limit=100))
    results["search_sn_hits"] = queue.list(search="SN-00042").total
    results["search_common_term_ms"] = median_ms(lambda: queue.list(search="op3", limit=100))
    results["search_common_term_hits"] = queue.list(search="op3").total
    results["search_two_chars_like_ms"] = median_ms(lambda: queue.list(search="42", limit=100))
    results["counts_ms"] = median_ms(queue.counts)
    results["next_due_time_ms"] = median_ms(queue.next_due_time)
    results["get_ms"] = median_ms(lambda: queue.get(queue.list(limit=1).rows[0].id))
    since = time.mktime((2025, 3, 20, 0, 0, 0, 0, 0, 0))
    results["headers_since_rows"] = sum(1 for _ in queue.headers_since(since))
    results["headers_since_ms"] = median_ms(lambda: sum(1 for _ in queue.headers_since(since)), 3)
    t0 = time.perf_counter()
    results["prune_rows"] = queue.prune(older_than=now + 1)
    results["prune_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    results["list_first_page_after_prune_ms"] = median_ms(lambda: queue.list(limit=100))
    queue.close()
    return results


if __name__ == "__main__":
    main()
