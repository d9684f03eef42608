"""ATML converter: IEEE 1636.1 test results (versions 2.02, 5.00 and 6.01) as TestStand writes them.

One file holds one `TestResults` element or a `TestResultsCollection` of them (a batch run
writes one per UUT); each becomes one report. Inside, the `ResultSet` is the root sequence,
`TestGroup` elements are sequence calls, `Test` elements are tests whose kind (numeric,
pass/fail, string, single or multiple) comes from the NI TestStand extension's step type or,
without it, from the data type of their measurements, and `SessionAction` elements are
generic steps. Limits and ATML comparators (`GE`, `LE`, a `LimitPair` of two, `Expected`, …)
become WSJF comparison operators. Elements are matched by local name, so every schema
version and NI extension namespace (www.ni.com/TestStand/ATMLTestResults/1.0–3.0) reads alike.
"""

from __future__ import annotations

import contextlib
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import ClassVar, Final

from app.converters._common import (
    GROUP_LETTERS,
    MAX_DEPTH,
    JsonDict,
    apply_fallbacks,
    build_report,
    drop_none,
    guarded,
    measurement_status,
)
from app.converters._numbers import parse_bool, parse_datetime, parse_float
from app.converters._xml import child, children, local_name, namespace_of, read_xml, text_of
from app.converters.base import ConversionError, Converter, ConverterSource, Report
from app.core.report import UUTReport, iter_steps, number_steps

XSI_TYPE: Final = "{http://www.w3.org/2001/XMLSchema-instance}type"
STEP_ELEMENTS: Final = frozenset({"TestGroup", "Test", "SessionAction"})

# ATML outcome values → WSJF step status letters.
_OUTCOMES: Final = {
    "passed": "P",
    "failed": "F",
    "done": "D",
    "error": "E",
    "errored": "E",
    "aborted": "T",
    "terminated": "T",
    "skipped": "S",
    "notstarted": "S",
    "running": "U",
}
# TestStand step types → WSJF step types (single, multiple) and the measurement kind.
_TEST_KINDS: Final = {
    "numericlimittest": ("numeric", "ET_NLT", "ET_MNLT"),
    "ni_multiplenumericlimittest": ("numeric", "ET_MNLT", "ET_MNLT"),
    "multiplenumericlimittest": ("numeric", "ET_MNLT", "ET_MNLT"),
    "passfailtest": ("boolean", "ET_PFT", "ET_MPFT"),
    "ni_multiplepassfailtest": ("boolean", "ET_MPFT", "ET_MPFT"),
    "stringvaluetest": ("string", "ET_SVT", "ET_MSVT"),
    "ni_multiplestringvaluetest": ("string", "ET_MSVT", "ET_MSVT"),
}
_BY_DATA: Final = {"numeric": ("ET_NLT", "ET_MNLT"), "boolean": ("ET_PFT", "ET_MPFT"),
                   "string": ("ET_SVT", "ET_MSVT")}  # fmt: skip
_ARRAYS: Final = {"numeric": "numericMeas", "boolean": "booleanMeas", "string": "stringMeas"}
_LOW_SIDE: Final = frozenset({"GT", "GE"})
_HIGH_SIDE: Final = frozenset({"LT", "LE"})
_SINGLE: Final = {"EQ": "EQ", "NE": "NE", "GT": "GT", "GE": "GE", "LT": "LT", "LE": "LE"}
_CALLER = re.compile(r"SequenceCallStepName\s*=\s*'(?P<name>[^']*)'")


