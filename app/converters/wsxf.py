"""WSXF converter: WATS Standard XML Format (wats-api.md §4.1), test and repair reports.

A WSXF file is a finished WATS report written as XML: `<Reports>` holds one or more `<Report>`
elements of type UUT or UUR, enumerations are full words (`Passed`, `Setup`) and steps nest.
Like WSJF, its statuses stand as written (import mode, never recomputed), so a WSXF file and
the WSJF file of the same content give the same report.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar, TypeVar

from app.converters._common import (
    GROUP_LETTERS,
    MAX_DEPTH,
    RESULT_LETTERS,
    STATUS_LETTERS,
    JsonDict,
    apply_fallbacks,
    build_report,
    comp_op_name,
    drop_none,
    guarded,
    letter,
    place_limits,
)
from app.converters._numbers import (
    parse_bool,
    parse_datetime,
    parse_float,
    parse_int,
)
from app.converters._xml import child, children, local_name, read_xml, text_of
from app.converters.base import ConversionError, Converter, ConverterSource, Report

_Value = TypeVar("_Value")

WSXF_NAMESPACE = "http://wats.virinco.com/schemas/WATS/Report/wsxf"
MEASUREMENT_STATUS = {"P": "P", "F": "F", "S": "S", "D": "P", "E": "F", "T": "F", "U": "F"}


class _Attrs:
    """Typed reading of one element's attributes, with errors that say where."""

    def __init__(self, element: ET.Element, where: str) -> None:
        self.element = element
        self.where = where

    def text(self, name: str) -> str | None:
        value = self.element.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def raw(self, name: str) -> str | None:
        """The attribute exactly as written (strings whose spaces matter)."""
        return self.element.get(name)

    def _parsed(self, name: str, parse: Callable[[str], _Value]) -> _Value | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise ConversionError(f"{self.where}, attribute {name}: {exc}") from None

    def number(self, name: str) -> float | None:
        return self._parsed(name, parse_float)

    def whole(self, name: str) -> int | None:
        return self._parsed(name, parse_int)

    def flag(self, name: str) -> bool | None:
        return self._parsed(name, parse_bool)

    def moment(self, name: str) -> datetime | None:
        """Naive times stay naive: the model reads them as local (start) or UTC (`*_utc`)."""
        return self._parsed(name, parse_datetime)

    def letter(self, name: str, table: dict[str, str], what: str) -> str | None:
        try:
            return letter(self.text(name), table, what)
        except ConversionError as exc:
            raise ConversionError(f"{self.where}: {exc}") from None


class WsxfConverter(Converter):
    name: ClassVar[str] = "wsxf"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "WATS Standard XML Format (.xml), test and repair reports"
    patterns: ClassVar[tuple[str, ...]] = ("*.xml", "*.wsxf")
    always_import: ClassVar[bool] = True

    def convert(self, source: ConverterSource) -> list[Report]:
        return guarded(lambda: self._convert(source))

    def _convert(self, source: ConverterSource) -> list[Report]:
        root = read_xml(source)
        name = local_name(root.tag)
        if name == "Reports":
            elements = children(root, "Report")
        elif name == "Report":
            elements = [root]
        else:
            raise ConversionError(
                f"not a WSXF file: the root element is <{name or root.tag}>, not <Reports>"
            )
        if not elements:
            raise ConversionError("the WSXF file holds no <Report> elements")
        reports: list[Report] = []
        for index, element in enumerate(elements, start=1):
            where = f"report {index} of {len(elements)}" if len(elements) > 1 else "report"
            data = _read_report(element, where)
            apply_fallbacks(data, source.parameters, uut=data["type"] == "T")
            reports.append(build_report(data, where if len(elements) > 1 else ""))
        return reports

    def sniff(self, head: bytes) -> float:
        if WSXF_NAMESPACE.encode() in head:
            return 0.95
        if b"<Reports" in head and b"<Report " in head:
            return 0.6
        return 0.0


# ---------------------------------------------------------------- report level


