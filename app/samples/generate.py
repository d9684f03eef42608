"""Generated WSJF result files for the demo and the benchmarks (small, realistic, valid)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCTS = (("PCBA-1000", "A"), ("PCBA-2000", "B"), ("CTRL-3000", "C"))


def generated_uut(
    index: int,
    *,
    seed: int = 7,
    station: str = "DEMO-STATION",
    process_code: int = 50,
    with_id: bool = False,
    fail_rate: float = 0.1,
    start: datetime | None = None,
) -> dict[str, Any]:
    """One UUT report: a power-rail sequence with numeric, pass/fail and string steps.

    Statuses are consistent with the limits, so Active and Import mode agree.
    """
    rng = random.Random(seed * 1_000_003 + index)
    pn, rev = PRODUCTS[index % len(PRODUCTS)]
    failing = rng.random() < fail_rate
    voltage = 5.0 + rng.uniform(-0.05, 0.05)
    current = rng.uniform(0.25, 0.33) if not failing else rng.uniform(0.36, 0.45)
    begin = start or datetime(2026, 11, 22, 8, 0, tzinfo=UTC) + timedelta(seconds=37 * index)
    doc: dict[str, Any] = {
        "type": "T",
        "pn": pn,
        "sn": f"{pn[:4]}-{index:07d}",
        "rev": rev,
        "processCode": process_code,
        "result": "F" if failing else "P",
        "machineName": station,
        "location": "Line 1",
        "purpose": "Production",
        "start": begin.isoformat(),
        "uut": {"user": "operator1", "execTime": round(rng.uniform(8, 12), 2)},
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "F" if failing else "P",
            "seqCall": {
                "path": "board_test.seq",
                "name": "MainSequence Callback",
                "version": "1.4.0",
            },
            "steps": [
                {
                    "id": 1,
                    "group": "M",
                    "stepType": "ET_NLT",
                    "name": "Supply 5V",
                    "status": "P",
                    "numericMeas": [
                        {
                            "name": None,
                            "status": "P",
                            "compOp": "GELE",
                            "value": round(voltage, 4),
                            "lowLimit": 4.9,
                            "highLimit": 5.1,
                            "unit": "V",
                        }
                    ],
                },
                {
                    "id": 2,
                    "group": "M",
                    "stepType": "ET_NLT",
                    "name": "Idle current",
                    "status": "F" if failing else "P",
                    "causedUUTFailure": failing,
                    "numericMeas": [
                        {
                            "name": None,
                            "status": "F" if failing else "P",
                            "compOp": "LE",
                            "value": round(current, 4),
                            "lowLimit": 0.35,
                            "unit": "A",
                        }
                    ],
                },
                {
                    "id": 3,
                    "group": "M",
                    "stepType": "ET_PFT",
                    "name": "LED check",
                    "status": "P",
                    "booleanMeas": [{"name": None, "status": "P"}],
                },
                {
                    "id": 4,
                    "group": "M",
                    "stepType": "ET_SVT",
                    "name": "FW version",
                    "status": "P",
                    "stringMeas": [
                        {
                            "name": None,
                            "status": "P",
                            "compOp": "IGNORECASE",
                            "value": "3.4.1",
                            "limit": "3.4.1",
                        }
                    ],
                },
            ],
        },
    }
    if failing:
        doc["uut"]["stepIdCausedUUTFailure"] = 2
    if with_id:
        doc["id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return doc


def generated_uut_bytes(index: int, **kwargs: Any) -> bytes:
    return json.dumps(generated_uut(index, **kwargs), separators=(",", ":")).encode()
