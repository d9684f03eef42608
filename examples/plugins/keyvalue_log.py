"""Example WATS Station plug-in: a converter for simple `key=value` tester logs.

Copy this file into the instance's converter folder (`<config>/converters/`, see
`wats-station config show`) and restart the worker; the converter then appears as
"keyvalue-log" next to the built-in ones. docs/converters/writing-a-converter.md explains
every part; this file is meant to be copied and changed.

The format it reads (one `key=value` per line, `#` starts a comment):

    SN=PCB-000123
    PN=PCB-100
    REV=B
    OPERATOR=kari
    START=2025-03-01 14:02:11
    PROCESS=10
    Supply 5V=5.02 V 4.9..5.1      a number, an optional unit, optional limits low..high
    Idle current=0.31 A ..0.35     only a high limit
    LED=PASS                       PASS or FAIL: a pass/fail step
    Firmware=3.4.1                 anything else: a text value, logged

The upper-case keys SN, PN, REV, OPERATOR, STATION, START and PROCESS are the report
header; every other key is a test step, in the order of the file.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import ClassVar

# Only these two modules are the plug-in interface: the converter contract and the report
# model. Anything else in `app` may change between versions.
from app.converters.base import (
    ConversionError,
    Converter,
    ConverterSource,
    ParameterSpec,
    Report,
)
from app.core.report import (
    BooleanMeasurement,
    CompOp,
    NumericMeasurement,
    SequenceCall,
    Step,
    StringMeasurement,
    UUTInfo,
    UUTReport,
    number_steps,
)

HEADER_KEYS = frozenset({"SN", "PN", "REV", "OPERATOR", "STATION", "START", "PROCESS"})
# "5.02", "5.02 V", "5.02 V 4.9..5.1", "0.31 A ..0.35", "12 4..", "-3E-2 mA -1..1"
MEASUREMENT = re.compile(
    r"(?P<value>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"(?:\s+(?P<unit>[^\s\d.+-][^\s]*))?"
    r"(?:\s+(?P<low>[+-]?[\d.eE+-]*)\.\.(?P<high>[+-]?[\d.eE+-]*))?"
)


class KeyValueLogConverter(Converter):
    """Reads `key=value` logs: header keys, then one step per other key."""

    # The name the configuration uses; letters, digits, '_', '.' and '-' only.
    name: ClassVar[str] = "keyvalue-log"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "key=value tester logs (example plug-in)"
    # Default file patterns of a watch folder using this converter, and for detection.
    patterns: ClassVar[tuple[str, ...]] = ("*.kv", "*.log")
    # Parameters of this converter, shown in the GUI next to the common ones (fallback
    # part number, culture, encoding, ...). Read them from `source.parameters.extra`.
    parameters: ClassVar[tuple[ParameterSpec, ...]] = (
        ParameterSpec("sequence_name", "Root sequence name", "str", "MainSequence Callback"),
    )

    def convert(self, source: ConverterSource) -> list[Report]:
        # read_text() decodes with the configured encoding and raises a ConversionError
        # naming the line when the bytes do not fit it.
        text = source.read_text()
        header: dict[str, str] = {}
        steps: list[Step] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                # Every problem is a ConversionError: the worker moves the file to the
                # Error folder with this text (and line) for the operator.
                raise ConversionError(f"expected key=value, found {line[:40]!r}", line=number)
            if key.upper() in HEADER_KEYS:
                header[key.upper()] = value
            else:
                steps.append(_step(key, value, number))
        if "SN" not in header:
            raise ConversionError("the log has no SN= line")
        if not steps:
            raise ConversionError("the log has no test values")
        root_name = str(source.parameters.extra.get("sequence_name") or "MainSequence Callback")
        code = _process_code(header.get("PROCESS"))
        report = UUTReport(
            # Leave `id` out: the station gives each report a stable id derived from the file,
            # so converting the same file twice never makes a duplicate on the server.
            pn=header.get("PN", ""),  # empty: the fallback_pn parameter fills it in
            sn=header["SN"],
            rev=header.get("REV", ""),
            # The common parameters carry the fallbacks the user configured.
            process_code=code if code is not None else source.parameters.fallback_process_code,
            machine_name=header.get("STATION"),  # None: this station's name
            start=_start(header.get("START")),
            uut=UUTInfo(user=header.get("OPERATOR")),
            root=Step(
                step_type="SequenceCall",
                name=root_name,
                seq_call=SequenceCall(path=source.path.name, name=root_name, version="1.0"),
                steps=steps,
            ),
        )
        number_steps(report.root)
        # Statuses are left to the station: in Active mode it computes every verdict from
        # the limits and marks the failing step; in Import mode it keeps what you set.
        return [report]

    def sniff(self, head: bytes) -> float:
        # Cheap content check for detection (first 8 KiB): confidence 0..1.
        return 0.7 if re.search(rb"(?m)^SN=\S", head) else 0.0


def _step(name: str, value: str, line: int) -> Step:
    if value.upper() in ("PASS", "FAIL"):
        return Step(
            step_type="ET_PFT",
            name=name,
            boolean_meas=[BooleanMeasurement(status="P" if value.upper() == "PASS" else "F")],
        )
    match = MEASUREMENT.fullmatch(value)
    if match is None:
        return Step(
            step_type="ET_SVT",
            name=name,
            string_meas=[StringMeasurement(value=value, comp_op=CompOp.LOG)],
        )
    low = _limit(match["low"], line)
    high = _limit(match["high"], line)
    comp_op = CompOp.GELE if low is not None and high is not None else CompOp.LOG
    if low is not None and high is None:
        comp_op = CompOp.GE
    elif high is not None and low is None:
        comp_op, low, high = CompOp.LE, high, None  # a single limit always goes in lowLimit
    return Step(
        step_type="ET_NLT",
        name=name,
        numeric_meas=[
            NumericMeasurement(
                value=float(match["value"]),
                unit=match["unit"],
                comp_op=comp_op,
                low_limit=low,
                high_limit=high,
            )
        ],
    )


def _limit(text: str | None, line: int) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ConversionError(f"{text!r} is not a limit", line=line) from None


def _process_code(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ConversionError(f"PROCESS={text!r} is not a process code") from None


def _start(text: str | None) -> datetime:
    if not text:
        return datetime.now().astimezone()
    try:
        # A time without a zone is the tester's local time; the station adds its offset.
        return datetime.fromisoformat(text)
    except ValueError:
        raise ConversionError(f"START={text!r} is not a date such as 2025-03-01 14:02:11") from None