def _read_report(element: ET.Element, where: str) -> JsonDict:
    attrs = _Attrs(element, where)
    kind = (attrs.text("type") or "UUT").upper()
    if kind not in ("UUT", "UUR", "T", "R"):
        raise ConversionError(f"{where}: unknown report type {kind[:20]!r} (UUT or UUR)")
    is_uut = kind in ("UUT", "T")
    data: JsonDict = drop_none(
        {
            "type": "T" if is_uut else "R",
            "id": attrs.text("ID") or attrs.text("Id") or attrs.text("id"),
            "pn": attrs.raw("PN"),
            "sn": attrs.raw("SN"),
            "rev": attrs.raw("Rev"),
            "machineName": attrs.raw("MachineName"),
            "location": attrs.raw("Location"),
            "purpose": attrs.raw("Purpose"),
            "start": attrs.moment("Start"),
            "startUTC": attrs.moment("Start_utc"),
            "result": attrs.letter("Result", RESULT_LETTERS, "result"),
        }
    )
    if "start" not in data and "startUTC" in data:
        data["start"] = data["startUTC"]
    if not is_uut:
        data.setdefault("result", "P")
    data.update(_read_process(element, f"{where}, <Process>"))
    if is_uut:
        data["uut"] = _read_uut(child(element, "UUT"), where)
    else:
        data["uur"] = _read_uur(child(element, "UUR"), where)
    _read_collections(element, data, where, is_uut=is_uut)
    if is_uut:
        data["root"] = _read_root(element, where)
    return data


def _read_uut(element: ET.Element | None, where: str) -> JsonDict:
    if element is None:
        return {}
    attrs = _Attrs(element, f"{where}, <UUT>")
    return drop_none(
        {
            "user": attrs.raw("UserLoginName"),
            "batchSN": attrs.raw("BatchSN"),
            "testSocketIndex": attrs.whole("TestSocketIndex"),
            "execTime": attrs.number("ExecutionTime"),
            "fixtureId": attrs.raw("FixtureId"),
            "errorCode": attrs.whole("ErrorCode"),
            "errorMessage": attrs.raw("ErrorMessage"),
            "batchFailCount": attrs.whole("BatchFailCount"),
            "batchLoopIndex": attrs.whole("BatchLoopIndex"),
            "stepIdCausedUUTFailure": attrs.whole("StepIdCausedUUTFailure"),
            "comment": _element_text(child(element, "Comment")),
        }
    )


def _read_uur(element: ET.Element | None, where: str) -> JsonDict:
    if element is None:
        return {}
    attrs = _Attrs(element, f"{where}, <UUR>")
    data: JsonDict = drop_none(
        {
            "user": attrs.raw("UserLoginName"),
            "confirmDate": attrs.moment("ConfirmDate"),
            "finalizeDate": attrs.moment("FinalizeDate"),
            "execTime": attrs.number("ExecutionTime"),
            "refUUT": attrs.text("ReferencedUUT"),
            "parent": attrs.text("Parent"),
            "comment": _element_text(child(element, "Comment")),
        }
    )
    data.update(_read_process(element, f"{where}, <UUR><Process>"))
    kids = child(element, "Children")
    if kids is not None:
        ids = [
            item.get("ID") or item.get("Id") or item.get("id") or text_of(item)
            for item in kids.iter()
            if item is not kids
        ]
        data["children"] = [value.strip() for value in ids if value and value.strip()]
    return data


def _read_process(element: ET.Element, where: str) -> JsonDict:
    """processCode and processName from a <Process> child, if there is one."""
    process = child(element, "Process")
    if process is None:
        return {}
    attrs = _Attrs(process, where)
    return drop_none({"processCode": attrs.whole("Code"), "processName": attrs.text("Name")})


def _element_text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text


