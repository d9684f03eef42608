"""Table converter: CSV, TSV and semicolon files that small in-house testers write.

One row is one measurement (or one step): a step name, a value, and optionally a unit,
limits, a comparison operator, a status, a measurement name (several rows of one step), a
sequence (nesting, `/` for deeper levels) and a duration. Report header fields (SN, PN,
revision, process, operator, station, start, …) come from columns, fixed values, a regular
expression on the file name, or `key;value` lines above the header row. The mapping is in
the converter's parameters (`app.converters._table_mapping` describes it); without one,
columns are found by their usual names, so `Step,Value,Unit,Low,High` converts as it is.

Reading rules, in the order they apply:

- text: a byte-order mark wins (UTF-8, UTF-16), else the `encoding` parameter;
- delimiter: the `delimiter` parameter, else whichever of tab, `;` and `,` splits most
  lines into the same number of columns, else `csv.Sniffer`;
- header row: the `header_row` parameter, else the first of the first 50 lines that names
  the mapped columns (or a step column and a value or status column by their usual names);
  a file whose first line already holds a number in its second column has none;
- numbers: decimal comma when the `decimal` parameter says so, else when the culture uses
  one, else when the delimiter is `;` (that is why testers choose it);
- reports: a new report whenever the SN column changes (rows without an SN belong to the
  report above them), or one per file with `split=file`; without an SN column or field, the
  SN is the file name without its extension;
- statuses: Active mode computes every verdict from the limits (a row without limits
  passes; a row with only a status keeps it); Import mode keeps the status column and
  computes only what is missing. Either way the report's failing step is marked.

Every error names the line and, for a cell, its column number and header.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Final, cast

from app.converters._common import (
    OPERATOR_CODES,
    STATUS_LETTERS,
    JsonDict,
    apply_fallbacks,
    build_report,
    drop_none,
    guarded,
    measurement_status,
    operator_for_limits,
    place_limits,
)
from app.converters._numbers import parse_datetime, parse_float, parse_int, uses_decimal_comma
from app.converters._table_mapping import (
    COLUMN_ALIASES,
    HEADER_ALIASES,
    MAX_HEADER_SEARCH,
    Source,
    TableMapping,
    from_file_name,
    mapping_from_parameters,
    normalise,
)
from app.converters.base import (
    ConversionError,
    Converter,
    ConverterParameters,
    ConverterSource,
    ParameterSpec,
    Report,
)
from app.core.report import Step, UUTReport, iter_steps, number_steps
from app.core.report_types import ReportResult
from app.core.verdict import apply_verdicts, fill_missing_verdicts

# Status words testers write, beyond the WATS ones.
_STATUS_WORDS: Final = {
    **STATUS_LETTERS,
    "ok": "P",
    "good": "P",
    "io": "P",
    "true": "P",
    "1": "P",
    "nok": "F",
    "notok": "F",
    "nio": "F",
    "bad": "F",
    "false": "F",
    "0": "F",
}
# A value that is one of these (and has no limit) is a pass/fail measurement.
_BOOLEAN_VALUES: Final = {
    "pass": "P", "passed": "P", "ok": "P", "true": "P", "yes": "P", "good": "P",
    "fail": "F", "failed": "F", "nok": "F", "false": "F", "no": "F", "bad": "F",
}  # fmt: skip
_OPERATOR_SYMBOLS: Final = {
    "<": "LT", "<=": "LE", "=<": "LE", ">": "GT", ">=": "GE", "=>": "GE", "=": "EQ",
    "==": "EQ", "!=": "NE", "<>": "NE",
}  # fmt: skip
_STRING_OPERATORS: Final = frozenset({"CASESENSIT", "IGNORECASE", "LOG", "NE"})
# Arrays of a step and its single- and multi-measurement step types.
_STEP_TYPES: Final = {
    "numericMeas": ("ET_NLT", "ET_MNLT"),
    "booleanMeas": ("ET_PFT", "ET_MPFT"),
    "stringMeas": ("ET_SVT", "ET_MSVT"),
}
_CANDIDATE_DELIMITERS: Final = ("\t", ";", ",")  # preferred in this order on a tie
_SNIFF_LINES: Final = 30
MAX_SEQUENCE_DEPTH: Final = 50
# Marks a step started by a row with a measurement name, which later rows of the same step
# join; the report model drops keys it does not know, so the mark never reaches the report.
_NAMED: Final = "_named"
_NAME_ALIASES: Final = frozenset(COLUMN_ALIASES["name"])
_RESULT_ALIASES: Final = frozenset(COLUMN_ALIASES["value"] + COLUMN_ALIASES["status"])


class TableConverter(Converter):
    name: ClassVar[str] = "table"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "CSV, TSV or semicolon tables: one row per measurement, configurable columns"
    )
    patterns: ClassVar[tuple[str, ...]] = ("*.csv", "*.tsv", "*.tab", "*.txt")
    # The converter applies the mode itself, so Import mode can keep a status column while
    # filling in the statuses the file leaves out.
    always_import: ClassVar[bool] = True
    parameters: ClassVar[tuple[ParameterSpec, ...]] = (
        ParameterSpec(
            "delimiter",
            "Column separator",
            "choice",
            "auto",
            ("auto", ",", ";", "tab", "|"),
            help="auto: whichever of tab, ';' and ',' splits the lines evenly",
        ),
        ParameterSpec(
            "header_row",
            "Line number of the column header row",
            "int",
            0,
            help="0: find it automatically; -1: the file has no header row (use column numbers)",
        ),
        ParameterSpec(
            "decimal",
            "Decimal separator",
            "choice",
            "auto",
            ("auto", "point", "comma"),
            help="auto: comma when the culture uses one or the delimiter is ';'",
        ),
        ParameterSpec(
            "split",
            "One report per",
            "choice",
            "sn",
            ("sn", "file"),
            help="sn: a new report whenever the serial-number column changes",
        ),
        ParameterSpec(
            "header_fields",
            "Report header fields",
            "mapping",
            {},
            help=(
                "field → source, fields: " + ", ".join(HEADER_ALIASES) + ". A source is a "
                'column ("Serial" or 3), {"value": "…"}, {"filename": "regex with (?P<sn>…)"}'
                ', {"key": "text before the value on a line above the table"} or null; '
                'dates take "format" (e.g. "%d.%m.%Y %H:%M")'
            ),
        ),
        ParameterSpec(
            "columns",
            "Step columns",
            "mapping",
            {},
            help=(
                "column → source, columns: " + ", ".join(COLUMN_ALIASES) + ". A source is a "
                'column ("Reading" or 2), {"value": "…"} or null'
            ),
        ),
        ParameterSpec(
            "date_format",
            "Start date format",
            "str",
            "",
            help="strptime format such as %d.%m.%Y %H:%M:%S; empty: ISO and culture forms",
        ),
        ParameterSpec("sequence_name", "Root sequence name", "str", "MainSequence Callback"),
    )

    def convert(self, source: ConverterSource) -> list[Report]:
        return guarded(lambda: _TableReader(source).read())

    def sniff(self, head: bytes) -> float:
        try:
            text = decode_table(head, "utf-8", lenient=True)
        except ConversionError:
            return 0.0
        lines = [line for line in text.splitlines()[:_SNIFF_LINES] if line.strip()]
        if len(lines) < 2:
            return 0.0
        delimiter, lines_split = _count_delimiters(lines)
        if delimiter is None:
            return 0.0
        for cells in _split_lines(lines[:MAX_HEADER_SEARCH], delimiter):
            names = {normalise(cell) for cell in cells}
            if names & _NAME_ALIASES and names & _RESULT_ALIASES:
                return 0.6
        return 0.1 if lines_split >= 3 else 0.0


# ---------------------------------------------------------------- text and delimiter


def decode_table(data: bytes, encoding: str, *, lenient: bool = False) -> str:
    """The file's text: a byte-order mark wins over `encoding`. Errors name line and column."""
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
        encoding = "utf-8"
    try:
        return data.decode(encoding, errors="replace" if lenient else "strict")
    except LookupError:
        raise ConversionError(f"unknown file encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode(encoding, errors="replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise ConversionError(
            f"character {column}: the file is not valid {encoding} text (byte "
            f"0x{data[exc.start]:02x}); set the converter's encoding parameter (e.g. cp1252)",
            line=line,
        ) from None


def _count_delimiters(lines: list[str]) -> tuple[str | None, int]:
    """The candidate delimiter that splits most lines into the same number of columns."""
    best: str | None = None
    best_score = (0, 0)
    for candidate in _CANDIDATE_DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        nonzero = [count for count in counts if count]
        if not nonzero:
            continue
        count, lines_with_it = Counter(nonzero).most_common(1)[0]
        score = (lines_with_it, count)
        if score > best_score:
            best, best_score = candidate, score
    return best, best_score[0]


def detect_delimiter(text: str) -> str:
    """`,` `;` or tab by counting; `csv.Sniffer` when none occurs; `,` when nothing fits."""
    lines = [line for line in text.splitlines()[:MAX_HEADER_SEARCH] if line.strip()]
    found, _lines = _count_delimiters(lines)
    if found is not None:
        return found
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="|: ").delimiter
    except csv.Error:
        return ","  # one column: any delimiter reads it


