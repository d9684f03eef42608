"""A process killed with SIGKILL in the middle of a stream of enqueues loses nothing it
committed and leaves no half-written file behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from app.service.queue import ReportQueue

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

NAMESPACE = uuid.UUID("6f1b3c52-0d4e-4c6a-9a51-3f0f5d7f2e10")
FILES_PER_COMMIT = 3
REPORTS_PER_FILE = 4

CHILD = textwrap.dedent(
    """
    import json, sys, uuid
    from app.service.queue import ReportQueue
    from app.service.queue_models import QueuedReport, SourceBatch

    NAMESPACE = uuid.UUID("6f1b3c52-0d4e-4c6a-9a51-3f0f5d7f2e10")
    queue = ReportQueue.open(sys.argv[1])
    commit = 0
    while True:
        files = []
        for f in range({files}):
            reports = []
            for r in range({reports}):
                rid = str(uuid.uuid5(NAMESPACE, f"{{commit}}:{{f}}:{{r}}"))
                doc = {{"type": "T", "id": rid, "sn": f"SN-{{commit}}-{{f}}-{{r}}",
                       "pn": "PN", "rev": "A", "processCode": 10, "result": "P",
                       "start": "2025-03-01T10:00:00+01:00", "pad": "x" * 6000}}
                reports.append(QueuedReport.from_payload(json.dumps(doc).encode()))
            files.append(SourceBatch("wsjf", f"/in/{{commit}}-{{f}}.json", "ab" * 32, reports))
        results = queue.enqueue_files(files)
        assert all(r.inserted == {reports} for r in results), results
        print(commit, flush=True)
        commit += 1
    """
).format(files=FILES_PER_COMMIT, reports=REPORTS_PER_FILE)


def test_sigkill_mid_stream_keeps_every_committed_report_whole(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, env=env, text=True
    )
    assert child.stdout is not None
    last_committed = -1
    deadline = time.monotonic() + 60
    try:
        # Let it commit a while, then kill it without warning while it is still writing.
        while last_committed < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            assert line, f"the writer died on its own (exit {child.poll()})"
            last_committed = int(line)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert last_committed >= 40
    assert child.returncode == -signal.SIGKILL

    with ReportQueue.open(db) as queue:
        assert queue.integrity_check() == "ok"
        total = queue.counts()["queued"]
        per_commit = FILES_PER_COMMIT * REPORTS_PER_FILE
        # Everything acknowledged is there; at most the commit in progress more; whole commits.
        assert total % per_commit == 0
        assert (last_committed + 1) * per_commit <= total <= (last_committed + 2) * per_commit
        commits = total // per_commit
        for commit in range(commits):
            for f in range(FILES_PER_COMMIT):
                for r in range(REPORTS_PER_FILE):
                    rid = str(uuid.uuid5(NAMESPACE, f"{commit}:{f}:{r}"))
                    row = queue.get(rid)
                    assert row is not None, rid
                    assert row.payload is not None
                    assert len(row.payload) == row.payload_size > 6000
                    assert row.header.sn == f"SN-{commit}-{f}-{r}"
                    assert row.source_path == f"/in/{commit}-{f}.json"
        assert queue.files_today("wsjf", since=0).done == commits * FILES_PER_COMMIT