def _read_collections(element: ET.Element, data: JsonDict, where: str, *, is_uut: bool) -> None:
    misc: list[JsonDict] = []
    units: list[JsonDict] = []
    failures: list[tuple[int, JsonDict]] = []
    assets: list[JsonDict] = []
    binaries: list[JsonDict] = []
    additional: list[JsonDict] = []
    for item in element:
        name = local_name(item.tag)
        if name == "MiscInfo":
            misc.append(_read_misc_info(item, where))
        elif name == "ReportInfo":
            attrs = _Attrs(item, f"{where}, <ReportInfo>")
            key = attrs.text("key") or attrs.text("Key")
            if key:
                misc.append({"description": key, "text": attrs.raw("value") or attrs.raw("Value")})
        elif name in ("ReportUnitHierarchy", "PartInfo"):
            units.append(_read_sub_unit(item, where, is_uut=is_uut))
        elif name == "Failures":
            failures.append(_read_failure(item, where))
        elif name == "Asset":
            attrs = _Attrs(item, f"{where}, <Asset>")
            assets.append(
                drop_none(
                    {"assetSN": attrs.raw("AssetSN"), "usageCount": attrs.whole("UsageCount")}
                )
            )
        elif name == "Binary":
            binaries.append(_read_binary(item, where))
        elif name == "AdditionalData":
            additional.append(_read_additional(item, where, 0))
    if failures:
        _attach_failures(units, failures, data, where)
    for key, values in (
        ("miscInfos", misc),
        ("subUnits", units),
        ("assets", assets),
        ("binaryData", binaries),
        ("additionalData", additional),
    ):
        if values:
            data[key] = values


def _read_misc_info(item: ET.Element, where: str) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <MiscInfo>")
    return drop_none(
        {
            "description": attrs.raw("Description"),
            "numeric": attrs.whole("Numeric"),
            "typedef": attrs.text("Typedef"),
            "id": attrs.text("Id"),
            "text": _element_text(item),
        }
    )


def _read_sub_unit(item: ET.Element, where: str, *, is_uut: bool) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <{local_name(item.tag)}>")
    unit: JsonDict = drop_none(
        {
            "partType": attrs.raw("PartType"),
            "pn": attrs.raw("PN"),
            "sn": attrs.raw("SN"),
            "rev": attrs.raw("Rev"),
            "position": attrs.whole("Position"),
        }
    )
    idx = attrs.whole("Idx") if item.get("Idx") is not None else attrs.whole("idx")
    if idx is not None:
        unit["idx"] = idx
    if not is_uut:
        unit.update(
            drop_none(
                {"parentIdx": attrs.whole("ParentIDX"), "replacedIdx": attrs.whole("ReplacedIDX")}
            )
        )
    return unit


def _read_failure(item: ET.Element, where: str) -> tuple[int, JsonDict]:
    attrs = _Attrs(item, f"{where}, <Failures>")
    failure = drop_none(
        {
            "category": attrs.raw("Category"),
            "code": attrs.raw("Code"),
            "comRef": attrs.raw("CompRef"),
            "refStepId": attrs.whole("StepID"),
            "refStepName": attrs.raw("StepName"),
            "funcBlock": attrs.raw("FunctionBlock"),
            "artNumber": attrs.raw("ArticleNumber"),
            "artRev": attrs.raw("ArticleRev"),
            "artVendor": attrs.raw("ArticleVendor"),
            "artDescription": attrs.raw("ArticleDescription"),
            "comment": _element_text(child(item, "Comment")),
        }
    )
    return attrs.whole("PartIdx") or 0, failure


def _attach_failures(
    units: list[JsonDict], failures: list[tuple[int, JsonDict]], data: JsonDict, where: str
) -> None:
    by_idx = {unit.get("idx", 0 if i == 0 else None): unit for i, unit in enumerate(units)}
    for part_idx, failure in failures:
        unit = by_idx.get(part_idx)
        if unit is None:
            if part_idx != 0:
                raise ConversionError(
                    f"{where}: a failure refers to unit {part_idx}, which the report does not list"
                )
            # The repaired main unit (idx 0) is implied by the report's own PN/SN/rev.
            unit = drop_none(
                {"partType": "Main", "pn": data.get("pn"), "sn": data.get("sn"),
                 "rev": data.get("rev"), "idx": 0}
            )  # fmt: skip
            units.insert(0, unit)
            by_idx[0] = unit
        unit.setdefault("failures", []).append(failure)


def _read_binary(item: ET.Element, where: str) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <Binary>")
    return drop_none(
        {
            "name": attrs.raw("Name"),
            "contentType": attrs.raw("ContentType"),
            "id": attrs.text("Id") or attrs.text("ID"),
            "data": "".join((item.text or "").split()),
        }
    )


