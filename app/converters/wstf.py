"""WSTF converter: WATS Standard Text Format (wats-api.md §4.2).

A WSTF file is tab-separated text holding one or more reports, each framed by section
markers: `--Header-Start--` (Key<TAB>Value lines), `--Step-Data-Start--` (a column-header row,
then one row per step or measurement), `--Step-Data-End--`, an optional footer whose values
win over the header's, and `--UUT-End--`.

The file may say `ConverterMode<TAB>Import` or `Active` in its header, which overrides the
configured mode for that report. Because the mode can differ per report, this converter
applies the mode itself (Active: verdicts from limits; Import: statuses as given, and only
the empty ones computed from limits) and declares `always_import` so the pipeline does not
recompute them again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Final

from app.converters._common import (
    RESULT_LETTERS,
    STATUS_LETTERS,
    JsonDict,
    apply_fallbacks,
    build_report,
    comp_op_name,
    drop_none,
    guarded,
    letter,
    measurement_status,
    place_limits,
)
from app.converters._numbers import (
    parse_bool,
    parse_datetime,
    parse_float,
    parse_int,
)
from app.converters.base import (
    ConversionError,
    Converter,
    ConverterMode,
    ConverterSource,
    ParameterSpec,
    Report,
)
from app.core.report import UUTReport, number_steps
from app.core.verdict import apply_verdicts, fill_missing_verdicts

HEADER_START: Final = "--Header-Start--"
STEP_DATA_START: Final = "--Step-Data-Start--"
STEP_DATA_END: Final = "--Step-Data-End--"
UUT_END: Final = "--UUT-End--"
COLUMNS: Final = 14
MAX_SERIES: Final = 10
MAX_POINTS: Final = 10000
MAX_DEPTH: Final = 200

# Row kind → (measurement array, single step type, multiple step type)
_MEASURED: Final = {
    "numericlimittest": ("numericMeas", "ET_NLT", "ET_MNLT"),
    "multiplenumericlimittest": ("numericMeas", "ET_MNLT", "ET_MNLT"),
    "passfailtest": ("booleanMeas", "ET_PFT", "ET_MPFT"),
    "multiplepassfailtest": ("booleanMeas", "ET_MPFT", "ET_MPFT"),
    "stringvaluetest": ("stringMeas", "ET_SVT", "ET_MSVT"),
    "multiplestringvaluetest": ("stringMeas", "ET_MSVT", "ET_MSVT"),
}


def _marker(cell: str) -> str:
    """Section markers compared without spaces or case (`-- UUT-End--` occurs in the wild)."""
    return cell.replace(" ", "").lower()


_HEADER_START_KEY: Final = _marker(HEADER_START)
_STEP_START_KEY: Final = _marker(STEP_DATA_START)
_STEP_END_KEY: Final = _marker(STEP_DATA_END)
_UUT_END_KEY: Final = _marker(UUT_END)


@dataclass
class _Row:
    """One step-data row, its 14 columns padded with empty strings."""

    line: int
    cells: list[str]

    def __getitem__(self, index: int) -> str:
        return self.cells[index]

    @property
    def kind(self) -> str:
        return self.cells[0].strip()

    @property
    def step_name(self) -> str:
        return self.cells[1].strip()

    @property
    def measure_name(self) -> str:
        return self.cells[2].strip()


@dataclass
class _ReportState:
    """Everything read so far for one report."""

    start_line: int
    header: JsonDict = field(default_factory=dict)
    uut: JsonDict = field(default_factory=dict)
    misc: list[JsonDict] = field(default_factory=list)
    units: list[JsonDict] = field(default_factory=list)
    mode: ConverterMode | None = None
    software_name: str | None = None
    software_version: str | None = None
    root: JsonDict = field(default_factory=dict)
    stack: list[JsonDict] = field(default_factory=list)
    current: JsonDict | None = None
    current_kind: str = ""
    chart: JsonDict | None = None


class WstfConverter(Converter):
    name: ClassVar[str] = "wstf"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = "WATS Standard Text Format (tab-separated .txt), test reports"
    patterns: ClassVar[tuple[str, ...]] = ("*.txt", "*.wstf")
    # The mode is applied per report here (the file's ConverterMode may override it).
    always_import: ClassVar[bool] = True
    parameters: ClassVar[tuple[ParameterSpec, ...]] = (
        ParameterSpec(
            "sequence_name",
            "Root sequence name if the file has no SoftwareName",
            "str",
            "MainSequence Callback",
        ),
    )

    def convert(self, source: ConverterSource) -> list[Report]:
        return guarded(lambda: _Reader(source).read())

    def sniff(self, head: bytes) -> float:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if text.startswith(HEADER_START.encode()):
            return 0.95
        if HEADER_START.encode() in head:
            return 0.8
        if STEP_DATA_START.encode() in head:
            return 0.6
        return 0.0


class _Reader:
    """Reads a whole WSTF file, one report at a time."""

    def __init__(self, source: ConverterSource) -> None:
        self.source = source
        self.params = source.parameters
        self.culture = self.params.culture

    # ---------------------------------------------------------------- file level

    def read(self) -> list[Report]:
        text = self.source.read_text()
        if not text.strip():
            raise ConversionError("the file is empty")
        reports: list[Report] = []
        state: _ReportState | None = None
        section = "outside"
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.rstrip("\r\n")
            first = line.split("\t", 1)[0]
            key = _marker(first)
            if not line.strip():
                continue
            if key == _HEADER_START_KEY:
                if section != "outside":
                    raise ConversionError(
                        f"{HEADER_START} before the previous report's {UUT_END}", line=number
                    )
                state = self._new_state(number)
                section = "header"
                continue
            if section == "outside" or state is None:
                raise ConversionError(
                    f"expected {HEADER_START}, found {first.strip()[:40]!r}", line=number
                )
            if key == _STEP_START_KEY:
                if section != "header":
                    raise ConversionError(f"a second {STEP_DATA_START}", line=number)
                section = "columns"
            elif key == _STEP_END_KEY:
                if section not in ("steps", "columns"):
                    raise ConversionError(f"{STEP_DATA_END} without {STEP_DATA_START}", line=number)
                section = "footer"
            elif key == _UUT_END_KEY:
                if section == "header":
                    raise ConversionError(f"{UUT_END} without step data", line=number)
                reports.append(self._finish(state, number))
                state, section = None, "outside"
            elif section in ("header", "footer"):
                self._header_line(state, line.split("\t"), number)
            elif section == "columns" and first.strip().lower() == "steptype":
                section = "steps"
            else:
                section = "steps"
                cells = line.split("\t")
                cells += [""] * (COLUMNS - len(cells))
                self._step_row(state, _Row(number, cells))
        if state is not None:
            raise ConversionError(
                f"the file ends inside a report (started on line {state.start_line}) "
                f"without {UUT_END}; is it complete?"
            )
        if not reports:
            raise ConversionError(f"no report in the file (no {HEADER_START} line)")
        return reports

    def _new_state(self, line: int) -> _ReportState:
        root: JsonDict = {
            "group": "M",
            "stepType": "SequenceCall",
            "name": str(self.params.extra.get("sequence_name") or "MainSequence Callback"),
            "steps": [],
        }
        return _ReportState(start_line=line, root=root, stack=[root])

    # ---------------------------------------------------------------- header and footer

    def _header_line(self, state: _ReportState, cells: list[str], line: int) -> None:
        key = cells[0].strip()
        value = cells[1].strip() if len(cells) > 1 else ""
        lower = key.lower()
        header, uut = state.header, state.uut
        if lower == "serialnumber":
            header["sn"] = value
        elif lower == "partnumber":
            header["pn"] = value
        elif lower == "revision":
            header["rev"] = value
        elif lower == "operationtypename":
            if value:
                header["processName"] = value
        elif lower == "operationtypecode":
            header["processCode"] = self._int(value, key, line)
        elif lower == "uutstatus":
            header["result"] = self._letter(value, RESULT_LETTERS, "UUT status", line)
        elif lower == "errorcode":
            uut["errorCode"] = self._int(value, key, line)
        elif lower == "errormessage":
            uut["errorMessage"] = value or None
        elif lower in ("startdatetime", "utcstartdatetime"):
            self._start(state, value, utc=lower.startswith("utc"), line=line)
        elif lower == "executiontime":
            uut["execTime"] = self._float(value, key, line)
        elif lower == "stationname":
            header["machineName"] = value
        elif lower == "operatorname":
            uut["user"] = value or None
        elif lower == "testsocketindex":
            uut["testSocketIndex"] = self._int(value, key, line)
        elif lower == "fixtureid":
            uut["fixtureId"] = value or None
        elif lower == "batchserialnumber":
            uut["batchSN"] = value or None
        elif lower == "comment":
            uut["comment"] = value or None
        elif lower == "softwarename":
            state.software_name = value or None
        elif lower == "softwareversion":
            state.software_version = value or None
        elif lower == "convertermode":
            mode = value.lower()
            if mode not in ("active", "import"):
                raise ConversionError(
                    f"ConverterMode must be Active or Import, not {value[:20]!r}", line=line
                )
            state.mode = "active" if mode == "active" else "import"
        elif lower == "subunit":
            parts = [cell.strip() for cell in cells[1:5]] + [""] * 4
            state.units.append(
                {"partType": parts[0], "pn": parts[1], "sn": parts[2], "rev": parts[3]}
            )
        elif key:
            state.misc.append({"description": key, "text": value})

    def _start(self, state: _ReportState, value: str, *, utc: bool, line: int) -> None:
        if not value:
            return
        try:
            moment = parse_datetime(value, self.culture)
        except ValueError as exc:
            raise ConversionError(f"start time: {exc}", line=line) from None
        if utc:
            state.header["startUTC"] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        else:
            state.header["start"] = moment

    # ---------------------------------------------------------------- step rows

    def _step_row(self, state: _ReportState, row: _Row) -> None:
        kind = row.kind.lower()
        if kind == "sequencecall":
            self._open_sequence(state, row)
        elif kind == "endsequencecall":
            self._close_sequence(state, row)
        elif kind in _MEASURED:
            self._measurement_row(state, row, kind)
        elif kind == "actionstep":
            step = self._step(row, "Action")
            step.setdefault("status", "D")
            self._append(state, step, "action")
        elif kind == "chart":
            self._chart_row(state, row)
        elif kind == "series":
            self._series_row(state, row)
        else:
            raise ConversionError(f"unknown step type {row.kind[:40]!r}", line=row.line)

    def _step(self, row: _Row, step_type: str) -> JsonDict:
        """The common fields of a step from its first row."""
        return drop_none(
            {
                "group": "M",
                "stepType": step_type,
                "name": row.step_name,
                "status": self._status(row),
                "totTime": self._float(row[9], "StepExecutionTime", row.line),
                "reportText": row[10].strip() or None,
                "errorCode": self._int(row[11], "StepErrorCode", row.line),
                "errorMessage": row[12].strip() or None,
                "causedSeqFailure": self._bool(row[13], "CausedSequenceFailure", row.line),
            }
        )

    def _append(self, state: _ReportState, step: JsonDict, kind: str) -> None:
        state.stack[-1].setdefault("steps", []).append(step)
        state.current = step
        state.current_kind = kind
        state.chart = None

    def _open_sequence(self, state: _ReportState, row: _Row) -> None:
        if len(state.stack) > MAX_DEPTH:
            raise ConversionError(f"sequences nested more than {MAX_DEPTH} deep", line=row.line)
        step = self._step(row, "SequenceCall")
        step["seqCall"] = drop_none(
            {
                "path": state.software_name or row.step_name,
                "name": row.step_name,
                "version": state.software_version,
            }
        )
        step["steps"] = []
        self._append(state, step, "sequence")
        state.stack.append(step)
        state.current, state.current_kind = None, ""

    def _close_sequence(self, state: _ReportState, row: _Row) -> None:
        if len(state.stack) == 1:
            raise ConversionError("EndSequenceCall without an open SequenceCall", line=row.line)
        sequence = state.stack[-1]
        if row.step_name and row.step_name != sequence["name"]:
            raise ConversionError(
                f"EndSequenceCall {row.step_name[:40]!r} does not match the open sequence "
                f"{sequence['name'][:40]!r}",
                line=row.line,
            )
        # The closing row's status, time and text override the sequence's own.
        closing = self._step(row, "SequenceCall")
        for key in ("status", "totTime", "reportText", "errorCode", "errorMessage"):
            if key in closing:
                sequence[key] = closing[key]
        state.stack.pop()
        state.current, state.current_kind, state.chart = None, "", None

    def _measurement_row(self, state: _ReportState, row: _Row, kind: str) -> None:
        array, single_type, multiple_type = _MEASURED[kind]
        current = state.current
        joins = (
            current is not None
            and row.measure_name
            and state.current_kind == array
            and (not row.step_name or row.step_name == current.get("name"))
        )
        measurement = self._measurement(row, array)
        if joins and current is not None:
            current[array].append(measurement)
            current["stepType"] = multiple_type
            status = measurement.get("status")
            if status == "F" and current.get("status") in (None, "P", "D"):
                current["status"] = "F"
            return
        step = self._step(row, single_type)
        step[array] = [measurement]
        if row.measure_name and single_type != multiple_type:
            step["stepType"] = multiple_type  # a named measurement is a multi-measurement step
        self._append(state, step, array)

    def _measurement(self, row: _Row, array: str) -> JsonDict:
        status = self._status(row)
        name = row.measure_name or None
        if array == "numericMeas":
            comp_op = comp_op_name(row[6])
            low, high = place_limits(
                comp_op,
                self._float(row[4], "LowLimit", row.line),
                self._float(row[5], "HighLimit", row.line),
            )
            meas: JsonDict = drop_none(
                {
                    "name": name,
                    "value": self._float(row[3], "Value", row.line),
                    "unit": row[7].strip() or None,
                    "compOp": comp_op,
                    "lowLimit": low,
                    "highLimit": high,
                }
            )
            meas["status"] = measurement_status(status)
            return meas
        if array == "booleanMeas":
            value = row[3].strip()
            if status is None:
                if not value:
                    raise ConversionError(
                        "a PassFailTest row needs a Value (TRUE or FALSE) or a StepStatus",
                        line=row.line,
                    )
                status = "P" if self._bool(value, "Value", row.line) else "F"
            return drop_none({"name": name, "status": measurement_status(status)})
        comp_op = comp_op_name(row[6])
        if comp_op == "EQ":
            comp_op = "CASESENSIT"  # WSJF string operators: CASESENSIT, IGNORECASE, LOG
        return drop_none(
            {
                "name": name,
                "value": row[3],
                "limit": row[4] if row[4] else None,
                "compOp": comp_op,
                "status": measurement_status(status),
            }
        )

    def _chart_row(self, state: _ReportState, row: _Row) -> None:
        chart = drop_none(
            {
                "chartType": row[1].strip() or "Line",
                "label": row[2].strip() or None,
                "yUnit": row[3].strip() or None,
                "yLabel": row[4].strip() or None,
                "xUnit": row[5].strip() or None,
                "xLabel": row[6].strip() or None,
            }
        )
        chart["series"] = []
        target = state.current
        if target is None or "chart" in target or state.current_kind != "numericMeas":
            target = {
                "group": "M",
                "stepType": "WATS_XYGMNLT",
                "name": chart.get("label", "Chart"),
                "status": "D",
            }
            self._append(state, target, "chart")
        else:
            target["stepType"] = "WATS_XYGMNLT"  # a numeric step with a chart
        target["chart"] = chart
        state.chart = chart

    def _series_row(self, state: _ReportState, row: _Row) -> None:
        if state.chart is None:
            raise ConversionError("a Series row without a Chart row before it", line=row.line)
        series: list[JsonDict] = state.chart["series"]
        if len(series) >= MAX_SERIES:
            if self.params.validation_mode == "reject":
                raise ConversionError(f"a chart holds at most {MAX_SERIES} series", line=row.line)
            return
        series.append(
            drop_none(
                {
                    "name": row[1].strip() or None,
                    "dataType": row[2].strip() or "XYG",
                    "ydata": self._series_values(row[3], "Y data", row.line),
                    "xdata": self._series_values(row[4], "X data", row.line),
                }
            )
        )

    def _series_values(self, text: str, what: str, line: int) -> str | None:
        items = [item for item in text.split(";") if item.strip()]
        if not items:
            return None
        if len(items) > MAX_POINTS:
            if self.params.validation_mode == "reject":
                raise ConversionError(
                    f"{what}: a series holds at most {MAX_POINTS} points", line=line
                )
            items = items[:MAX_POINTS]
        # WSJF chart data always uses "." as the decimal point, whatever the file's culture.
        return ";".join(_number_text(self._float(item, what, line)) for item in items)

    # ---------------------------------------------------------------- the finished report

    def _finish(self, state: _ReportState, line: int) -> Report:
        if len(state.stack) > 1:
            raise ConversionError(
                f"sequence {state.stack[-1]['name'][:40]!r} is not closed by an EndSequenceCall",
                line=line,
            )
        header = state.header
        root = state.root
        root["seqCall"] = drop_none(
            {
                "path": state.software_name or root["name"],
                "name": state.software_name or root["name"],
                "version": state.software_version,
            }
        )
        if not root["steps"]:
            del root["steps"]
        data: JsonDict = {
            "type": "T",
            "pn": header.get("pn", ""),
            "sn": header.get("sn", ""),
            "rev": header.get("rev", ""),
            "machineName": header.get("machineName", ""),
            "root": root,
            "uut": drop_none(state.uut),
        }
        for key in ("processCode", "processName", "result", "start", "startUTC"):
            if header.get(key) is not None:
                data[key] = header[key]
        if "start" not in data and "startUTC" not in data:
            data["start"] = self._file_time()
        if state.misc:
            data["miscInfos"] = state.misc
        if state.units:
            data["subUnits"] = state.units
        if not data["sn"]:
            raise ConversionError(
                f"the report that starts on line {state.start_line} has no SerialNumber"
            )
        apply_fallbacks(data, self.params, uut=True)
        report = build_report(data, f"report starting on line {state.start_line}")
        assert isinstance(report, UUTReport)
        number_steps(report.root)
        mode = state.mode or self.params.mode
        if mode == "active":
            apply_verdicts(report)
        else:
            fill_missing_verdicts(report)
        return report

    def _file_time(self) -> datetime:
        """No start time in the file: the moment the tester wrote it, else now."""
        try:
            return datetime.fromtimestamp(os.stat(self.source.path).st_mtime).astimezone()
        except (OSError, OverflowError, ValueError):
            return datetime.now().astimezone()

    # ---------------------------------------------------------------- cells

    def _status(self, row: _Row) -> str | None:
        return self._letter(row[8], STATUS_LETTERS, "step status", row.line)

    def _letter(self, value: str, table: dict[str, str], what: str, line: int) -> str | None:
        try:
            return letter(value, table, what)
        except ConversionError as exc:
            raise ConversionError(exc.message, line=line) from None

    def _float(self, value: str, what: str, line: int) -> float | None:
        if not value.strip():
            return None
        try:
            return parse_float(value, self.culture)
        except ValueError as exc:
            raise ConversionError(f"{what}: {exc}", line=line) from None

    def _int(self, value: str, what: str, line: int) -> int | None:
        if not value.strip():
            return None
        try:
            return parse_int(value, self.culture)
        except ValueError as exc:
            raise ConversionError(f"{what}: {exc}", line=line) from None

    def _bool(self, value: str, what: str, line: int) -> bool | None:
        if not value.strip():
            return None
        try:
            return parse_bool(value)
        except ValueError as exc:
            raise ConversionError(f"{what}: {exc}", line=line) from None


def _number_text(value: float | None) -> str:
    assert value is not None
    return format(value, ".15g")
