"""Hand-made test reports for the yield tests: a unit's runs with chosen results, times and
failing steps, written as WSJF files a worker converts like any tester's output."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.integration.worker_support import drop

STEPS = ("Supply 5V", "Idle current", "Firmware check")
PROCESS_NAMES = {50: "PCBA test", 100: "End of line test"}


def uut(
    sn: str,
    result: str,
    start: datetime,
    *,
    pn: str = "PN-1",
    process: int = 50,
    step: str = "Idle current",
    station: str = "TEST-STATION",
    operator: str = "op1",
    fixture: str = "FX-1",
    with_id: bool = True,
) -> dict[str, Any]:
    """One test report. A failed one fails `step` (out of its limits, marked as the cause)."""
    failed = result != "P"
    steps = []
    for number, name in enumerate(STEPS, start=1):
        failing = failed and name == step
        steps.append(
            {
                "id": number,
                "group": "M",
                "stepType": "ET_NLT",
                "name": name,
                "status": "F" if failing else "P",
                "causedUUTFailure": failing,
                "numericMeas": [
                    {
                        "name": None,
                        "status": "F" if failing else "P",
                        "compOp": "GELE",
                        "value": 9.0 if failing else 5.0,
                        "lowLimit": 4.5,
                        "highLimit": 5.5,
                        "unit": "V",
                    }
                ],
            }
        )
    doc: dict[str, Any] = {
        "type": "T",
        "pn": pn,
        "sn": sn,
        "rev": "A",
        "processCode": process,
        "processName": PROCESS_NAMES.get(process, f"Process {process}"),
        "result": result,
        "machineName": station,
        "start": start.isoformat(),
        "startUTC": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "uut": {"user": operator, "fixtureId": fixture},
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "F" if failed else "P",
            "causedUUTFailure": False,
            "seqCall": {"path": "test.py", "name": "MainSequence Callback", "version": "1.0"},
            "steps": steps,
        },
    }
    if with_id:
        doc["id"] = str(uuid.uuid4())
    return doc


def drop_reports(folder: Path, docs: list[dict[str, Any]], prefix: str = "r") -> list[str]:
    """Write each report as its own file; returns the report ids."""
    ids = []
    for number, doc in enumerate(docs):
        drop(folder, f"{prefix}-{number:05d}-{doc['sn']}.json", json.dumps(doc).encode())
        ids.append(doc["id"])
    return ids


def history(base: datetime) -> list[dict[str, Any]]:
    """Units passing in run 1, 2, 3 and never, in process 50 (PN-1), one minute apart."""

    def t(minutes: int) -> datetime:
        return base + timedelta(minutes=minutes)

    return [
        uut("A", "P", t(0)),
        uut("B", "F", t(1), step="Supply 5V"),
        uut("C", "F", t(2), step="Supply 5V"),
        uut("D", "F", t(3)),
        uut("B", "P", t(10)),
        uut("C", "F", t(11), step="Firmware check"),
        uut("D", "F", t(12)),
        uut("C", "P", t(20)),
        uut("D", "F", t(21)),
    ]