class AtmlConverter(Converter):
    name: ClassVar[str] = "atml"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "ATML IEEE 1636.1 test results (2.02, 5.00, 6.01) from TestStand"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml", "*.atml")

    def convert(self, source: ConverterSource) -> list[Report]:
        return guarded(lambda: self._convert(source))

    def _convert(self, source: ConverterSource) -> list[Report]:
        root = read_xml(source)
        name = local_name(root.tag)
        space = namespace_of(root.tag).lower()
        if name not in ("TestResultsCollection", "TestResults") or not (
            "1636.1" in space or "atml" in space
        ):
            raise ConversionError(
                f"not an ATML test results file (root element <{name or '?'}> in namespace "
                f"{space or 'none'!r})"
            )
        elements = children(root, "TestResults") if name == "TestResultsCollection" else [root]
        if not elements:
            raise ConversionError("the ATML collection holds no <TestResults>")
        reports: list[Report] = []
        for index, element in enumerate(elements, start=1):
            where = f"test result {index} of {len(elements)}" if len(elements) > 1 else ""
            data = _Reader(where).report(element)
            apply_fallbacks(data, source.parameters, uut=True)
            report = build_report(data, where)
            assert isinstance(report, UUTReport)
            number_steps(report.root)
            _note_failing_step(report)
            reports.append(report)
        return reports

    def sniff(self, head: bytes) -> float:
        if b"TestResults" not in head:
            return 0.0
        if b"IEEE-1636.1" in head or b"ieee.org/ATML" in head:
            return 0.95
        if b"ATMLTestResults" in head:
            return 0.9
        return 0.3


