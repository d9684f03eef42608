"""The table converter's mapping: which column, fixed value or file-name part feeds what.

The mapping lives in the converter's parameters (JSON, edited in the GUI), so it is read
here once per conversion and checked with readable errors: a typo in a field name or a
regular expression that does not compile names the parameter and the field it was for.

A *source* says where one value comes from. In JSON it is written as

- `"Serial"` or `{"column": "Serial"}`: the column with that header (case and spaces do not
  matter), or `3` / `{"column": 3}`: the third column (numbering starts at 1);
- `{"value": "PCB-100"}`: a fixed value;
- `{"filename": "^(?P<sn>[^_]+)_"}`: a regular expression searched in the file name; the
  value is the group named like the field (else the group in `"group"`, else the first
  group, else the whole match);
- `{"key": "Serial No"}`: a `key;value` (or `key: value`) line above the header row;
- `null`: not at all (switches off the automatic column for that field).

Header fields and step columns not mentioned in the mapping are found by their usual column
names (the aliases below), so a file with columns `Step,Value,Unit,Low,High` needs no mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from app.converters.base import ConversionError, ConverterParameters

SourceKind = Literal["column", "value", "filename", "key"]
Split = Literal["sn", "file"]

DEFAULT_SEQUENCE_NAME: Final = "MainSequence Callback"

# Header fields of a report, each with the column (and preamble key) names found by default.
HEADER_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "sn": ("sn", "serial", "serialnumber", "serialno", "uutsn", "uutserial", "barcode"),
    "pn": ("pn", "partnumber", "partno", "part", "product", "productnumber"),
    "rev": ("rev", "revision", "partrevision", "productrevision"),
    "process_code": (
        "processcode", "process", "operationcode", "operation", "opcode",
        "operationtypecode", "operationtypename", "testoperation",
    ),
    "operator": ("operator", "operatorname", "user", "username"),
    "station": ("station", "stationname", "machine", "machinename", "host"),
    "location": ("location",),
    "purpose": ("purpose",),
    "start": ("start", "starttime", "startdatetime", "date", "datetime", "timestamp",
              "testdate", "teststart"),
    "start_time": ("time",),
    "batch_sn": ("batch", "batchsn", "batchserialnumber", "lot", "lotnumber"),
    "fixture_id": ("fixture", "fixtureid"),
    "socket": ("socket", "socketindex", "testsocket", "testsocketindex"),
    "comment": ("comment", "remark", "remarks"),
    "result": ("uutstatus", "uutresult", "overallresult", "finalresult", "totalresult"),
}  # fmt: skip

# Step columns: one row of the table is one measurement (or one step).
COLUMN_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "name": ("step", "stepname", "test", "testname", "name", "parameter", "item", "check"),
    "measurement": ("measurename", "measurementname", "meas", "measname"),
    "value": ("value", "measured", "measuredvalue", "measvalue", "reading", "actual"),
    "unit": ("unit", "units", "uom"),
    "low": ("low", "lowlimit", "lolim", "lolimit", "min", "minimum", "lsl", "lower",
            "lowerlimit", "ll"),
    "high": ("high", "highlimit", "hilim", "hilimit", "max", "maximum", "usl", "upper",
             "upperlimit", "hl"),
    "comp_op": ("compop", "comp", "compoperator", "comparison", "comparator"),
    "status": ("status", "result", "verdict", "passfail", "pf", "outcome", "stepstatus"),
    "sequence": ("sequence", "group", "section", "block"),
    "duration": ("duration", "exectime", "executiontime", "elapsed", "steptime"),
}  # fmt: skip

# Row columns may be a column or a fixed value; header fields may come from anywhere.
_ROW_KINDS: Final = frozenset({"column", "value"})
_HEADER_KINDS: Final = frozenset({"column", "value", "filename", "key"})
_DELIMITERS: Final = {
    "auto": None, "": None, ",": ",", ";": ";", "tab": "\t", "\t": "\t", "\\t": "\t",
    "|": "|", "comma": ",", "semicolon": ";", "pipe": "|",
}  # fmt: skip
MAX_HEADER_SEARCH: Final = 50


def normalise(name: str) -> str:
    """A column name compared without case, spaces or punctuation ("Low Limit" = "low_limit")."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())


