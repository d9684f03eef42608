"""WSXF (WATS Standard XML Format, wats-api.md §4.1) submits: header extraction only.

The server stores the XML as sent, keyed by each `<Report ID=...>`, and keeps a WSJF-shaped
header dict so WSXF reports show up in header queries, yield and `Report/Wsjf/{id}` like any
other. Steps are not converted: only the root step's presence and name are kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from app.devserver.headers import RESULT_LETTERS
from app.devserver.validation import canonical_uuid, invalid

REPORT_TYPES = {"uut": "T", "uur": "R"}


@dataclass(frozen=True)
class WsxfReport:
    sent_id: str  # the ID attribute as sent, echoed back in the submit result
    report_id: str  # canonical lower-case UUID
    wsjf: dict[str, Any]  # WSJF-shaped header


def _local(tag: str) -> str:
    """The tag without its XML namespace: "{http://...}Report" -> "Report"."""
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _int_attr(element: ET.Element | None, name: str) -> int | None:
    if element is None or element.get(name) in (None, ""):
        return None
    try:
        return int(str(element.get(name)))
    except ValueError:
        return None


def _float_attr(element: ET.Element | None, name: str) -> float | None:
    if element is None or element.get(name) in (None, ""):
        return None
    try:
        return float(str(element.get(name)))
    except ValueError:
        return None


def parse_wsxf(body: bytes, known_process_codes: Container[int] | None) -> list[WsxfReport]:
    """The reports of a WSXF document, or a 400 ApiError naming what is wrong."""
    if not body.strip():
        raise invalid("The request body is empty; expected WSXF XML")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise invalid(f"Malformed XML: {exc}") from None
    if _local(root.tag) == "Report":
        elements = [root]
    elif _local(root.tag) == "Reports":
        elements = [child for child in root if _local(child.tag) == "Report"]
    else:
        raise invalid(f"The XML root must be <Reports> or <Report>, got <{_local(root.tag)}>")
    if not elements:
        raise invalid("The WSXF document holds no <Report> element")
    return [_parse_report(element, known_process_codes) for element in elements]


def _parse_report(report: ET.Element, known_process_codes: Container[int] | None) -> WsxfReport:
    missing = [a for a in ("type", "ID", "SN", "PN", "Rev", "MachineName") if report.get(a) is None]
    process = _child(report, "Process")
    if process is None or process.get("Code") in (None, ""):
        missing.append("Process/@Code")
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise invalid(
            f"<Report> is missing required attribute{'s' if len(missing) > 1 else ''}: {names}"
        )
    assert process is not None  # a missing <Process> was reported above
    kind = str(report.get("type"))
    report_type = REPORT_TYPES.get(kind.lower())
    if report_type is None:
        raise invalid(f"Attribute 'type' must be UUT or UUR, got {kind!r}")
    sent_id = str(report.get("ID"))
    report_id = canonical_uuid(sent_id, field="ID")
    for name in ("SN", "PN", "MachineName"):
        if not str(report.get(name)).strip():
            raise invalid(f"Attribute '{name}' must not be empty")
    code = _int_attr(process, "Code")
    if code is None:
        raise invalid(f"Attribute 'Process/@Code' must be an integer, got {process.get('Code')!r}")
    if known_process_codes is not None and code not in known_process_codes:
        raise invalid(f"Attribute 'Process/@Code' {code} is not a process known to this server")
    root_step = _child(report, "Step")
    if report_type == "T" and root_step is None:
        raise invalid("A UUT report needs a root <Step> element")
    result_word = str(report.get("Result") or ("Passed" if report_type == "R" else ""))
    result = RESULT_LETTERS.get(result_word.lower())
    if result is None:
        raise invalid(
            f"Attribute 'Result' must be Passed, Failed, Error or Terminated, got {result_word!r}"
        )

    wsjf: dict[str, Any] = {
        "type": report_type,
        "id": report_id,
        "pn": report.get("PN"),
        "sn": report.get("SN"),
        "rev": report.get("Rev"),
        "processCode": code,
        "processName": process.get("Name"),
        "result": result,
        "machineName": report.get("MachineName"),
        "location": report.get("Location"),
        "purpose": report.get("Purpose"),
        "start": report.get("Start"),
        "startUTC": report.get("Start_utc"),
        "productName": report.get("ProductName"),
        "origin": report.get("origin"),
        "miscInfos": [
            {
                "description": misc.get("Description"),
                "text": misc.text,
                "numeric": _int_attr(misc, "Numeric"),
            }
            for misc in report
            if _local(misc.tag) == "MiscInfo"
        ],
    }
    if report_type == "T":
        uut = _child(report, "UUT")
        comment = _child(uut, "Comment") if uut is not None else None
        wsjf["uut"] = {
            "user": uut.get("UserLoginName") if uut is not None else None,
            "batchSN": uut.get("BatchSN") if uut is not None else None,
            "fixtureId": uut.get("FixtureId") if uut is not None else None,
            "execTime": _float_attr(uut, "ExecutionTime"),
            "testSocketIndex": _int_attr(uut, "TestSocketIndex"),
            "errorCode": _int_attr(uut, "ErrorCode"),
            "errorMessage": uut.get("ErrorMessage") if uut is not None else None,
            "comment": comment.text if comment is not None else None,
        }
        assert root_step is not None  # checked above for UUT reports
        seq = _child(root_step, "SequenceCall")
        wsjf["root"] = {
            "stepType": root_step.get("StepType"),
            "name": root_step.get("Name"),
            "status": RESULT_LETTERS.get(str(root_step.get("Status", "")).lower()),
            "seqCall": {
                "name": seq.get("Name") if seq is not None else None,
                "path": seq.get("Filepath") if seq is not None else None,
                "version": seq.get("Version") if seq is not None else None,
            },
        }
    else:
        uur = _child(report, "UUR")
        comment = _child(uur, "Comment") if uur is not None else None
        test_process = _child(uur, "Process") if uur is not None else None
        wsjf["uur"] = {
            "user": uur.get("UserLoginName") if uur is not None else None,
            "comment": comment.text if comment is not None else None,
            "processCode": _int_attr(test_process, "Code"),
            "refUUT": uur.get("ReferencedUUT") if uur is not None else None,
            "execTime": _float_attr(uur, "ExecutionTime"),
        }
    return WsxfReport(sent_id=sent_id, report_id=report_id, wsjf=wsjf)