class _Reader:
    """Reads one <TestResults> element into a WSJF report dictionary."""

    def __init__(self, where: str) -> None:
        self.where = where
        # ATML result ID → the step built from it (to mark the critical failure).
        self.by_result_id: dict[str, JsonDict] = {}

    def fail(self, message: str) -> ConversionError:
        return ConversionError(f"{self.where}: {message}" if self.where else message)

    # ---------------------------------------------------------------- header

    def report(self, element: ET.Element) -> JsonDict:
        result_set = child(element, "ResultSet")
        if result_set is None:
            raise self.fail("no <ResultSet> in the test results")
        data: JsonDict = {"type": "T", "pn": "", "sn": "", "rev": "", "machineName": ""}
        report_id = element.get("uuid")
        if report_id:
            # Not a UUID: the pipeline gives the report its deterministic id instead.
            with contextlib.suppress(ValueError):
                data["id"] = str(uuid.UUID(report_id.strip()))
        uut: JsonDict = {}
        operator = _first(element, "Personnel", "SystemOperator")
        if operator is not None:
            uut["user"] = operator.get("name") or operator.get("ID")
        station = child(element, "TestStation")
        if station is not None:
            data["machineName"] = _deep_text(station, "SerialNumber") or ""
        self._read_uut(child(element, "UUT"), data)
        self._read_extension(element, uut)
        self._read_extension(result_set, uut)
        start = self._time(result_set.get("startDateTime"), "startDateTime")
        end = self._time(result_set.get("endDateTime"), "endDateTime")
        if start is None:
            raise self.fail("the ResultSet has no startDateTime")
        data["start"] = start
        if end is not None:
            uut["execTime"] = max(0.0, _seconds(start, end))
        root = self.root(result_set)
        data["root"] = root
        self._mark_critical_failure(element, result_set)
        result = _status(child(result_set, "Outcome"))
        data["result"] = result if result in ("P", "F", "E", "T") else _result_of(root)
        data["uut"] = drop_none(uut)
        if not data["sn"]:
            raise self.fail("the UUT has no serial number (<UUT><SerialNumber>)")
        return data

    def _mark_critical_failure(self, *elements: ET.Element) -> None:
        """TestStand names the step that failed the UUT in its CriticalFailureStack."""
        for element in elements:
            extension = child(element, "Extension")
            if extension is None:
                continue
            for entry in extension.iter():
                if local_name(entry.tag) == "CriticalFailureStackEntry":
                    step = self.by_result_id.get(entry.get("resultID") or "")
                    if step is not None:
                        step["causedUUTFailure"] = True
                        return

    def _read_uut(self, element: ET.Element | None, data: JsonDict) -> None:
        if element is None:
            return
        data["sn"] = text_of(child(element, "SerialNumber")) or ""
        for number in element.iter():
            if local_name(number.tag) != "IdentificationNumber":
                continue
            kind = (number.get("type") or "").lower()
            value = (number.get("number") or "").strip()
            if kind == "part" and value and not data["pn"]:
                data["pn"] = value
            elif kind in ("revision", "version") and value and not data["rev"]:
                data["rev"] = value
        if not data["pn"]:
            model = _deep_text(element, "ModelName")
            if model and model.upper() != "UNKNOWN":
                data["pn"] = model

    def _read_extension(self, element: ET.Element, uut: JsonDict) -> None:
        extension = child(element, "Extension")
        if extension is None:
            return
        for item in extension.iter():
            name = local_name(item.tag)
            value = item.get("value") if item.get("value") is not None else text_of(item)
            if not value:
                continue
            if name == "BatchSerialNumber":
                uut["batchSN"] = value.strip()
            elif name == "TestSocketIndex":
                try:
                    uut["testSocketIndex"] = int(parse_float(value))
                except (ValueError, OverflowError):
                    raise self.fail(f"TestSocketIndex {value[:20]!r} is not a number") from None

    def _time(self, value: str | None, what: str) -> datetime | None:
        if not value or not value.strip():
            return None
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise self.fail(f"{what}: {exc}") from None

    # ---------------------------------------------------------------- steps

    def root(self, result_set: ET.Element) -> JsonDict:
        steps = [item for item in result_set if local_name(item.tag) in STEP_ELEMENTS]
        sequence_path, sequence_name = _split_sequence(result_set.get("name"))
        if len(steps) == 1 and local_name(steps[0].tag) == "TestGroup":
            # ATML 2.02: the ResultSet holds the MainSequence Callback as its only TestGroup.
            root = self.step(steps[0], 0)
        else:
            root = self.step(result_set, 0)
            root["name"] = "MainSequence Callback"
            root["stepType"] = "SequenceCall"
        root.setdefault("seqCall", drop_none({"path": sequence_path, "name": sequence_name}))
        return root

    def step(self, element: ET.Element, depth: int) -> JsonDict:
        if depth > MAX_DEPTH:
            raise self.fail(f"steps nested more than {MAX_DEPTH} levels")
        kind = local_name(element.tag)
        # One pass over the children: files with 10,000 steps must convert in well under 1 s.
        first: dict[str, ET.Element] = {}
        nested_elements: list[ET.Element] = []
        results: list[ET.Element] = []
        for item in element:
            tag = local_name(item.tag)
            if tag in STEP_ELEMENTS:
                nested_elements.append(item)
            elif tag == "TestResult":
                results.append(item)
            elif tag not in first:
                first[tag] = item
        props = _step_properties(first.get("Extension"))
        ts_type = props.get("StepType") or ""
        outcome = first.get("ActionOutcome" if kind == "SessionAction" else "Outcome")
        step: JsonDict = drop_none(
            {
                "group": GROUP_LETTERS.get((props.get("StepGroup") or "main").lower(), "M"),
                "name": element.get("name") or "",
                "status": _status(outcome),
                "start": self._time(element.get("startDateTime"), "startDateTime"),
                "tsGuid": props.get("StepId") or element.get("testReferenceID"),
                "causedSeqFailure": _flag(props.get("StepCausedSequenceFailure")),
                "reportText": _report_text(first.get("Data")),
            }
        )
        total = props.get("TotalTime")
        if total:
            step["totTime"] = self._number(total, "TotalTime")
        elif step.get("start") is not None:
            end = self._time(element.get("endDateTime"), "endDateTime")
            if end is not None:
                step["totTime"] = max(0.0, _seconds(step["start"], end))
        result_id = element.get("ID")
        if result_id:
            self.by_result_id[result_id] = step
        nested = [self.step(item, depth + 1) for item in nested_elements]
        if kind == "TestGroup" or ts_type.lower() == "sequencecall" or kind == "ResultSet":
            step["stepType"] = "SequenceCall"
            caller = element.get("callerName") or _caller(element.get("userDefinedType"))
            path, name = _split_sequence(element.get("name"))
            if caller:
                step["name"] = caller
            elif kind == "TestGroup" and name:
                step["name"] = name
            step["seqCall"] = drop_none({"path": path, "name": name})
        elif kind == "SessionAction":
            step["stepType"] = ts_type or "Action"
        else:
            self._test(results, step, ts_type)
        if nested:
            step["steps"] = nested
        return step

    def _test(self, results: list[ET.Element], step: JsonDict, ts_type: str) -> None:
        measured = [self._measurement(result, step) for result in results]
        measurements = [item for item in measured if item is not None]
        known = _TEST_KINDS.get(ts_type.lower())
        kind = known[0] if known else (measurements[0][0] if measurements else "")
        if known:
            single, multiple = known[1], known[2]
        elif kind:
            single, multiple = _BY_DATA[kind]
        else:
            step["stepType"] = ts_type or "Action"
            return
        status = step.get("status")
        if kind == "boolean" and not measurements and status in ("P", "F"):
            measurements = [("boolean", {"name": None, "status": status})]
        values = [meas for meas_kind, meas in measurements if meas_kind == kind]
        if len(values) > 1 or single == multiple:
            step["stepType"] = multiple
        else:
            step["stepType"] = single
            for meas in values:
                meas["name"] = None  # a single-measurement step's measurement has no name
        if values:
            step[_ARRAYS[kind]] = values

    def _measurement(self, result: ET.Element, step: JsonDict) -> tuple[str, JsonDict] | None:
        test_data = outcome = test_limits = None
        for item in result:
            tag = local_name(item.tag)
            if tag == "TestData":
                test_data = item
            elif tag == "Outcome":
                outcome = item
            elif tag == "TestLimits":
                test_limits = item
        datum = child(test_data, "Datum") if test_data is not None else None
        if datum is None:
            return None
        data_type = (datum.get(XSI_TYPE) or "").rsplit(":", 1)[-1].lower().removeprefix("ts_")
        raw = datum.get("value")
        if raw is None:
            raw = text_of(child(datum, "Value"))
        name = result.get("name") or result.get("ID")
        own = _status(outcome)
        status = measurement_status(own or step.get("status"))
        limits = child(test_limits, "Limits") if test_limits is not None else None
        if data_type in ("boolean", "bool"):
            return "boolean", drop_none({"name": name, "status": status or "P"})
        if data_type in ("string", "qualifiedname", "anyuri"):
            comp_op, limit = self._string_limits(limits)
            return "string", drop_none(
                {"name": name, "value": raw, "compOp": comp_op, "limit": limit, "status": status}
            )
        value = self._number(raw, f"measurement {name or ''}".strip()) if raw else None
        comp_op, low, high = self._numeric_limits(limits)
        unit = datum.get("nonStandardUnit") or datum.get("standardUnit") or _limit_unit(limits)
        return "numeric", drop_none(
            {
                "name": name,
                "value": value,
                "unit": unit,
                "compOp": comp_op,
                "lowLimit": low,
                "highLimit": high,
                "status": status,
            }
        )

    def _numeric_limits(self, limits: ET.Element | None) -> tuple[str, float | None, float | None]:
        if limits is None:
            return "LOG", None, None
        for item in limits:
            name = local_name(item.tag)
            if name in ("SingleLimit", "Expected"):
                comparator = (item.get("comparator") or "EQ").upper()
                op = _SINGLE.get(comparator.removeprefix("CI"), "LOG")
                return op, self._limit_value(item), None
            if name == "LimitPair":
                return self._pair(item)
        return "LOG", None, None

    def _pair(self, pair: ET.Element) -> tuple[str, float | None, float | None]:
        sides = [
            ((limit.get("comparator") or "").upper(), self._limit_value(limit))
            for limit in children(pair, "Limit")
        ]
        if len(sides) != 2:
            raise self.fail("a LimitPair needs exactly two Limit elements")
        operator = (pair.get("operator") or "AND").upper()
        lows = [side for side in sides if side[0] in _LOW_SIDE]
        highs = [side for side in sides if side[0] in _HIGH_SIDE]
        if len(lows) != 1 or len(highs) != 1:
            return "LOG", sides[0][1], sides[1][1]
        (low_op, low), (high_op, high) = lows[0], highs[0]
        if operator == "OR":
            # Outside the window: x below the LT/LE limit or above the GT/GE limit.
            return high_op + low_op, high, low
        return low_op + high_op, low, high

    def _limit_value(self, limit: ET.Element) -> float | None:
        datum = child(limit, "Datum")
        if datum is None:
            return None
        raw = datum.get("value")
        if raw is None:
            raw = text_of(child(datum, "Value"))
        return self._number(raw, "limit") if raw else None

    def _string_limits(self, limits: ET.Element | None) -> tuple[str, str | None]:
        if limits is None:
            return "LOG", None
        for item in limits:
            if local_name(item.tag) not in ("Expected", "SingleLimit"):
                continue
            datum = child(item, "Datum")
            value = None
            if datum is not None:
                value = datum.get("value")
                if value is None:
                    value_element = child(datum, "Value")
                    value = value_element.text if value_element is not None else None
            comparator = (item.get("comparator") or "EQ").upper()
            if comparator == "CIEQ":
                return "IGNORECASE", value
            if comparator == "NE":
                return "NE", value
            return "CASESENSIT", value
        return "LOG", None

    def _number(self, text: str, what: str) -> float:
        try:
            return parse_float(text)
        except ValueError as exc:
            raise self.fail(f"{what}: {exc}") from None