@dataclass(frozen=True)
class Source:
    """Where one value comes from (see the module doc)."""

    kind: SourceKind
    column: str | int | None = None
    value: str | None = None
    pattern: re.Pattern[str] | None = None
    group: str | int | None = None
    key: str | None = None
    format: str | None = None

    def describe(self) -> str:
        if self.kind == "column":
            return f"column {self.column!r}"
        if self.kind == "value":
            return f"the fixed value {self.value!r}"
        if self.kind == "key":
            return f"the line {self.key!r} above the header row"
        assert self.pattern is not None
        return f"the file name pattern {self.pattern.pattern!r}"


@dataclass(frozen=True)
class TableMapping:
    """The table converter's parameters, checked."""

    delimiter: str | None = None  # None: detect
    header_row: int = 0  # 0: find it; -1: no header row; n: 1-based line number
    decimal_comma: bool | None = None  # None: from the culture and the delimiter
    split: Split = "sn"
    # Configured sources; a None value switches the field off, a missing key means default.
    fields: dict[str, Source | None] = field(default_factory=dict)
    columns: dict[str, Source | None] = field(default_factory=dict)
    date_format: str | None = None
    sequence_name: str = DEFAULT_SEQUENCE_NAME


def mapping_from_parameters(params: ConverterParameters) -> TableMapping:
    """Read and check the table converter's parameters; ConversionError names a bad one."""
    extra = params.extra
    delimiter_text = _text(extra.get("delimiter"), "delimiter") or "auto"
    if delimiter_text not in _DELIMITERS:
        if len(delimiter_text) != 1 or delimiter_text in '"\r\n':
            raise ConversionError(
                f"parameter delimiter: {delimiter_text!r} is not a column separator "
                "(auto, ',', ';', tab, '|' or another single character)"
            )
        delimiter: str | None = delimiter_text
    else:
        delimiter = _DELIMITERS[delimiter_text]
    decimal = (_text(extra.get("decimal"), "decimal") or "auto").lower()
    if decimal not in ("auto", "point", "comma", ".", ","):
        raise ConversionError("parameter decimal: must be auto, point or comma")
    split = (_text(extra.get("split"), "split") or "sn").lower()
    if split not in ("sn", "file"):
        raise ConversionError("parameter split: must be 'sn' or 'file'")
    date_format = _text(extra.get("date_format"), "date_format")
    return TableMapping(
        delimiter=delimiter,
        header_row=_header_row(extra.get("header_row")),
        decimal_comma=None if decimal == "auto" else decimal in ("comma", ","),
        split="sn" if split == "sn" else "file",
        fields=_sources(extra.get("header_fields"), "header_fields", HEADER_ALIASES, True),
        columns=_sources(extra.get("columns"), "columns", COLUMN_ALIASES, False),
        date_format=date_format,
        sequence_name=_text(extra.get("sequence_name"), "sequence_name") or DEFAULT_SEQUENCE_NAME,
    )


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConversionError(f"parameter {what}: {value!r} is not text")
    text = str(value)
    return text if text.strip() or text == "\t" else None


def _header_row(value: Any) -> int:
    if value is None or value == "" or (isinstance(value, str) and value.lower() == "auto"):
        return 0
    if isinstance(value, str) and value.lower() == "none":
        return -1
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        row = int(value)
    except (TypeError, ValueError):
        raise ConversionError(
            f"parameter header_row: {value!r} is not a line number (0 = find it, -1 = none)"
        ) from None
    if row < -1:
        raise ConversionError("parameter header_row: must be a line number, 0 or -1")
    return row


def _sources(
    value: Any, parameter: str, known: Mapping[str, tuple[str, ...]], header: bool
) -> dict[str, Source | None]:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ConversionError(f"parameter {parameter}: not valid JSON ({exc})") from None
    if not isinstance(value, Mapping):
        raise ConversionError(f"parameter {parameter}: must be a mapping of name to source")
    sources: dict[str, Source | None] = {}
    for raw_name, spec in value.items():
        name = str(raw_name).strip().lower()
        if name not in known:
            raise ConversionError(
                f"parameter {parameter}: unknown {'field' if header else 'column'} "
                f"{raw_name!r}; known: {', '.join(known)}"
            )
        sources[name] = parse_source(spec, f"{parameter}.{name}", header=header)
    return sources


