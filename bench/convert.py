"""Converter throughput on generated inputs, measured through convert() + finalize_reports().

Prints ONE JSON object: for every converter that exists (wsjf, wsxf, wstf, atml,
teradyne-i3070, table) `{"mb_per_s", "reports_per_s", "large_mb", "large_steps"}`, plus
`wstf_10k_steps_s` and `atml_10k_steps_s` (seconds for a file with 10,000 steps; target
< 1 s each). `mb_per_s` converts one large file (`--steps` steps, best of `--repeat`);
`reports_per_s` converts `--files` small files of 20 steps each, one report per file, the
way a station sees them. The WSJF target is >= 20 MB/s (DESIGN.md §6).

Every generator writes its format by that format's rules (wats-api.md §3–§4) with limits,
units and a failing step now and then, so Active mode has real verdicts to compute.

    .venv/bin/python bench/convert.py
    .venv/bin/python bench/convert.py --steps 20000 --files 500 --repeat 5
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from app.converters.base import Converter, ConverterParameters, ConverterSource
from app.converters.finalize import finalize_reports

# converter name → (module, class); converters that do not exist yet are left out.
CONVERTERS = {
    "wsjf": ("app.converters.wsjf", "WsjfConverter"),
    "wsxf": ("app.converters.wsxf", "WsxfConverter"),
    "wstf": ("app.converters.wstf", "WstfConverter"),
    "atml": ("app.converters.atml", "AtmlConverter"),
    "teradyne-i3070": ("app.converters.teradyne_i3070", "TeradyneI3070Converter"),
    "table": ("app.converters.table", "TableConverter"),
}
SMALL_STEPS = 20
PER_SEQUENCE = 50


def _measured(index: int) -> tuple[float, bool]:
    """A value around 5 V and whether it fails its 4.9..5.1 window (one step in 97)."""
    fails = index % 97 == 96
    return (5.25 if fails else 4.9 + (index % 19) * 0.01), fails


def _layout(steps: int) -> list[list[int]]:
    """Leaf step numbers grouped in sequences of PER_SEQUENCE (the root and sequences count)."""
    groups: list[list[int]] = []
    used = 1  # the root
    leaf = 0
    while used < steps:
        used += 1  # the sequence step
        size = min(PER_SEQUENCE, steps - used)
        if size <= 0:
            break
        groups.append(list(range(leaf, leaf + size)))
        leaf += size
        used += size
    return groups or [[0]]


# ---------------------------------------------------------------- generators


def gen_wsjf(steps: int, sn: str = "SN-1") -> bytes:
    sequences = []
    for number, leaves in enumerate(_layout(steps)):
        children = []
        for leaf in leaves:
            value, fails = _measured(leaf)
            children.append(
                {
                    "group": "M",
                    "stepType": "ET_NLT",
                    "name": f"Measurement {leaf}",
                    "status": "F" if fails else "P",
                    "totTime": 0.0123,
                    "numericMeas": [
                        {
                            "name": None,
                            "status": "F" if fails else "P",
                            "compOp": "GELE",
                            "value": value,
                            "lowLimit": 4.9,
                            "highLimit": 5.1,
                            "unit": "V",
                        }
                    ],
                }
            )
        failed = any(child["status"] == "F" for child in children)
        sequences.append(
            {
                "group": "M",
                "stepType": "SequenceCall",
                "name": f"Sequence {number}",
                "status": "F" if failed else "P",
                "seqCall": {"path": "bench.seq", "name": f"Sequence {number}", "version": "1"},
                "steps": children,
            }
        )
    result = "F" if any(sequence["status"] == "F" for sequence in sequences) else "P"
    report = {
        "type": "T",
        "pn": "PCBA-1000",
        "sn": sn,
        "rev": "A",
        "processCode": 10,
        "result": result,
        "machineName": "BENCH",
        "start": "2025-03-01T10:15:00+01:00",
        "uut": {"user": "bench"},
        "root": {
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": result,
            "seqCall": {"path": "bench.seq", "name": "MainSequence Callback", "version": "1"},
            "steps": sequences,
        },
    }
    return json.dumps(report, indent=1).encode()


def gen_wsxf(steps: int, sn: str = "SN-1") -> bytes:
    layout = _layout(steps)
    failing = {
        number for number, leaves in enumerate(layout) if any(_measured(i)[1] for i in leaves)
    }
    result = "Failed" if failing else "Passed"
    out = [
        '<Reports xmlns="http://wats.virinco.com/schemas/WATS/Report/wsxf">',
        f'<Report type="UUT" Start="2025-03-01T10:15:00+01:00" Result="{result}" SN={quoteattr(sn)}'
        ' PN="PCBA-1000" Rev="A" MachineName="BENCH" Location="Lab" Purpose="Bench">',
        '<UUT UserLoginName="bench" ExecutionTime="12.5" />',
        '<Process Code="10" Name="Bench" />',
        '<Step Id="1" Group="Main" Name="MainSequence Callback" StepType="SequenceCall" '
        f'Status="{result}"><SequenceCall Name="MainSequence Callback" Version="1" '
        'Filename="bench.seq" Filepath="bench.seq" />',
    ]
    step_id = 2
    for number, leaves in enumerate(layout):
        status = "Failed" if number in failing else "Passed"
        out.append(
            f'<Step Id="{step_id}" Group="Main" Name="Sequence {number}" StepType="SequenceCall" '
            f'Status="{status}"><SequenceCall Name="Sequence {number}" Version="1" '
            'Filename="bench.seq" Filepath="bench.seq" />'
        )
        step_id += 1
        for leaf in leaves:
            value, fails = _measured(leaf)
            status = "Failed" if fails else "Passed"
            out.append(
                f'<Step Id="{step_id}" Group="Main" Name="Measurement {leaf}" StepType="ET_NLT" '
                f'Status="{status}" total_time="0.0123"><NumericLimit NumericValue="{value}" '
                f'LowLimit="4.9" HighLimit="5.1" Units="V" CompOperator="GELE" '
                f'Status="{status}" /></Step>'
            )
            step_id += 1
        out.append("</Step>")
    out.append("</Step></Report></Reports>")
    return "\n".join(out).encode()


def gen_wstf(steps: int, sn: str = "SN-1") -> bytes:
    rows = [
        "--Header-Start--",
        f"SerialNumber\t{sn}",
        "PartNumber\tPCBA-1000",
        "Revision\tA",
        "OperationTypeCode\t10",
        "StartDateTime\t2025-03-01T10:15:00",
        "StationName\tBENCH",
        "OperatorName\tbench",
        "--Step-Data-Start--",
        "StepType\tStepName\tMeasureName\tValue\tLowLimit\tHighLimit\tCompOperator\tUnit\t"
        "StepStatus\tStepExecutionTime\tStepReportText\tStepErrorCode\tStepErrorMessage\t"
        "CausedSequenceFailure",
    ]
    for number, leaves in enumerate(_layout(steps)):
        rows.append(f"SequenceCall\tSequence {number}" + "\t" * 12)
        for leaf in leaves:
            value, _fails = _measured(leaf)
            rows.append(
                f"NumericLimitTest\tMeasurement {leaf}\t\t{value}\t4.9\t5.1\tGELE\tV\t\t0.0123"
                + "\t" * 4
            )
        rows.append(f"EndSequenceCall\tSequence {number}" + "\t" * 12)
    rows += ["--Step-Data-End--", "--UUT-End--"]
    return ("\n".join(rows) + "\n").encode()


def gen_atml(steps: int, sn: str = "SN-1") -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<trc:TestResultsCollection xmlns:trc="urn:IEEE-1636.1:2013:01:TestResultsCollection" '
        'xmlns:tr="urn:IEEE-1636.1:2013:01:TestResults" xmlns:c="urn:IEEE-1671:2010:Common" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:ts="www.ni.com/TestStand/ATMLTestResults/3.0">',
        '<trc:TestResults uuid="00000000-0000-4000-8000-000000000001">',
        '<tr:Personnel><tr:SystemOperator ID="op" name="bench"/></tr:Personnel>',
        '<tr:ResultSet ID="1" name="bench.seq#MainSequence" '
        'startDateTime="2025-03-01T10:15:00" endDateTime="2025-03-01T10:16:00">',
        '<tr:Outcome value="Passed"/>',
    ]
    ident = 2
    for number, leaves in enumerate(_layout(steps)):
        out.append(
            f'<tr:TestGroup ID="{ident}" name="bench.seq#Sequence{number}" '
            f'callerName="Sequence {number}"><tr:Outcome value="Passed"/>'
        )
        ident += 1
        for leaf in leaves:
            value, fails = _measured(leaf)
            outcome = "Failed" if fails else "Passed"
            out.append(
                f'<tr:Test ID="{ident}" name="Measurement {leaf}"><tr:Extension>'
                "<ts:TSStepProperties><ts:StepType>NumericLimitTest</ts:StepType>"
                "<ts:StepGroup>Main</ts:StepGroup></ts:TSStepProperties></tr:Extension>"
                f'<tr:Outcome value="{outcome}"/><tr:TestResult ID="r{ident}" name="Numeric">'
                f'<tr:TestData><c:Datum value="{value}" xsi:type="ts:TS_double" '
                'nonStandardUnit="V"/></tr:TestData><tr:TestLimits><tr:Limits>'
                '<c:LimitPair operator="AND"><c:Limit comparator="GE"><c:Datum value="4.9" '
                'xsi:type="ts:TS_double"/></c:Limit><c:Limit comparator="LE"><c:Datum '
                'value="5.1" xsi:type="ts:TS_double"/></c:Limit></c:LimitPair></tr:Limits>'
                "</tr:TestLimits></tr:TestResult></tr:Test>"
            )
            ident += 1
        out.append("</tr:TestGroup>")
    out += [
        "</tr:ResultSet>",
        '<tr:UUT UutType="hardware"><c:Definition><c:Identification>'
        "<c:ModelName>Board</c:ModelName><c:IdentificationNumbers>"
        '<c:IdentificationNumber number="PCBA-1000" type="Part"/></c:IdentificationNumbers>'
        f"</c:Identification></c:Definition><c:SerialNumber>{sn}</c:SerialNumber></tr:UUT>",
        "</trc:TestResults>",
        "</trc:TestResultsCollection>",
    ]
    return "\n".join(out).encode()


def gen_i3070(steps: int, sn: str = "SN-1", boards: int = 1) -> bytes:
    """`boards` boards in one batch log, each with about `steps` // `boards` measurements."""
    per_board = max(1, steps // boards)
    lines = ["{@BATCH|501-6338-02|RevA|12|1|3070|btest|LOT-0418|op17|bench|PLAN-501|2.3|||"]
    for board in range(boards):
        serial = sn if boards == 1 else f"{sn}-{board}"
        lines.append(f"{{@BTEST|{serial}|00|250301101500|000350|0|all||n|n|250301101600||1|")
        for leaf in range(per_board):
            value, _fails = _measured(leaf)
            lines += [
                f"{{@BLOCK|r{leaf}|00",
                f"{{@A-RES|0|+{value * 2000:.6E}{{@LIM3|+1.000000E+04|+1.020000E+04|"
                "+9.800000E+03}}",
                "}",
            ]
        lines.append("}")
    lines.append("}")
    return ("\n".join(lines) + "\n").encode()


def gen_table(steps: int, sn: str = "SN-1") -> bytes:
    rows = ["SN;Sequence;Step;Value;Unit;Low;High"]
    for number, leaves in enumerate(_layout(steps)):
        for leaf in leaves:
            value, _fails = _measured(leaf)
            text = f"{value:.2f}".replace(".", ",")
            rows.append(f"{sn};Sequence {number};Measurement {leaf};{text};V;4,9;5,1")
    return ("\n".join(rows) + "\n").encode()


GENERATORS: dict[str, Callable[..., bytes]] = {
    "wsjf": gen_wsjf,
    "wsxf": gen_wsxf,
    "wstf": gen_wstf,
    "atml": gen_atml,
    "teradyne-i3070": gen_i3070,
    "table": gen_table,
}
FILE_NAMES = {
    "wsjf": "r.json",
    "wsxf": "r.xml",
    "wstf": "r.txt",
    "atml": "r.xml",
    "teradyne-i3070": "r.log",
    "table": "r.csv",
}

# ---------------------------------------------------------------- measuring


def available() -> dict[str, type[Converter]]:
    found: dict[str, type[Converter]] = {}
    for name, (module, attribute) in CONVERTERS.items():
        try:
            found[name] = getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError):
            continue
    return found