def _read_additional(item: ET.Element, where: str, depth: int) -> JsonDict:
    if depth > MAX_DEPTH:
        raise ConversionError(f"{where}: additional data nested more than {MAX_DEPTH} levels")
    attrs = _Attrs(item, f"{where}, <{local_name(item.tag)}>")
    props = [
        _read_prop(prop, where, depth + 1)
        for prop in item
        if local_name(prop.tag) in ("Prop", "Property", "Props")
    ]
    return drop_none({"name": attrs.raw("Name") or attrs.raw("name"), "props": props or None})


def _read_prop(item: ET.Element, where: str, depth: int) -> JsonDict:
    if depth > MAX_DEPTH:
        raise ConversionError(f"{where}: additional data nested more than {MAX_DEPTH} levels")
    attrs = _Attrs(item, f"{where}, <{local_name(item.tag)}>")
    nested = [
        _read_prop(prop, where, depth + 1)
        for prop in item
        if local_name(prop.tag) in ("Prop", "Property", "Props")
    ]
    value = attrs.raw("Value")
    if value is None:
        value = text_of(item)
    return drop_none(
        {
            "name": attrs.raw("Name"),
            "type": attrs.text("Type"),
            "flags": attrs.whole("Flags"),
            "value": value,
            "numFormat": attrs.raw("NumFormat"),
            "comment": attrs.raw("Comment"),
            "props": nested or None,
        }
    )


# ---------------------------------------------------------------- steps


def _read_root(report: ET.Element, where: str) -> JsonDict:
    top = children(report, "Step")
    if len(top) == 1:
        return _read_step(top[0], where)
    # No step or several top-level steps: hang them under the usual root sequence.
    steps = [_read_step(step, where) for step in top]
    root: JsonDict = {
        "group": "M",
        "stepType": "SequenceCall",
        "name": "MainSequence Callback",
        "status": _combined_status(steps),
    }
    if steps:
        root["steps"] = steps
    return root


def _combined_status(steps: list[JsonDict]) -> str:
    statuses = {step.get("status") for step in steps}
    for status in ("F", "E", "T"):
        if status in statuses:
            return status
    return "P"


def _read_step(element: ET.Element, where: str) -> JsonDict:
    # Iterative over the step tree: a deep file cannot exhaust the interpreter's stack.
    root = _step_fields(element, where)
    stack: list[tuple[ET.Element, JsonDict, int]] = [(element, root, 0)]
    while stack:
        node, step, depth = stack.pop()
        nested: list[JsonDict] = []
        for item in node:
            if local_name(item.tag) == "Step":
                if depth >= MAX_DEPTH:
                    raise ConversionError(f"{where}: steps nested more than {MAX_DEPTH} levels")
                child_step = _step_fields(item, where)
                nested.append(child_step)
                stack.append((item, child_step, depth + 1))
        if nested:
            step["steps"] = nested
    return root