def _split_lines(lines: list[str], delimiter: str) -> Iterator[list[str]]:
    try:
        yield from csv.reader(lines, delimiter=delimiter)
    except csv.Error:
        return


# ---------------------------------------------------------------- the reader


@dataclass
class _Row:
    line: int
    cells: list[str]


@dataclass
class _Group:
    """The rows of one report."""

    rows: list[_Row] = field(default_factory=list)
    sn: str | None = None


@dataclass
class _Preamble:
    """`key;value` lines above the header row: by normalised key, with their line numbers."""

    values: dict[str, tuple[str, str, int]] = field(
        default_factory=dict
    )  # key → (key, value, line)
    used: set[str] = field(default_factory=set)

    def get(self, key: str) -> tuple[str, int] | None:
        found = self.values.get(normalise(key))
        if found is None:
            return None
        self.used.add(normalise(key))
        return found[1], found[2]


class _TableReader:
    def __init__(self, source: ConverterSource) -> None:
        self.source = source
        self.params: ConverterParameters = source.parameters
        self.mapping: TableMapping = mapping_from_parameters(source.parameters)
        self.header: list[str] | None = None
        self.header_line: int | None = None
        self.index: dict[str, int] = {}  # field or column role → 0-based column
        self._cells: dict[str, tuple[str, int | None, str]] = {}  # see _cell_source
        self.number_culture = "invariant"

    # ---------------------------------------------------------------- file level

    def read(self) -> list[Report]:
        text = decode_table(self.source.read_bytes(), self.params.encoding or "utf-8")
        if not text.strip():
            raise ConversionError("the file is empty")
        delimiter = self.mapping.delimiter or detect_delimiter(text)
        rows = self._rows(text, delimiter)
        if not rows:
            raise ConversionError("the file holds no rows")
        header_at = self._find_header(rows)
        preamble = self._preamble(rows[:header_at] if header_at is not None else [])
        if header_at is not None:
            self.header = [cell.strip() for cell in rows[header_at].cells]
            self.header_line = rows[header_at].line
            data = rows[header_at + 1 :]
        else:
            data = rows
        self._resolve_columns()
        decimal_comma = self.mapping.decimal_comma
        if decimal_comma is None:
            decimal_comma = uses_decimal_comma(self.params.culture) or (
                delimiter == ";" and self.params.culture.strip().lower() == "invariant"
            )
        self.number_culture = "de-DE" if decimal_comma else "invariant"
        groups = self._groups(data)
        if not groups:
            where = f" below the header row on line {self.header_line}" if self.header else ""
            raise ConversionError(f"the table has no data rows{where}")
        return [self._report(group, preamble) for group in groups]

    def _rows(self, text: str, delimiter: str) -> list[_Row]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        rows: list[_Row] = []
        line = 0
        try:
            for cells in reader:
                start, line = line + 1, reader.line_num
                if any(cell.strip() for cell in cells):
                    rows.append(_Row(start, cells))
        except csv.Error as exc:
            raise ConversionError(f"the table cannot be read: {exc}", line=line + 1) from None
        return rows

    def _find_header(self, rows: list[_Row]) -> int | None:
        wanted = self.mapping.header_row
        if wanted == -1:
            return None
        if wanted > 0:
            for index, row in enumerate(rows):
                if row.line == wanted:
                    return index
                if row.line > wanted:
                    break
            raise ConversionError(
                f"header_row is {wanted}, but line {wanted} is empty or past the end of the file"
            )
        named = [
            source.column
            for source in (*self.mapping.fields.values(), *self.mapping.columns.values())
            if source is not None and source.kind == "column" and isinstance(source.column, str)
        ]
        for index, row in enumerate(rows[:MAX_HEADER_SEARCH]):
            cells = [cell.strip() for cell in row.cells]
            if named:
                if all(_find_column(name, cells) is not None for name in named):
                    return index
                continue
            names = {normalise(cell) for cell in cells}
            if names & self._aliases("name") and names & (
                self._aliases("value") | self._aliases("status")
            ):
                return index
        if named:
            raise ConversionError(
                "no line among the first "
                f"{MAX_HEADER_SEARCH} names the columns {', '.join(map(repr, named))}; "
                "set header_row to the line of the column header row"
            )
        first = rows[0].cells
        if len(first) >= 2 and _is_number(first[1], self.params.culture):
            return None  # the table starts with data: no header row
        raise ConversionError(
            "cannot find the column header row: none of the first "
            f"{MAX_HEADER_SEARCH} lines has a step column ({', '.join(COLUMN_ALIASES['name'])}) "
            f"and a value or status column ({', '.join(COLUMN_ALIASES['value'])}, "
            f"{', '.join(COLUMN_ALIASES['status'])}); set header_row and columns"
        )

    def _aliases(self, role: str) -> frozenset[str]:
        # A role the mapping switches off (null) or maps elsewhere finds no column by alias.
        if role in self.mapping.columns:
            return frozenset()
        return frozenset(COLUMN_ALIASES[role])

    def _preamble(self, rows: list[_Row]) -> _Preamble:
        preamble = _Preamble()
        for row in rows:
            cells = [cell.strip() for cell in row.cells]
            key, value = cells[0], next((cell for cell in cells[1:] if cell), "")
            if len(cells) == 1 or not any(cells[1:]):
                for separator in (":", "=", ";", "\t", ","):
                    if separator in key:
                        key, value = (part.strip() for part in key.split(separator, 1))
                        break
            key = key.rstrip(":=").strip()
            if key and normalise(key) not in preamble.values:
                preamble.values[normalise(key)] = (key, value, row.line)
        return preamble

    # ---------------------------------------------------------------- columns

    def _resolve_columns(self) -> None:
        taken: set[int] = set()
        configured = {**self.mapping.fields, **self.mapping.columns}
        for role, source in configured.items():
            if source is None or source.kind != "column":
                continue
            index = self._column_index(source, role)
            self.index[role] = index
            taken.add(index)
        if self.header is None:
            # No header row: the usual order Step, Value, Unit, Low, High, Status.
            for number, role in enumerate(("name", "value", "unit", "low", "high", "status")):
                if role not in configured and number not in taken:
                    self.index[role] = number
            return
        names = [normalise(cell) for cell in self.header]
        for role, aliases in (*COLUMN_ALIASES.items(), *HEADER_ALIASES.items()):
            if role in configured:
                continue
            for alias in aliases:
                found = next(
                    (i for i, name in enumerate(names) if name == alias and i not in taken), None
                )
                if found is not None:
                    self.index[role] = found
                    taken.add(found)
                    break
        if "name" not in self.index:
            raise ConversionError(
                f"the header row has no step-name column (one of "
                f"{', '.join(COLUMN_ALIASES['name'])}); its columns are "
                f"{self._header_list()}; map one with columns.name",
                line=self.header_line,
            )

    def _column_index(self, source: Source, role: str) -> int:
        column = source.column
        if isinstance(column, int):
            if self.header is not None and column > len(self.header):
                raise ConversionError(
                    f"{role} is mapped to column {column}, but the header row has only "
                    f"{len(self.header)} columns",
                    line=self.header_line,
                )
            return column - 1
        assert isinstance(column, str)
        if self.header is None:
            if column.isdigit() and int(column) >= 1:
                return int(column) - 1
            raise ConversionError(
                f"{role} is mapped to the column {column!r}, but the file has no header row "
                "to name it: use the column's number"
            )
        found = _find_column(column, self.header)
        if found is None:
            if column.isdigit() and 1 <= int(column) <= len(self.header):
                return int(column) - 1
            raise ConversionError(
                f"{role} is mapped to the column {column!r}, which the header row does not "
                f"have; its columns are {self._header_list()}",
                line=self.header_line,
            )
        return found

    def _header_list(self) -> str:
        return ", ".join(repr(cell) for cell in self.header or ()) or "none"

    def _label(self, index: int) -> str:
        if self.header is not None and index < len(self.header) and self.header[index]:
            return f"column {index + 1} ({self.header[index]})"
        return f"column {index + 1}"

    def _cell(self, row: _Row, role: str) -> tuple[str, str]:
        """(stripped text, label) of a row's cell for a step column or row-level field."""
        found = self._cells.get(role)
        if found is None:
            found = self._cells[role] = self._cell_source(role)
        fixed, index, label = found
        if index is None:
            return fixed, label
        cells = row.cells
        return (cells[index].strip() if index < len(cells) else ""), label

    def _cell_source(self, role: str) -> tuple[str, int | None, str]:
        # (fixed text, column index or None, label), worked out once per role: every row
        # asks for up to ten cells, so this is the converter's innermost loop.
        source = self.mapping.columns.get(role)
        if source is not None and source.kind == "value":
            return (source.value or "").strip(), None, f"the fixed {role} value"
        index = self.index.get(role)
        if index is None:
            return "", None, role
        return "", index, self._label(index)

    # ---------------------------------------------------------------- grouping

    def _groups(self, rows: list[_Row]) -> list[_Group]:
        header = [cell.strip() for cell in self.header] if self.header else None
        sn_index = self.index.get("sn")
        split = self.mapping.split == "sn" and sn_index is not None
        groups: list[_Group] = []
        current: _Group | None = None
        for row in rows:
            if header is not None and [cell.strip() for cell in row.cells] == header:
                continue  # a header repeated by a tester that appends to its log
            if split and sn_index is not None:
                sn = row.cells[sn_index].strip() if sn_index < len(row.cells) else ""
                if current is None or (sn and current.sn is not None and sn != current.sn):
                    current = _Group()
                    groups.append(current)
                if sn and current.sn is None:
                    current.sn = sn
            elif current is None:
                current = _Group()
                groups.append(current)
            current.rows.append(row)
        return groups

    # ---------------------------------------------------------------- one report

    def _report(self, group: _Group, preamble: _Preamble) -> Report:
        first, last = group.rows[0].line, group.rows[-1].line
        where = f"the report on lines {first}–{last}" if first != last else f"line {first}"
        header = _HeaderValues(self, group, preamble)
        data: JsonDict = {
            "type": "T",
            "sn": header.text("sn") or Path(self.source.path.name).stem,
            "pn": header.text("pn") or "",
            "rev": header.text("rev") or "",
        }
        station = header.text("station")
        if station:
            data["machineName"] = station
        for key in ("location", "purpose"):
            value = header.text(key)
            if value:
                data[key] = value
        process = header.value("process_code")
        if process is not None:
            text, line, label = process
            try:
                data["processCode"] = parse_int(text, "invariant")
            except ValueError:
                data["processName"] = text  # a process given by name
            if not -32768 <= data.get("processCode", 0) <= 32767:
                raise ConversionError(f"{label}: process code {text!r} is out of range", line=line)
        data["start"] = header.start() or self._file_time()
        uut: JsonDict = {
            "user": header.text("operator"),
            "batchSN": header.text("batch_sn"),
            "fixtureId": header.text("fixture_id"),
            "comment": header.text("comment"),
            "testSocketIndex": header.integer("socket"),
        }
        data["uut"] = drop_none(uut)
        result = header.result()
        misc = [
            {"description": key, "text": value}
            for normalised, (key, value, _line) in preamble.values.items()
            if normalised not in preamble.used and value
        ]
        if misc:
            data["miscInfos"] = misc
        data["root"] = self._steps(group.rows)
        apply_fallbacks(data, self.params, uut=True)
        report = build_report(data, where)
        assert isinstance(report, UUTReport)
        number_steps(report.root)
        if self.params.mode == "active":
            apply_verdicts(report)
        else:
            _import_statuses(report, result)
        return report

    def _file_time(self) -> datetime:
        """No start time in the file: the moment the tester wrote it, else now."""
        try:
            return datetime.fromtimestamp(os.stat(self.source.path).st_mtime).astimezone()
        except (OSError, OverflowError, ValueError):
            return datetime.now().astimezone()

    # ---------------------------------------------------------------- steps

    def _steps(self, rows: list[_Row]) -> JsonDict:
        root: JsonDict = {
            "group": "M",
            "stepType": "SequenceCall",
            "name": self.mapping.sequence_name,
            "seqCall": {
                "path": self.source.path.name or self.mapping.sequence_name,
                "name": self.mapping.sequence_name,
                "version": TableConverter.version,
            },
            "steps": [],
        }
        # The open sequences below the root, by name, for rows with a sequence column.
        open_path: list[str] = []
        stack: list[JsonDict] = [root]
        for row in rows:
            sequence, label = self._cell(row, "sequence")
            path = [part.strip() for part in sequence.split("/") if part.strip()]
            if len(path) > MAX_SEQUENCE_DEPTH:
                raise ConversionError(
                    f"{label}: sequences nested more than {MAX_SEQUENCE_DEPTH} deep",
                    line=row.line,
                )
            common = 0
            while common < min(len(path), len(open_path)) and path[common] == open_path[common]:
                common += 1
            del open_path[common:], stack[common + 1 :]
            for name in path[common:]:
                step: JsonDict = {
                    "group": "M",
                    "stepType": "SequenceCall",
                    "name": name,
                    "seqCall": {"path": "/".join([*open_path, name]), "name": name},
                    "steps": [],
                }
                stack[-1]["steps"].append(step)
                stack.append(step)
                open_path.append(name)
            self._row_step(row, stack[-1]["steps"])
        return root

    def _row_step(self, row: _Row, siblings: list[JsonDict]) -> None:
        name, name_label = self._cell(row, "name")
        if not name:
            raise ConversionError(f"{name_label}: the step has no name", line=row.line)
        status = self._status(row)
        measurement_name = self._cell(row, "measurement")[0] or None
        array, measurement = self._measurement(row, status)
        previous = siblings[-1] if siblings else None
        if (
            measurement is not None
            and measurement_name
            and previous is not None
            and previous.get("name") == name
            and array in previous
            and previous.get(_NAMED)
        ):
            measurement["name"] = measurement_name
            previous[array].append(measurement)
            previous["stepType"] = _STEP_TYPES[array][1]
            if status == "F" or (status is not None and previous.get("status") is None):
                previous["status"] = status
            return
        step: JsonDict = {"group": "M", "name": name}
        if status is not None:
            step["status"] = status
        duration, duration_label = self._cell(row, "duration")
        if duration:
            step["totTime"] = self._number(duration, duration_label, row.line)
        if measurement is None:
            step["stepType"] = "Action"
            if status is None:
                step["status"] = "D"
        else:
            single, multiple = _STEP_TYPES[array]
            step["stepType"] = single
            if measurement_name:
                measurement["name"] = measurement_name
                step["stepType"] = multiple
                step[_NAMED] = True
            step[array] = [measurement]
        siblings.append(step)

    def _measurement(self, row: _Row, status: str | None) -> tuple[str, JsonDict | None]:
        """(array name, measurement) of a row; None when the row is a step without one."""
        value, value_label = self._cell(row, "value")
        low_text, low_label = self._cell(row, "low")
        high_text, high_label = self._cell(row, "high")
        unit = self._cell(row, "unit")[0] or None
        operator_text, operator_label = self._cell(row, "comp_op")
        low = self._optional_number(low_text)
        high = self._optional_number(high_text)
        numeric_limits = low is not None or high is not None
        number = self._optional_number(value)
        if numeric_limits or number is not None:
            # A limit that is not a number beside a number: a typo, not a string test.
            for text, limit, label in ((low_text, low, low_label), (high_text, high, high_label)):
                if text and limit is None:
                    self._number(text, label, row.line)
        meas_status = measurement_status(status)
        if not value:
            if not numeric_limits:
                return "", None
            comp_op = self._numeric_operator(operator_text, operator_label, row.line, low, high)
            low, high = place_limits(comp_op, low, high)
            return "numericMeas", drop_none(
                {"status": meas_status, "unit": unit, "compOp": comp_op,
                 "lowLimit": low, "highLimit": high}
            )  # fmt: skip
        if number is not None:
            comp_op = self._numeric_operator(operator_text, operator_label, row.line, low, high)
            low, high = place_limits(comp_op, low, high)
            return "numericMeas", drop_none(
                {"status": meas_status, "value": number, "unit": unit, "compOp": comp_op,
                 "lowLimit": low, "highLimit": high}
            )  # fmt: skip
        if numeric_limits:
            self._number(value, value_label, row.line)  # raises: the value must be a number
        verdict = _BOOLEAN_VALUES.get(value.lower())
        if verdict is not None and not low_text and not high_text:
            return "booleanMeas", {"status": meas_status or verdict}
        text_limit = low_text or None
        comp_op = self._string_operator(operator_text, operator_label, row.line, text_limit)
        return "stringMeas", drop_none(
            {"status": meas_status, "value": value, "compOp": comp_op, "limit": text_limit}
        )

    # ---------------------------------------------------------------- cells

    def _status(self, row: _Row) -> str | None:
        text, label = self._cell(row, "status")
        if not text:
            return None
        found = _STATUS_WORDS.get(text.lower())
        if found is None:
            raise ConversionError(
                f"{label}: {text[:40]!r} is not a status (Passed, Failed, Skipped, Error, "
                "Terminated, Done, OK, NOK)",
                line=row.line,
            )
        return found

    def _number(self, text: str, label: str, line: int) -> float:
        try:
            return parse_float(text, self.number_culture)
        except ValueError as exc:
            if "," in text and self.number_culture == "invariant":
                raise ConversionError(
                    f"{label}: {text.strip()[:40]!r} is not a number with a decimal point; for "
                    "a decimal comma set the decimal parameter to comma (or the culture, e.g. "
                    "de-DE)",
                    line=line,
                ) from None
            raise ConversionError(f"{label}: {exc}", line=line) from None

    def _optional_number(self, text: str) -> float | None:
        if not text:
            return None
        try:
            return parse_float(text, self.number_culture)
        except ValueError:
            return None

    def _numeric_operator(
        self, text: str, label: str, line: int, low: float | None, high: float | None
    ) -> str:
        if text:
            operator = _operator_name(text)
            if operator is None or operator in ("CASESENSIT", "IGNORECASE"):
                raise ConversionError(
                    f"{label}: {text[:20]!r} is not a numeric comparison operator (GELE, GT, "
                    "LT, EQ, …, or <, <=, >, >=, ==, !=)",
                    line=line,
                )
            return operator
        return operator_for_limits(low, high)

    def _string_operator(self, text: str, label: str, line: int, limit: str | None) -> str:
        if text:
            operator = _operator_name(text)
            if operator == "EQ":
                return "CASESENSIT"
            if operator not in _STRING_OPERATORS:
                raise ConversionError(
                    f"{label}: {text[:20]!r} is not a text comparison (CASESENSIT, "
                    "IGNORECASE, NE or LOG)",
                    line=line,
                )
            return operator
        return "CASESENSIT" if limit is not None else "LOG"