def convert_once(converter: Converter, name: str, data: bytes) -> int:
    """convert() + finalize_reports() as the worker runs them; returns the report count."""
    params = ConverterParameters()
    source = ConverterSource(Path(name), io.BytesIO(data), params)
    reports = converter.convert(source)
    finished = finalize_reports(
        reports,
        converter=converter,
        params=params,
        file_sha256=hashlib.sha256(data).hexdigest(),
        station_default="BENCH",
    )
    return len(finished)


def best_time(run: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def bench_converter(
    name: str, cls: type[Converter], steps: int, files: int, repeat: int
) -> dict[str, Any]:
    converter = cls()
    generate = GENERATORS[name]
    file_name = FILE_NAMES[name]
    large = generate(steps)
    assert convert_once(converter, file_name, large) == 1, f"{name}: large input"
    large_s = best_time(lambda: convert_once(converter, file_name, large), repeat)
    small = [generate(SMALL_STEPS, sn=f"SN-{index}") for index in range(files)]

    def all_small() -> int:
        return sum(convert_once(converter, file_name, data) for data in small)

    assert all_small() == files, f"{name}: small inputs"
    small_s = best_time(all_small, max(1, repeat // 2))
    return {
        "mb_per_s": round(len(large) / 1e6 / large_s, 2),
        "reports_per_s": round(files / small_s, 1),
        "large_mb": round(len(large) / 1e6, 2),
        "large_steps": steps,
    }


def ten_k_steps(name: str, cls: type[Converter], repeat: int) -> float:
    data = GENERATORS[name](10_000)
    converter = cls()
    return round(best_time(lambda: convert_once(converter, FILE_NAMES[name], data), repeat), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000, help="steps in the large file")
    parser.add_argument("--files", type=int, default=200, help="small files per converter")
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best counts")
    args = parser.parse_args()
    converters = available()
    result: dict[str, Any] = {
        name: bench_converter(name, cls, args.steps, args.files, args.repeat)
        for name, cls in converters.items()
    }
    for name in ("wstf", "atml"):
        if name in converters:
            result[f"{name}_10k_steps_s"] = ten_k_steps(name, converters[name], args.repeat)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
