"""In-memory state of the local server: reports (upsert by id), clients, logs and counters.

Everything lives on the server's event loop thread; nothing here locks. `reset()` is
`POST /_dev/reset`. Nothing is persisted: a restarted server is empty, like a fresh WATS.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.core.unit_yield import run_numbers
from app.devserver.headers import ReportHeader, header_row


@dataclass
class StoredReport:
    report_id: str  # canonical lower-case UUID, the upsert key
    body: dict[str, Any]  # the WSJF as last received (for WSXF: a WSJF-shaped header)
    header: ReportHeader
    legacy_id: int  # Report_ID: assigned on first receipt, kept on re-submit
    receive_count: int
    timestamp: int  # grows with every write, like a SQL rowversion
    size: int  # bytes of the last submitted body
    xml: bytes | None = None  # the WSXF document, for reports submitted as WSXF
    first_received_at: float = 0.0  # epoch s of the first receipt (latency benchmarks)


@dataclass
class ReportStore:
    reports: dict[str, StoredReport] = field(default_factory=dict)
    received: int = 0  # accepted submissions, re-submits included
    requests: int = 0  # /api calls seen
    by_status: Counter[str] = field(default_factory=Counter)
    clients: dict[str, dict[str, Any]] = field(default_factory=dict)  # by MAC or name
    client_logs: dict[str, str] = field(default_factory=dict)  # by MAC: last upload
    _next_legacy_id: int = 1
    _clock: int = 0
    _runs: dict[str, tuple[int, int]] | None = None  # report id -> (run, passedInRun)

    def upsert(
        self, header: ReportHeader, body: dict[str, Any], size: int, xml: bytes | None = None
    ) -> StoredReport:
        """Store a report by id, last write wins; count the receipt."""
        self._clock += 1
        self.received += 1
        self._runs = None
        stored = self.reports.get(header.uuid)
        if stored is None:
            stored = StoredReport(
                report_id=header.uuid,
                body=body,
                header=header,
                legacy_id=self._next_legacy_id,
                receive_count=1,
                timestamp=self._clock,
                size=size,
                xml=xml,
                first_received_at=time.time(),
            )
            self._next_legacy_id += 1
            self.reports[header.uuid] = stored
        else:
            stored.body, stored.header, stored.size, stored.xml = body, header, size, xml
            stored.receive_count += 1
            stored.timestamp = self._clock
        return stored

    def get(self, report_id: str) -> StoredReport | None:
        return self.reports.get(report_id)

    def run_info(self, report_id: str) -> tuple[int, int]:
        """(run, passedInRun) of a stored test report; (0, 0) for repair reports."""
        if self._runs is None:
            self._runs = run_numbers(
                s.header.yield_record for s in self.reports.values() if s.header.report_type == "T"
            )
        return self._runs.get(report_id, (0, 0))

    def row(self, stored: StoredReport) -> dict[str, Any]:
        run, passed_in_run = self.run_info(stored.report_id)
        return header_row(
            stored.header,
            run=run,
            passed_in_run=passed_in_run,
            receive_count=stored.receive_count,
            report_size=stored.size,
            timestamp=stored.timestamp,
        )

    def stats(self, *, times: bool = False, ids: bool = True) -> dict[str, Any]:
        result: dict[str, Any] = {
            "received": self.received,
            "distinct_ids": len(self.reports),
            "by_status": dict(self.by_status),
            "requests": self.requests,
        }
        if ids:
            result["receive_counts"] = {rid: s.receive_count for rid, s in self.reports.items()}
        if times:
            result["first_received_at"] = {
                rid: s.first_received_at for rid, s in self.reports.items()
            }
        return result

    def reset(self) -> None:
        """Forget every report, client, log and counter (faults and credentials stay)."""
        self.reports.clear()
        self.clients.clear()
        self.client_logs.clear()
        self.by_status.clear()
        self.received = self.requests = 0
        self._next_legacy_id = 1
        self._runs = None
