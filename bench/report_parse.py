"""Parse and write speed of the WSJF report model on a large generated test report.

Prints JSON: document size, step count, and MB/s for parse_report (bytes; indented as
testers write it, and compact), to_json, enforce_limits and apply_verdicts (best of --repeat
runs). The WSJF converter's target is
>= 20 MB/s for parsing (DESIGN.md §6).

    .venv/bin/python bench/report_parse.py --steps 10000
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from app.core.report import UUTReport, parse_report
from app.core.text_limits import enforce_limits
from app.core.verdict import apply_verdicts


def _numeric(name: str | None, index: int) -> dict[str, Any]:
    value = 4.9 + (index % 23) * 0.01
    return {
        "name": name,
        "status": "P",
        "compOp": "GELE",
        "value": value,
        "lowLimit": 4.85,
        "highLimit": 5.15,
        "unit": "V",
    }


def _leaf(step_id: int) -> dict[str, Any]:
    kind = step_id % 5
    step: dict[str, Any] = {
        "id": step_id,
        "group": "M",
        "name": f"Measurement step number {step_id}",
        "status": "P",
        "start": "2025-03-01T10:15:00.125+01:00",
        "totTime": 0.0123,
        "causedUUTFailure": False,
        "tsGuid": f"#TS:{step_id:08d}",
    }
    if kind in (0, 1):
        step["stepType"] = "ET_NLT"
        step["numericMeas"] = [_numeric(None, step_id)]
    elif kind == 2:
        step["stepType"] = "ET_MNLT"
        step["numericMeas"] = [_numeric(f"Rail {n}", step_id + n) for n in range(3)]
    elif kind == 3:
        step["stepType"] = "ET_PFT"
        step["booleanMeas"] = [{"name": None, "status": "P"}]
        step["reportText"] = "Visual inspection of connector J4 passed; operator confirmed."
    else:
        step["stepType"] = "ET_SVT"
        step["stringMeas"] = [
            {
                "name": None,
                "status": "P",
                "compOp": "IGNORECASE",
                "value": "3.4.1",
                "limit": "3.4.1",
            }
        ]
    return step


def generate(step_count: int, indent: int | None = 1) -> bytes:
    """A UUT report with `step_count` steps in sequences of 50 leaves each."""
    next_id = 1
    sequences: list[dict[str, Any]] = []
    while next_id < step_count:
        seq_id = next_id
        next_id += 1
        leaves = []
        for _ in range(min(49, step_count - next_id)):
            leaves.append(_leaf(next_id))
            next_id += 1
        sequences.append(
            {
                "id": seq_id,
                "group": "M",
                "stepType": "SequenceCall",
                "name": f"Sequence {seq_id}",
                "status": "P",
                "causedUUTFailure": False,
                "seqCall": {"path": "eol.seq", "name": f"Sequence {seq_id}", "version": "2.1.0"},
                "steps": leaves,
            }
        )
    report = {
        "type": "T",
        "id": "7d3c9a1e-8b2f-4c55-b0e1-5a9d2e6f4c21",
        "pn": "CTRL-2000",
        "sn": "C2K-24-0042",
        "rev": "B3",
        "processCode": 100,
        "result": "P",
        "machineName": "EOL-3",
        "location": "Plant A",
        "purpose": "Production",
        "start": "2025-03-01T14:02:11.250+01:00",
        "uut": {"user": "kari", "execTime": 42.7},
        "root": {
            "id": 0,
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "P",
            "causedUUTFailure": False,
            "seqCall": {"path": "eol.seq", "name": "MainSequence Callback", "version": "2.1.0"},
            "steps": sequences,
        },
    }
    return json.dumps(report, indent=indent).encode()


def best_seconds(action: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    document = generate(args.steps)
    megabytes = len(document) / 1e6
    report = parse_report(document)
    assert isinstance(report, UUTReport)

    parse_s = best_seconds(lambda: parse_report(document), args.repeat)
    # Compact JSON packs more values into each byte: the hardest case per megabyte.
    compact = generate(args.steps, indent=None)
    compact_s = best_seconds(lambda: parse_report(compact), args.repeat)
    write_s = best_seconds(report.to_json, args.repeat)
    limits_s = best_seconds(lambda: enforce_limits(report, "truncate"), args.repeat)
    verdict_s = best_seconds(lambda: apply_verdicts(report), args.repeat)
    print(
        json.dumps(
            {
                "bench": "report_parse",
                "bytes": len(document),
                "steps": args.steps,
                "parse_s": round(parse_s, 4),
                "parse_mb_s": round(megabytes / parse_s, 1),
                "compact_bytes": len(compact),
                "parse_compact_mb_s": round(len(compact) / 1e6 / compact_s, 1),
                "to_json_mb_s": round(megabytes / write_s, 1),
                "enforce_limits_mb_s": round(megabytes / limits_s, 1),
                "apply_verdicts_mb_s": round(megabytes / verdict_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