class _HeaderValues:
    """The header fields of one report, each read from its source on first use."""

    def __init__(self, reader: _TableReader, group: _Group, preamble: _Preamble) -> None:
        self.reader = reader
        self.group = group
        self.preamble = preamble

    def value(self, name: str) -> tuple[str, int | None, str] | None:
        """(text, line, label) of a header field, or None when the file does not give it."""
        mapping = self.reader.mapping.fields
        source = mapping.get(name)
        if name in mapping and source is None:
            return None  # switched off
        if source is None or source.kind == "column":
            found = self._from_column(name)
            if found is not None or source is not None:
                return found
            if name == "sn" and self.group.sn:
                return self.group.sn, self.group.rows[0].line, "the SN column"
            for alias in HEADER_ALIASES[name]:
                entry = self.preamble.get(alias)
                if entry is not None and entry[0]:
                    return entry[0], entry[1], f"the line {alias!r}"
            return None
        if source.kind == "value":
            return (source.value or "").strip(), None, f"the fixed {name} value"
        if source.kind == "key":
            assert source.key is not None
            entry = self.preamble.get(source.key)
            if entry is None:
                raise ConversionError(
                    f"{name} comes from the line {source.key!r} above the header row, but the "
                    "file has no such line"
                )
            return entry[0], entry[1], f"the line {source.key!r}"
        return (
            from_file_name(source, self.reader.source.path.name, name),
            None,
            f"the {name} from the file name",
        )

    def _from_column(self, name: str) -> tuple[str, int, str] | None:
        index = self.reader.index.get(name)
        if index is None:
            return None
        for row in self.group.rows:
            if index < len(row.cells) and row.cells[index].strip():
                return row.cells[index].strip(), row.line, self.reader._label(index)
        return None

    def text(self, name: str) -> str | None:
        found = self.value(name)
        return found[0] or None if found is not None else None

    def integer(self, name: str) -> int | None:
        found = self.value(name)
        if found is None or not found[0]:
            return None
        text, line, label = found
        try:
            return parse_int(text, "invariant")
        except ValueError as exc:
            raise ConversionError(f"{label}: {name}: {exc}", line=line) from None

    def start(self) -> datetime | None:
        found = self.value("start")
        if found is None or not found[0]:
            return None
        text, line, label = found
        source = self.reader.mapping.fields.get("start")
        date_format = (source.format if source else None) or self.reader.mapping.date_format
        time_part = self.value("start_time")
        if time_part is not None and time_part[0]:
            time_source = self.reader.mapping.fields.get("start_time")
            # A "Time" column found by its name may hold durations; only a clock time joins.
            if time_source is not None or ":" in time_part[0]:
                text = f"{text} {time_part[0]}"
                if time_source is not None and time_source.format and date_format:
                    date_format = f"{date_format} {time_source.format}"
        try:
            if date_format:
                return datetime.strptime(text, date_format)
            return parse_datetime(text, self.reader.params.culture)
        except ValueError as exc:
            expected = f" (expected {date_format})" if date_format else ""
            raise ConversionError(f"{label}: start: {exc}{expected}", line=line) from None

    def result(self) -> str | None:
        found = self.value("result")
        if found is None or not found[0]:
            return None
        text, line, label = found
        letter = _STATUS_WORDS.get(text.lower())
        if letter not in ("P", "F", "E", "T"):
            raise ConversionError(
                f"{label}: {text[:40]!r} is not a result (Passed, Failed, Error, Terminated)",
                line=line,
            )
        return letter