def _step_fields(element: ET.Element, where: str) -> JsonDict:
    attrs = _Attrs(element, f"{where}, step {element.get('Name', '')!r}")
    step: JsonDict = drop_none(
        {
            "id": attrs.whole("Id"),
            "group": attrs.letter("Group", GROUP_LETTERS, "step group") or "M",
            "stepType": attrs.text("StepType") or "Action",
            "name": attrs.raw("Name") or "",
            "status": attrs.letter("Status", STATUS_LETTERS, "step status") or "D",
            "start": attrs.moment("Start"),
            "totTime": attrs.number("total_time"),
            "errorCode": attrs.whole("StepErrorCode"),
            "errorMessage": attrs.raw("StepErrorMessage") or None,
            "tsGuid": attrs.text("TSGuid"),
            "causedUUTFailure": attrs.flag("StepCausedUUTFailure") or False,
            "causedSeqFailure": attrs.flag("StepCausedSequenceFailure"),
        }
    )
    numeric: list[JsonDict] = []
    boolean: list[JsonDict] = []
    strings: list[JsonDict] = []
    series: list[JsonDict] = []
    for item in element:
        name = local_name(item.tag)
        if name == "NumericLimit":
            numeric.append(_numeric(item, attrs.where, step["status"]))
        elif name == "PassFail":
            boolean.append(_boolean(item, attrs.where, step["status"]))
        elif name == "StringValue":
            strings.append(_string(item, attrs.where, step["status"]))
        elif name == "SequenceCall":
            call = _Attrs(item, f"{attrs.where}, <SequenceCall>")
            step["seqCall"] = drop_none(
                {
                    "path": call.raw("Filepath") or call.raw("Filename"),
                    "name": call.raw("Name"),
                    "version": call.raw("Version"),
                }
            )
        elif name == "ReportText":
            step["reportText"] = _element_text(item)
        elif name == "Loop":
            loop = _Attrs(item, f"{attrs.where}, <Loop>")
            step["loop"] = drop_none(
                {
                    "idx": loop.whole("index"),
                    "num": loop.whole("num"),
                    "endingIndex": loop.whole("ending_index"),
                    "passed": loop.whole("passed"),
                    "failed": loop.whole("failed"),
                }
            )
        elif name == "Chart":
            step["chart"] = _chart(item, attrs.where, series)
        elif name == "Callexe":
            step["callExe"] = drop_none({"exitCode": _Attrs(item, attrs.where).number("ExitCode")})
        elif name == "MessagePopup":
            popup = _Attrs(item, f"{attrs.where}, <MessagePopup>")
            step["messagePopup"] = drop_none(
                {"button": popup.whole("Button"), "response": popup.raw("Response")}
            )
        elif name == "Attachment":
            attachment = _Attrs(item, f"{attrs.where}, <Attachment>")
            step["attachment"] = drop_none(
                {
                    "name": attachment.raw("Name"),
                    "contentType": attachment.raw("ContentType"),
                    "data": "".join((item.text or "").split()),
                }
            )
        elif name == "AdditionalResults":
            step.setdefault("additionalResults", []).append(_read_additional(item, attrs.where, 0))
    if numeric:
        step["numericMeas"] = numeric
    if boolean:
        step["booleanMeas"] = boolean
    if strings:
        step["stringMeas"] = strings
    return step


def _meas_status(attrs: _Attrs, step_status: str) -> str:
    status = attrs.letter("Status", STATUS_LETTERS, "measurement status")
    return MEASUREMENT_STATUS[status or step_status]


def _numeric(item: ET.Element, where: str, step_status: str) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <NumericLimit>")
    comp_op = comp_op_name(attrs.text("CompOperator"))
    low, high = place_limits(comp_op, attrs.number("LowLimit"), attrs.number("HighLimit"))
    value = attrs.number("NumericValue")
    return {
        "name": attrs.raw("Name"),
        "status": _meas_status(attrs, step_status),
        "compOp": comp_op,
        **drop_none(
            {
                "value": value,
                "unit": attrs.raw("Units"),
                "lowLimit": low,
                "highLimit": high,
            }
        ),
    }


def _boolean(item: ET.Element, where: str, step_status: str) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <PassFail>")
    return {"name": attrs.raw("Name"), "status": _meas_status(attrs, step_status)}


def _string(item: ET.Element, where: str, step_status: str) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <StringValue>")
    return {
        "name": attrs.raw("Name"),
        "status": _meas_status(attrs, step_status),
        "compOp": comp_op_name(attrs.text("CompOperator")),
        **drop_none({"value": attrs.raw("StringValue"), "limit": attrs.raw("StringLimit")}),
    }


def _chart(item: ET.Element, where: str, series: list[JsonDict]) -> JsonDict:
    attrs = _Attrs(item, f"{where}, <Chart>")
    for entry in children(item, "Series"):
        entry_attrs = _Attrs(entry, f"{where}, <Series>")
        series.append(
            drop_none(
                {
                    "name": entry_attrs.raw("Name"),
                    "dataType": entry_attrs.text("DataType") or "XYG",
                    "xdata": _series_data(child(entry, "xdata")),
                    "ydata": _series_data(child(entry, "ydata")),
                }
            )
        )
    return drop_none(
        {
            "chartType": attrs.text("ChartType") or "Line",
            "label": attrs.raw("Label"),
            "xLabel": attrs.raw("XLabel"),
            "xUnit": attrs.raw("XUnit"),
            "yLabel": attrs.raw("YLabel"),
            "yUnit": attrs.raw("YUnit"),
            "series": list(series),
        }
    )


def _series_data(element: ET.Element | None) -> str | None:
    text = text_of(element)
    return "".join(text.split()) if text else None