# ---------------------------------------------------------------- small readers


def _note_failing_step(report: UUTReport) -> None:
    for step, _path in iter_steps(report.root):
        if step.caused_uut_failure:
            report.uut.step_id_caused_uut_failure = step.id
            return


def _first(element: ET.Element, *path: str) -> ET.Element | None:
    node: ET.Element | None = element
    for name in path:
        if node is None:
            return None
        node = child(node, name)
    return node


def _deep_text(element: ET.Element, name: str) -> str | None:
    for item in element.iter():
        if local_name(item.tag) == name:
            return text_of(item)
    return None


def _step_properties(extension: ET.Element | None) -> dict[str, str]:
    """The NI extension's TSStepProperties: StepType, StepGroup, TotalTime, StepId, …"""
    props = child(extension, "TSStepProperties") if extension is not None else None
    found: dict[str, str] = {}
    if props is None:
        return found
    for item in props:
        value = item.get("value") if item.get("value") is not None else text_of(item)
        if value is not None:
            found[local_name(item.tag)] = value.strip()
    return found


def _status(outcome: ET.Element | None) -> str | None:
    if outcome is None:
        return None
    value = (outcome.get("value") or "").strip().lower()
    qualifier = (outcome.get("qualifier") or "").strip().lower()
    # TestStand writes a skipped step as Aborted/UserDefined qualified "Skipped".
    if qualifier in _OUTCOMES and value in ("userdefined", "aborted", ""):
        return _OUTCOMES[qualifier]
    return _OUTCOMES.get(value, "D" if value else None)