# ---------------------------------------------------------------- helpers


def _find_column(name: str, header: list[str]) -> int | None:
    """A header column by name: exact, then ignoring case, then ignoring spaces and punctuation."""
    wanted = name.strip()
    cells = [cell.strip() for cell in header]
    for compare in (lambda c: c, str.casefold, normalise):
        key = compare(wanted)
        for index, cell in enumerate(cells):
            if compare(cell) == key:
                return index
    return None


def _is_number(text: str, culture: str) -> bool:
    try:
        parse_float(text, culture)
    except ValueError:
        return False
    return True


def _operator_name(text: str) -> str | None:
    word = text.strip().upper().replace(" ", "")
    if word in _OPERATOR_SYMBOLS:
        return _OPERATOR_SYMBOLS[word]
    if word.isdigit() and int(word) < len(OPERATOR_CODES):
        return OPERATOR_CODES[int(word)]
    if word in ("CASESENSITIVE", "CASE_SENSITIVE"):
        return "CASESENSIT"
    if word in ("IGNORE_CASE", "CASEINSENSITIVE"):
        return "IGNORECASE"
    return word if word in OPERATOR_CODES else None


def _import_statuses(report: UUTReport, result: str | None) -> None:
    """Import mode: keep the statuses the file gives; compute the missing ones from limits.

    The report's result is the file's (a result field) or follows the root; the first step
    that failed on its own is marked as the cause, as Active mode would mark it.
    """
    if result:
        report.result = cast(ReportResult, result)
    fill_missing_verdicts(report)
    cause = _first_own_failure(report.root) if report.result == "F" else None
    for step, _path in iter_steps(report.root):
        step.caused_uut_failure = step is cause
    report.uut.step_id_caused_uut_failure = cause.id if cause is not None else None


def _first_own_failure(root: Step) -> Step | None:
    # The first failed step, in report order, none of whose children failed.
    for step, _path in iter_steps(root):
        if step.status == "F" and not any(child.status == "F" for child in step.steps or ()):
            return step
    return None