def parse_source(spec: Any, where: str, *, header: bool) -> Source | None:
    """One source from its JSON form (see the module doc); None when switched off."""
    if spec is None or spec == "":
        return None
    if isinstance(spec, bool):
        raise ConversionError(f"parameter {where}: {spec!r} is not a column or source")
    if isinstance(spec, int):
        return Source("column", column=_column_number(spec, where))
    if isinstance(spec, str):
        return Source("column", column=spec.strip())
    if not isinstance(spec, Mapping):
        raise ConversionError(f"parameter {where}: {spec!r} is not a column or source")
    allowed = _HEADER_KINDS if header else _ROW_KINDS
    kinds = [kind for kind in ("column", "value", "filename", "key") if kind in spec]
    if len(kinds) != 1:
        raise ConversionError(
            f"parameter {where}: give exactly one of {', '.join(sorted(allowed))}"
        )
    kind = kinds[0]
    if kind not in allowed:
        raise ConversionError(
            f"parameter {where}: a step column cannot come from {kind!r} "
            f"(use {' or '.join(sorted(allowed))})"
        )
    unknown = set(spec) - {kind, "group", "format"}
    if unknown:
        raise ConversionError(
            f"parameter {where}: unknown setting {', '.join(sorted(map(str, unknown)))}"
        )
    date_format = spec.get("format")
    if date_format is not None and not isinstance(date_format, str):
        raise ConversionError(f"parameter {where}.format: must be text such as %d.%m.%Y")
    raw = spec[kind]
    if kind == "column":
        if isinstance(raw, bool) or not isinstance(raw, str | int) or raw == "":
            raise ConversionError(f"parameter {where}: column must be a name or a number")
        column = _column_number(raw, where) if isinstance(raw, int) else raw.strip()
        return Source("column", column=column, format=date_format or None)
    if kind == "value":
        if raw is not None and not isinstance(raw, str | int | float):
            raise ConversionError(f"parameter {where}: value must be text or a number")
        return Source("value", value=None if raw is None else str(raw), format=date_format)
    if kind == "key":
        if not isinstance(raw, str) or not raw.strip():
            raise ConversionError(f"parameter {where}: key must be the text before the value")
        return Source("key", key=raw.strip(), format=date_format or None)
    if not isinstance(raw, str) or not raw:
        raise ConversionError(f"parameter {where}: filename must be a regular expression")
    try:
        pattern = re.compile(raw)
    except re.error as exc:
        raise ConversionError(
            f"parameter {where}: {raw!r} is not a valid regular expression ({exc})"
        ) from None
    group = spec.get("group")
    if group is not None and (isinstance(group, bool) or not isinstance(group, str | int)):
        raise ConversionError(f"parameter {where}.group: must be a group name or number")
    return Source("filename", pattern=pattern, group=group, format=date_format or None)


def _column_number(number: int, where: str) -> int:
    if number < 1:
        raise ConversionError(f"parameter {where}: column numbers start at 1, not {number}")
    return number


def from_file_name(source: Source, file_name: str, field_name: str) -> str:
    """The value a `filename` source finds in `file_name`; ConversionError if it does not match."""
    assert source.pattern is not None
    match = source.pattern.search(file_name)
    if match is None:
        raise ConversionError(
            f"the file name {file_name!r} does not match the {field_name} pattern "
            f"{source.pattern.pattern!r}"
        )
    group: str | int
    if source.group is not None:
        group = source.group
    elif field_name in source.pattern.groupindex:
        group = field_name
    else:
        group = 1 if source.pattern.groups else 0
    try:
        found = match.group(group)
    except IndexError as exc:
        raise ConversionError(
            f"the {field_name} pattern {source.pattern.pattern!r} has no group {group!r}"
        ) from exc
    return (found or "").strip()