def _result_of(root: JsonDict) -> str:
    status = root.get("status")
    return status if status in ("P", "F", "E", "T") else "P"


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    try:
        return parse_bool(value)
    except ValueError:
        return None


def _report_text(data: ET.Element | None) -> str | None:
    if data is None:
        return None
    for item in data.iter():
        if local_name(item.tag) == "Item" and item.get("name") == "ReportText":
            value = _first(item, "Datum", "Value")
            if value is not None and value.text:
                return value.text
    return None


def _split_sequence(name: str | None) -> tuple[str | None, str | None]:
    """'C:\\dir\\file.seq#MainSequence' → ('C:\\dir\\file.seq', 'MainSequence')."""
    if not name:
        return None, None
    path, _, sequence = name.rpartition("#")
    if not path:
        return None, name
    return path, sequence or None


def _caller(user_defined: str | None) -> str | None:
    if not user_defined:
        return None
    match = _CALLER.search(user_defined)
    return match["name"] if match else None


def _limit_unit(limits: ET.Element | None) -> str | None:
    if limits is None:
        return None
    for item in limits.iter():
        if local_name(item.tag) == "Datum":
            unit = item.get("nonStandardUnit") or item.get("standardUnit")
            if unit:
                return unit
    return None


def _seconds(start: datetime, end: datetime) -> float:
    if (start.tzinfo is None) != (end.tzinfo is None):
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    return (end - start).total_seconds()
