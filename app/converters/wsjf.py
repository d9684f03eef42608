"""WSJF converter: WATS Standard JSON Format files (test and repair reports).

WSJF files are finished reports: their statuses stand (import mode, never recomputed). A file
holds one report object or a JSON array of reports. A missing or all-zero id gets the
deterministic one (the pipeline assigns it).
"""

from __future__ import annotations

import json
from typing import ClassVar

from app.converters.base import ConversionError, Converter, ConverterSource, Report
from app.core.report import ReportError, parse_report


class WsjfConverter(Converter):
    name: ClassVar[str] = "wsjf"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "WATS Standard JSON Format (.json), test and repair reports"
    patterns: ClassVar[tuple[str, ...]] = ("*.json", "*.wsjf")
    always_import: ClassVar[bool] = True

    def convert(self, source: ConverterSource) -> list[Report]:
        data = source.read_bytes()
        if not data.strip():
            raise ConversionError("the file is empty")
        stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped.startswith(b"["):
            return self._convert_array(stripped)
        try:
            return [parse_report(stripped)]
        except ReportError as exc:
            raise ConversionError(str(exc)) from exc

    def _convert_array(self, data: bytes) -> list[Report]:
        try:
            items = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ConversionError(f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
        except UnicodeDecodeError as exc:
            raise ConversionError("the file is not UTF-8 text") from exc
        if not items:
            raise ConversionError("the file holds an empty list of reports")
        reports: list[Report] = []
        for index, item in enumerate(items):
            try:
                reports.append(parse_report(item))
            except ReportError as exc:
                raise ConversionError(f"report {index + 1} of {len(items)}: {exc}") from exc
        return reports

    def sniff(self, head: bytes) -> float:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n[")
        if not text.startswith(b"{"):
            return 0.0
        hits = sum(key in head for key in (b'"type"', b'"pn"', b'"sn"', b'"processCode"'))
        return 0.2 + 0.2 * hits
