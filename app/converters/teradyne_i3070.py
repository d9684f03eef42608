"""Teradyne/Keysight i3070 in-circuit test logs, in both of their forms.

**Record log** (what current i3070 testers write): nested records in braces,
`{@BATCH|board type|board rev|fixture|…}` holding one `{@BTEST|board id|status|start|…}` per
board tested, each holding `{@BLOCK|designator|status` blocks whose analog tests look like
`{@A-RES|status|value|subtest{@LIM3|nominal|high|low}}` or `{@A-DIO|status|value{@LIM2|high|
low}}`, plus shorts (`@TS`), pins (`@PF`), digital (`@D-T`), TestJet (`@TJET`), boundary-scan
(`@BS-CON`), connect-check (`@CCHK`) and report-text (`@RPT`) records. One report per BTEST.

**Classic line log**: a program line `path\\PN_x.obc[DD-MMM-YY  HH:MM:SS`, then per board
`@DD-MMM-YY  HH:MM:SS SN <serial>` starting a test, measurement lines
`Ref=value(low,high)Type` (SI suffixes p n u m k MEG), failure lines `(S …` and an event line
whose first character says how the test ended (`"` pass, `/` fail, `?` abort, `!` cancel,
`*`/`&` error, `]` return to diagnose). One report per test.

The tester's verdicts are kept in the report; in Active mode the pipeline recomputes them from
the limits, which agree for well-formed logs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Final

from app.converters._common import (
    MAX_DEPTH,
    JsonDict,
    apply_fallbacks,
    build_report,
    drop_none,
    guarded,
    operator_for_limits,
    place_limits,
)
from app.converters._numbers import parse_datetime, parse_float
from app.converters.base import (
    ConversionError,
    Converter,
    ConverterParameters,
    ConverterSource,
    ParameterSpec,
    Report,
)
from app.core.report import UUTReport, iter_steps, number_steps


class TeradyneI3070Converter(Converter):
    name: ClassVar[str] = "teradyne-i3070"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "Teradyne/Keysight i3070 ICT logs (record and classic line logs)"
    patterns: ClassVar[tuple[str, ...]] = ("*",)
    parameters: ClassVar[tuple[ParameterSpec, ...]] = (
        ParameterSpec(
            "part_number_pattern",
            "Classic logs: regular expression with a group 'pn' that finds the part number "
            "in the test program's file name",
            "str",
            r"^(?P<pn>[^_]+)",
        ),
    )

    def convert(self, source: ConverterSource) -> list[Report]:
        return guarded(lambda: self._convert(source))

    def _convert(self, source: ConverterSource) -> list[Report]:
        text = source.read_text()
        if not text.strip():
            raise ConversionError("the file is empty")
        if _RECORD_START.search(text):
            drafts = _RecordLog(text).reports()
        else:
            drafts = _ClassicLog(text, source.parameters).reports()
        reports: list[Report] = []
        for draft in drafts:
            apply_fallbacks(draft.data, source.parameters, uut=True)
            report = build_report(draft.data, draft.where)
            assert isinstance(report, UUTReport)
            number_steps(report.root)
            for step, _path in iter_steps(report.root):
                if step.caused_uut_failure:
                    report.uut.step_id_caused_uut_failure = step.id
                    break
            reports.append(report)
        return reports

    def sniff(self, head: bytes) -> float:
        if b"{@BTEST|" in head or b"{@BATCH|" in head:
            return 0.95
        if b"{@BLOCK|" in head:
            return 0.8
        if _CLASSIC_PROGRAM_BYTES.search(head):
            return 0.9
        if _CLASSIC_START_BYTES.search(head):
            return 0.5
        return 0.0


@dataclass
class _Draft:
    """A report as a WSJF dictionary, and where it came from (for error messages)."""

    data: JsonDict
    where: str


def _status_letter(code: str) -> str:
    """i3070 status fields: 0 (or 00) passed; every other code is a failure of some kind."""
    text = code.strip()
    if not text:
        return "P"
    return "P" if text.strip("0") == "" else "F"


def _mark_first_failure(root: JsonDict) -> None:
    """Flag the first failing leaf step, depth first, as the one that failed the board."""
    stack = [root]
    while stack:
        step = stack.pop()
        nested = step.get("steps") or []
        if not nested and step.get("status") == "F":
            step["causedUUTFailure"] = True
            return
        stack.extend(reversed(nested))


def _group_into_sequences(items: list[tuple[str, JsonDict]]) -> list[JsonDict]:
    """Consecutive steps of one category become one sequence, named after the category."""
    sequences: list[JsonDict] = []
    counts: dict[str, int] = {}
    current: JsonDict | None = None
    current_key = None
    for key, step in items:
        if current is None or key != current_key:
            counts[key] = counts.get(key, 0) + 1
            name = key if counts[key] == 1 else f"{key} ({counts[key]})"
            current = {
                "group": "M",
                "stepType": "SequenceCall",
                "name": name,
                "status": "P",
                "seqCall": {"name": name},
                "steps": [],
            }
            current_key = key
            sequences.append(current)
        current["steps"].append(step)
        if step.get("status") == "F":
            current["status"] = "F"
    return sequences


# ================================================================ record log

_RECORD_START = re.compile(r"\{@(?:BATCH|BTEST|BLOCK)\|")
_BRACES = re.compile(r"[{}]")
_ANALOG_UNITS: Final = {
    "A-CAP": "F",
    "A-DIO": "V",
    "A-FUS": "ohm",
    "A-IND": "H",
    "A-JUM": "ohm",
    "A-MEA": "",
    "A-NFE": "",
    "A-PFE": "",
    "A-NPN": "V",
    "A-PNP": "V",
    "A-POT": "ohm",
    "A-RES": "ohm",
    "A-SWI": "ohm",
    "A-ZEN": "V",
}
_CATEGORIES: Final = {
    "TS": "Shorts",
    "PF": "Pins",
    "CCHK": "Connect check",
    "D-T": "Digital",
    "TJET": "TestJet",
    "BS-CON": "Boundary scan",
}


@dataclass
class _Record:
    line: int
    parts: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    children: list[_Record] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.fields[0][1:].upper() if self.fields else ""

    def get(self, index: int) -> str:
        return self.fields[index].strip() if index < len(self.fields) else ""


def _parse_records(text: str) -> list[_Record]:
    """The brace-nested records of a log as a tree, without recursion."""
    roots: list[_Record] = []
    stack: list[_Record] = []
    line = 1
    position = 0
    for brace in _BRACES.finditer(text):
        segment = text[position : brace.start()]
        if stack:
            stack[-1].parts.append(segment)
        elif segment.strip():
            raise ConversionError(f"text outside a record: {segment.strip()[:40]!r}", line=line)
        line += segment.count("\n")
        position = brace.end()
        if brace.group() == "{":
            if len(stack) >= MAX_DEPTH:
                raise ConversionError(f"records nested more than {MAX_DEPTH} deep", line=line)
            stack.append(_Record(line=line))
            continue
        if not stack:
            raise ConversionError("a '}' that closes no record", line=line)
        record = stack.pop()
        content = "".join(record.parts).replace("\r", "").replace("\n", "").strip()
        record.parts = []
        record.fields = content.split("|")
        if not record.fields[0].startswith("@") or len(record.fields[0]) < 2:
            raise ConversionError(
                f"a record must start with @NAME, found {content[:40]!r}", line=record.line
            )
        (stack[-1].children if stack else roots).append(record)
    rest = text[position:]
    if stack:
        opened = stack[-1]
        raise ConversionError(
            f"the file ends inside the record opened on line {opened.line} "
            f"({''.join(opened.parts).strip()[:30]!r}); is it complete?"
        )
    if rest.strip():
        raise ConversionError(f"text outside a record: {rest.strip()[:40]!r}", line=line)
    return roots


def _record_time(value: str, what: str, line: int) -> datetime | None:
    digits = value.strip()
    if not digits:
        return None
    formats = {12: "%y%m%d%H%M%S", 14: "%Y%m%d%H%M%S"}
    fmt = formats.get(len(digits))
    if fmt is None or not digits.isdigit():
        raise ConversionError(f"{what} {digits[:20]!r} is not a yyMMddHHmmss time", line=line)
    try:
        return datetime.strptime(digits, fmt)
    except ValueError:
        raise ConversionError(f"{what} {digits!r} is not a valid time", line=line) from None


def _record_number(value: str, what: str, line: int) -> float | None:
    if not value.strip():
        return None
    try:
        return parse_float(value)
    except ValueError as exc:
        raise ConversionError(f"{what}: {exc}", line=line) from None


class _RecordLog:
    def __init__(self, text: str) -> None:
        self.records = _parse_records(text)

    def reports(self) -> list[_Draft]:
        drafts: list[_Draft] = []
        batch: _Record | None = None
        self._collect(self.records, batch, drafts)
        if not drafts:
            raise ConversionError("the log holds no board test ({@BTEST|…} record)")
        return drafts

    def _collect(self, records: list[_Record], batch: _Record | None, drafts: list[_Draft]) -> None:
        btest: _Record | None = None
        loose: list[_Record] = []
        for record in records:
            if record.name == "BATCH":
                self._flush(btest, loose, batch, drafts)
                btest, loose = None, []
                batch = record
                self._collect(record.children, batch, drafts)
            elif record.name == "BTEST":
                self._flush(btest, loose, batch, drafts)
                btest, loose = record, []
            elif btest is not None:
                loose.append(record)  # a block written after its BTEST rather than inside it
        self._flush(btest, loose, batch, drafts)

    def _flush(
        self,
        btest: _Record | None,
        loose: list[_Record],
        batch: _Record | None,
        drafts: list[_Draft],
    ) -> None:
        if btest is not None:
            drafts.append(self._report(btest, btest.children + loose, batch))

    def _report(self, btest: _Record, records: list[_Record], batch: _Record | None) -> _Draft:
        where = f"board test on line {btest.line}"
        serial = btest.get(1)
        if not serial:
            raise ConversionError(
                "the BTEST record has no board id (serial number)", line=btest.line
            )
        start = _record_time(btest.get(3), "BTEST start time", btest.line)
        end = _record_time(btest.get(10), "BTEST end time", btest.line)
        duration = _record_number(btest.get(4), "BTEST duration", btest.line)
        if start is None:
            if end is None:
                raise ConversionError("the BTEST record has no start time", line=btest.line)
            start = end - timedelta(seconds=duration or 0)
        uut: JsonDict = {"execTime": duration}
        misc: list[JsonDict] = []
        status_code = btest.get(2)
        if _status_letter(status_code) == "F":
            misc.append({"description": "Board test status", "text": status_code})
        for index, label in ((12, "Board number"), (13, "Parent panel id")):
            if btest.get(index):
                misc.append({"description": label, "text": btest.get(index)})
        data: JsonDict = {
            "type": "T",
            "sn": serial,
            "pn": "",
            "rev": "",
            "machineName": "",
            "start": start,
            "result": _status_letter(status_code),
        }
        plan: tuple[str | None, str | None] = (None, None)
        if batch is not None:
            data["pn"] = batch.get(1)
            data["rev"] = batch.get(2)
            data["machineName"] = batch.get(9)
            uut["fixtureId"] = batch.get(3) or None
            uut["batchSN"] = batch.get(7) or None
            uut["user"] = batch.get(8) or None
            plan = (batch.get(10) or None, batch.get(11) or None)
            for index, label in ((6, "Process step"), (5, "Testhead type"), (14, "Version label")):
                if batch.get(index):
                    misc.append({"description": label, "text": batch.get(index)})
        steps: list[tuple[str, JsonDict]] = []
        texts: list[str] = []
        for record in records:
            if record.name == "BLOCK":
                steps.append(self._block(record))
            elif record.name == "RPT":
                texts.append("|".join(record.fields[1:]))
            else:
                step = self._test(record)
                if step is not None:
                    steps.append(step)
        if texts:
            uut["comment"] = "\n".join(texts)
        root: JsonDict = {
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": data["result"],
            "seqCall": drop_none({"path": plan[0], "name": plan[0], "version": plan[1]}),
        }
        sequences = _group_into_sequences(steps)
        if sequences:
            root["steps"] = sequences
        if data["result"] == "F":
            _mark_first_failure(root)
        data["root"] = root
        data["uut"] = drop_none(uut)
        if misc:
            data["miscInfos"] = misc
        return _Draft(data, where)

    def _block(self, block: _Record) -> tuple[str, JsonDict]:
        name = block.get(1).replace("%", " ")
        step: JsonDict = {
            "group": "M",
            "stepType": "ET_NLT",
            "name": name,
            "status": _status_letter(block.get(2)),
        }
        numeric: list[JsonDict] = []
        texts: list[str] = []
        category = ""
        for record in block.children:
            kind = record.name
            if kind in _ANALOG_UNITS:
                numeric.append(self._analog(record))
                category = category or "Analog"
            elif kind == "RPT":
                texts.append("|".join(record.fields[1:]))
            elif kind in _CATEGORIES:
                category = category or _CATEGORIES[kind]
                texts.append(_describe(record))
        if len(numeric) > 1:
            step["stepType"] = "ET_MNLT"
        elif numeric:
            numeric[0]["name"] = None
        if numeric:
            step["numericMeas"] = numeric
        else:
            step["stepType"] = "ET_PFT"
            step["booleanMeas"] = [{"name": None, "status": step["status"]}]
        if texts:
            step["reportText"] = "\n".join(texts)
        return category or "Tests", step

    def _analog(self, record: _Record) -> JsonDict:
        value = _record_number(record.get(2), f"{record.name} measured value", record.line)
        low = high = None
        for limit in record.children:
            if limit.name == "LIM2":
                high = _record_number(limit.get(1), "LIM2 high limit", limit.line)
                low = _record_number(limit.get(2), "LIM2 low limit", limit.line)
            elif limit.name == "LIM3":
                high = _record_number(limit.get(2), "LIM3 high limit", limit.line)
                low = _record_number(limit.get(3), "LIM3 low limit", limit.line)
        comp_op = operator_for_limits(low, high)
        low, high = place_limits(comp_op, low, high)
        return drop_none(
            {
                "name": record.get(3) or record.name,
                "status": _status_letter(record.get(1)),
                "value": value,
                "unit": _ANALOG_UNITS[record.name] or None,
                "compOp": comp_op,
                "lowLimit": low,
                "highLimit": high,
            }
        )

    def _test(self, record: _Record) -> tuple[str, JsonDict] | None:
        """A test record outside a block: a step of its own (analog or pass/fail)."""
        if record.name in _ANALOG_UNITS:
            measurement = self._analog(record)
            measurement["name"] = None
            step = {
                "group": "M",
                "stepType": "ET_NLT",
                "name": record.get(3) or record.name,
                "status": measurement["status"],
                "numericMeas": [measurement],
            }
            return "Analog", step
        category = _CATEGORIES.get(record.name)
        if category is None:
            return None  # alarms, pin lists and other bookkeeping records carry no verdict
        status = _status_letter(_status_field(record))
        return category, {
            "group": "M",
            "stepType": "ET_PFT",
            "name": _designator(record) or category,
            "status": status,
            "booleanMeas": [{"name": None, "status": status}],
            "reportText": _describe(record),
        }


def _status_field(record: _Record) -> str:
    # Layouts: {@TS|status|shorts|opens|phantoms|designator}, {@PF|designator|status|pins},
    # {@D-T|status|substatus|vector|pins|designator}, {@TJET|status|pins|designator},
    # {@BS-CON|designator|status|shorts|opens}, {@CCHK|status|pins|designator}.
    return record.get(2) if record.name in ("PF", "BS-CON") else record.get(1)


def _designator(record: _Record) -> str:
    if record.name in ("PF", "BS-CON"):
        return record.get(1)
    return record.get(len(record.fields) - 1)


def _describe(record: _Record) -> str:
    name = record.name
    if name == "TS":
        return (
            f"shorts {record.get(2) or 0}, opens {record.get(3) or 0}, "
            f"phantoms {record.get(4) or 0}"
        )
    if name == "PF":
        return f"{record.get(1)}: pins test status {record.get(2)}, {record.get(3) or 0} pins"
    if name == "D-T":
        return (
            f"{record.get(5)}: digital test status {record.get(1)}, failing vector "
            f"{record.get(3) or 0}, {record.get(4) or 0} pins"
        )
    if name == "TJET":
        return f"{record.get(3)}: TestJet status {record.get(1)}, {record.get(2) or 0} pins"
    if name == "BS-CON":
        return (
            f"{record.get(1)}: boundary-scan status {record.get(2)}, shorts "
            f"{record.get(3) or 0}, opens {record.get(4) or 0}"
        )
    if name == "CCHK":
        return f"{record.get(3)}: connect check status {record.get(1)}, {record.get(2) or 0} pins"
    return "|".join(record.fields)


# ================================================================ classic line log

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_PREFIX = r"MEG|[PNUMK]"
_CLASSIC_PROGRAM = re.compile(
    r"^(?P<program>(?P<path>.*[\\/])?(?P<file>[^\\/\[]+)\.obc)\[(?P<time>.+)$", re.IGNORECASE
)
_CLASSIC_PROGRAM_BYTES = re.compile(rb"\.obc\[\d{1,2}-[A-Za-z]{3}-\d{2}", re.IGNORECASE)
_CLASSIC_START_BYTES = re.compile(rb"(?m)^@\d{1,2}-[A-Z]{3}-\d{2} +\d{1,2}:\d{2}")
_CLASSIC_START = re.compile(r"^@(?P<time>\d{1,2}-[A-Za-z]{3}-\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?)"
                            r"(?:\s+SN\s+(?P<sn>.*?))?\s*$")  # fmt: skip
_CLASSIC_EVENT = re.compile(r'^(?P<event>[?"/*&!\]])(?P<time>\d{1,2}-[A-Za-z]{3}-\d{2,4}\s+'
                            r"\d{1,2}:\d{2}(?::\d{2})?)\s*$")  # fmt: skip
_CLASSIC_MEASURE = re.compile(
    rf"^(?P<ref>[^=<>#%()\s][^=<>#%()]*?)(?P<result>[=<>#%])"
    rf"(?P<value>{_NUMBER})?(?P<value_prefix>{_PREFIX})?"
    rf"\((?P<low>{_NUMBER})?(?P<low_prefix>{_PREFIX})?,"
    rf"(?P<high>{_NUMBER})?(?P<high_prefix>{_PREFIX})?\)"
    rf"(?P<type>\w*)\s*=*\s*(?P<message>.*?)\s*$",
    re.IGNORECASE,
)
_CLASSIC_FAILURE = re.compile(r"^\((?P<key>[SOBCF])\s*(?P<info>.*?)\s*$")
_CLASSIC_PROPERTY = re.compile(r"^(?P<key>[^=]+?)\s+=\s+(?P<value>.*?)\s*$")
_CLASSIC_WATS = re.compile(r"^WATS_(?P<key>\w+)=(?P<value>.*?)\s*$", re.IGNORECASE)
_CLASSIC_SOCKET = re.compile(r"TOP_OF_LOOP-(?P<socket>[A-H])\b")
_EVENTS: Final = {'"': "P", "/": "F", "?": "T", "!": "T", "*": "E", "&": "E", "]": None}
_FAILURES: Final = {
    "S": "SHORTS test, failed",
    "O": "OPENS test, failed",
    "B": "BUSTEST, failure caused by bus",
    "C": "SCRATCHPROBING connection failure",
    "F": "CONTACT fixture failure",
}
_SCALE: Final = {"": 1.0, "P": 1e-12, "N": 1e-9, "U": 1e-6, "M": 1e-3, "K": 1e3, "MEG": 1e6}
_SYMBOL: Final = {"": "", "P": "p", "N": "n", "U": "µ", "M": "m", "K": "k", "MEG": "M"}
# Measurement type → (what the tester measured, base unit).
_TEST_TYPES: Final = {
    "AC": ("MEAS DVM ACV", "V"),
    "AI": ("MEAS ACI ACM", "A"),
    "AR": ("TEST ARITH", ""),
    "AV": ("MEAS ACV ACM", "V"),
    "AY": ("MEAS DVM/DMM", ""),
    "CS": ("MEAS ACZ CS", "F"),
    "CP": ("MEAS ACZ CP", "F"),
    "DC": ("MEAS DVM DCV", "V"),
    "DD": ("MEAS ACZ D", ""),
    "EV": ("FTM EVENT", ""),
    "HZ": ("FTM FREQ", "Hz"),
    "I": ("MEAS DCM DCI", "A"),
    "IS": ("TEST DCS DCI", "A"),
    "LP": ("MEAS ACZ LP", "H"),
    "LS": ("MEAS ACZ LS", "H"),
    "QQ": ("MEAS ACZ Q", ""),
    "R": ("MEAS R", "ohm"),
    "RA": ("FTM RATIO", ""),
    "RP": ("MEAS ACZ RP", "ohm"),
    "RS": ("MEAS ACZ RS", "ohm"),
    "S": ("FTM PERIOD", "s"),
    "TI": ("FTM INTERVAL", "s"),
    "V": ("MEAS DCM DCV", "V"),
    "VS": ("TEST DCS DCV", "V"),
    "XS": ("MEAS ACZ XS", "ohm"),
    "XP": ("MEAS ACZ XP", "ohm"),
    "ZM": ("MEAS ACZ Z", "ohm"),
    "PS": ("MEAS", ""),
}
# Source settings, not tests: a value-less IS/VS line is not turned into a step.
_SETTINGS_ONLY: Final = frozenset({"IS", "VS"})


@dataclass
class _ClassicTest:
    line: int
    start: datetime
    sn: str
    uut: JsonDict = field(default_factory=dict)
    header: JsonDict = field(default_factory=dict)
    misc: list[JsonDict] = field(default_factory=list)
    items: list[tuple[str, JsonDict]] = field(default_factory=list)


class _ClassicLog:
    def __init__(self, text: str, params: ConverterParameters) -> None:
        self.lines = text.splitlines()
        pattern = str(params.extra.get("part_number_pattern") or r"^(?P<pn>[^_]+)")
        try:
            self.pn_pattern = re.compile(pattern)
        except re.error as exc:
            raise ConversionError(f"parameter part_number_pattern: {exc}") from None
        self.program: str | None = None
        self.pn = ""
        self.skipped = 0

    def reports(self) -> list[_Draft]:
        drafts: list[_Draft] = []
        test: _ClassicTest | None = None
        recognised = False
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            if not line:
                continue
            program = _CLASSIC_PROGRAM.match(line)
            if program and test is None:
                self._program(program)
                recognised = True
                continue
            start = _CLASSIC_START.match(line)
            if start:
                if test is not None:
                    raise ConversionError(
                        f"a new test starts before the test from line {test.line} ended",
                        line=number,
                    )
                test = self._start(start, number)
                recognised = True
                continue
            event = _CLASSIC_EVENT.match(line)
            if event:
                recognised = True
                if test is not None:
                    draft = self._finish(test, event, number)
                    if draft is not None:
                        drafts.append(draft)
                    test = None
                continue  # an event outside a test (e.g. ']' after '?') ends nothing new
            if test is not None:
                self._test_line(test, line, number)
        if test is not None:
            raise ConversionError(
                f"the file ends inside the test started on line {test.line} (no end event); "
                "is it complete?"
            )
        if not recognised:
            raise ConversionError("not an i3070 log: no test program, test start or records")
        if not drafts:
            skipped = f" ({self.skipped} aborted without results)" if self.skipped else ""
            raise ConversionError(f"the log holds no test results{skipped}")
        return drafts

    def _program(self, match: re.Match[str]) -> None:
        self.program = match["program"]
        found = self.pn_pattern.search(match["file"])
        self.pn = (found.groupdict().get("pn") or found.group(0)) if found else match["file"]

    def _start(self, match: re.Match[str], line: int) -> _ClassicTest:
        start = _classic_time(match["time"], line)
        return _ClassicTest(line=line, start=start, sn=(match["sn"] or "").strip())

    def _test_line(self, test: _ClassicTest, line: str, number: int) -> None:
        wats = _CLASSIC_WATS.match(line)
        if wats:
            self._wats_property(test, wats["key"].lower(), wats["value"])
            return
        socket = _CLASSIC_SOCKET.search(line)
        if socket:
            test.uut["testSocketIndex"] = ord(socket["socket"].upper()) - ord("A")
            return
        failure = _CLASSIC_FAILURE.match(line)
        if failure:
            test.items.append(("Failures", _failure_step(failure)))
            return
        measure = _CLASSIC_MEASURE.match(line)
        if measure:
            step = _measure_step(measure, number)
            if step is not None:
                test.items.append((_group_key(measure["ref"]), step))
            return
        prop = _CLASSIC_PROPERTY.match(line)
        if prop:
            key, value = prop["key"].strip(), prop["value"]
            if key.upper() == "OPERATOR":
                test.uut["user"] = value
            elif key.upper() in ("SN", "SERIAL NUMBER", "SERIAL") and not test.sn:
                test.sn = value
            else:
                test.misc.append({"description": key, "text": value})
        # Other lines (tester chatter, comments) carry nothing for the report.

    def _wats_property(self, test: _ClassicTest, key: str, value: str) -> None:
        targets = {
            "partnumber": ("header", "pn"),
            "partrevision": ("header", "rev"),
            "serialnumber": ("sn", ""),
            "sequencename": ("header", "sequenceName"),
            "sequenceversion": ("header", "sequenceVersion"),
            "operator": ("uut", "user"),
            "stationname": ("header", "machineName"),
        }
        target = targets.get(key)
        if target is None:
            test.misc.append({"description": key, "text": value})
        elif target[0] == "sn":
            test.sn = value
        elif target[0] == "uut":
            test.uut[target[1]] = value
        else:
            test.header[target[1]] = value

    def _finish(self, test: _ClassicTest, event: re.Match[str], line: int) -> _Draft | None:
        result = _EVENTS[event["event"]]
        end = _classic_time(event["time"], line)
        if result == "T" and not test.items:
            self.skipped += 1  # an aborted board with nothing measured is not a result
            return None
        failed = any(step.get("status") == "F" for _, step in test.items)
        if result is None:
            result = "F" if failed else "P"
        if not test.sn:
            raise ConversionError(
                f"the test started on line {test.line} has no serial number (no 'SN' after "
                "the start time)"
            )
        sequence = test.header.get("sequenceName") or self.program or "MainSequence Callback"
        root: JsonDict = {
            "group": "M",
            "stepType": "SequenceCall",
            "name": "MainSequence Callback",
            "status": "F" if failed or result == "F" else result,
            "seqCall": drop_none(
                {
                    "path": self.program or sequence,
                    "name": sequence,
                    "version": test.header.get("sequenceVersion"),
                }
            ),
        }
        sequences = _group_into_sequences(test.items)
        if sequences:
            root["steps"] = sequences
        if result == "F":
            _mark_first_failure(root)
        test.uut["execTime"] = max(0.0, (end - test.start).total_seconds())
        data: JsonDict = {
            "type": "T",
            "pn": test.header.get("pn") or self.pn,
            "sn": test.sn,
            "rev": test.header.get("rev", ""),
            "machineName": test.header.get("machineName", ""),
            "start": test.start,
            "result": result,
            "root": root,
            "uut": drop_none(test.uut),
        }
        if test.misc:
            data["miscInfos"] = test.misc
        return _Draft(data, f"test on line {test.line}")


def _classic_time(text: str, line: int) -> datetime:
    try:
        return parse_datetime(" ".join(text.split()))
    except ValueError as exc:
        raise ConversionError(f"time: {exc}", line=line) from None


def _group_key(reference: str) -> str:
    first = reference.strip()[:1].upper()
    return f"{first}-Group" if first else "Tests"


def _failure_step(match: re.Match[str]) -> JsonDict:
    # A pass/fail step: its verdict is the tester's and stays F in Active mode too.
    return {
        "group": "M",
        "stepType": "ET_PFT",
        "name": _FAILURES[match["key"].upper()],
        "status": "F",
        "reportText": match["info"] or None,
        "booleanMeas": [{"name": None, "status": "F"}],
    }


def _measure_step(match: re.Match[str], line: int) -> JsonDict | None:
    test_type = match["type"].upper()
    reference = match["ref"].strip()
    name = f"{reference}({match['type']})" if test_type else reference
    verdict = match["result"]
    status = {"=": "P", "#": "D"}.get(verdict, "F")
    description, base_unit = _TEST_TYPES.get(test_type, ("", ""))
    step: JsonDict = {"group": "M", "name": name, "status": status}
    if match["value"] is None:
        if test_type in _SETTINGS_ONLY:
            return None
        step["stepType"] = "ET_PFT"
        step["booleanMeas"] = [{"name": None, "status": "F" if status == "F" else "P"}]
    else:
        # Value and limits may carry different SI prefixes (1.00466K within (950,1.05K)):
        # express all three in the prefix of the first limit given, else of the value.
        prefix = _prefix(match["low_prefix"] if match["low"] is not None else None)
        if match["low"] is None:
            prefix = _prefix(match["high_prefix"] if match["high"] is not None else None)
            if match["high"] is None:
                prefix = _prefix(match["value_prefix"])
        value = _scaled(match["value"], match["value_prefix"], prefix, line)
        low = _scaled(match["low"], match["low_prefix"], prefix, line)
        high = _scaled(match["high"], match["high_prefix"], prefix, line)
        comp_op = operator_for_limits(low, high)
        low, high = place_limits(comp_op, low, high)
        if base_unit:
            unit = _SYMBOL[prefix] + base_unit
        else:
            unit = _SYMBOL[prefix] + (f"({match['type']})" if test_type else "")
        step["stepType"] = "ET_NLT"
        step["numericMeas"] = [
            drop_none(
                {
                    "name": None,
                    "status": "F" if status == "F" else "P",
                    "value": value,
                    "unit": unit or None,
                    "compOp": comp_op,
                    "lowLimit": low,
                    "highLimit": high,
                }
            )
        ]
    if status == "F" and description:
        step["errorMessage"] = description
    if match["message"]:
        step["reportText"] = match["message"]
    return step


def _prefix(text: str | None) -> str:
    return (text or "").upper()


def _scaled(number: str | None, prefix: str | None, target: str, line: int) -> float | None:
    if number is None:
        return None
    try:
        value = parse_float(number)
    except ValueError as exc:
        raise ConversionError(f"measurement: {exc}", line=line) from None
    factor = _SCALE[_prefix(prefix)] / _SCALE[target]
    # Round away binary noise from the rescaling (1.05K in kilo stays 1.05, not 1.0500000001).
    return float(f"{value * factor:.12g}") if factor != 1.0 else value
