"""The table converter: default columns, mappings, numbers, encodings, splits, statuses, errors."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.converters.base import ConversionError
from app.converters.table import TableConverter, detect_delimiter
from app.core.report import UUTReport
from tests.unit.converters._support import all_steps, only_uut, run, step

TABLE = TableConverter()

BASIC = (
    "Step,Value,Unit,Low,High\n"
    "Supply 5V,5.02,V,4.9,5.1\n"
    "Idle current,0.412,A,,0.35\n"
    "Temperature,41.5,degC,20,\n"
    "FW version,3.4.1,,3.4.1,\n"
    "LED,PASS,,,\n"
    "Note,hello,,,\n"
)


def convert(text: str | bytes, name: str = "SN-0042.csv", **params: object) -> list[UUTReport]:
    data = text.encode() if isinstance(text, str) else text
    reports = run(TABLE, data, path=Path(name), **params)
    assert all(isinstance(report, UUTReport) for report in reports)
    return reports  # type: ignore[return-value]


def error(text: str | bytes, name: str = "SN-0042.csv", **params: object) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert(text, name, **params)
    return caught.value


# ---------------------------------------------------------------- defaults


def test_a_plain_table_converts_without_any_mapping() -> None:
    report = only_uut(convert(BASIC))
    assert report.sn == "SN-0042"  # the file name without its extension
    assert report.process_code == 10
    assert report.root.name == "MainSequence Callback"
    assert [s.name for s in all_steps(report)[1:]] == [
        "Supply 5V", "Idle current", "Temperature", "FW version", "LED", "Note",
    ]  # fmt: skip
    supply = step(report, "Supply 5V")
    assert supply.step_type == "ET_NLT"
    meas = supply.numeric_meas[0]  # type: ignore[index]
    assert (meas.name, meas.value, meas.unit, meas.comp_op.value) == (None, 5.02, "V", "GELE")
    assert (meas.low_limit, meas.high_limit, meas.status) == (4.9, 5.1, "P")
    # A high limit alone is LE, kept in lowLimit as the server wants (wats-api.md §3.5).
    idle = step(report, "Idle current").numeric_meas[0]  # type: ignore[index]
    assert (idle.comp_op.value, idle.low_limit, idle.high_limit, idle.status) == (
        "LE", 0.35, None, "F",
    )  # fmt: skip
    temperature = step(report, "Temperature").numeric_meas[0]  # type: ignore[index]
    assert (temperature.comp_op.value, temperature.low_limit) == ("GE", 20.0)
    firmware = step(report, "FW version")
    assert firmware.step_type == "ET_SVT"
    assert firmware.string_meas[0].comp_op.value == "CASESENSIT"  # type: ignore[index]
    assert firmware.string_meas[0].limit == "3.4.1"  # type: ignore[index]
    assert step(report, "LED").boolean_meas[0].status == "P"  # type: ignore[index]
    note = step(report, "Note").string_meas[0]  # type: ignore[index]
    assert (note.value, note.comp_op.value, note.status) == ("hello", "LOG", "P")
    assert report.result == "F"
    assert step(report, "Idle current").caused_uut_failure is True
    assert report.uut.step_id_caused_uut_failure == step(report, "Idle current").id


def test_steps_are_numbered_in_tree_order() -> None:
    report = only_uut(convert(BASIC))
    assert [s.id for s in all_steps(report)] == list(range(7))


def test_usual_header_fields_are_read_from_their_columns() -> None:
    text = (
        "Serial Number;Part Number;Revision;Operator;Station;Date;Time;Test;Value\n"
        "A1;PCB-100;B;kari;EOL-3;2025-03-01;14:02:11;R1;1,5\n"
    )
    report = only_uut(convert(text))
    assert (report.sn, report.pn, report.rev) == ("A1", "PCB-100", "B")
    assert (report.uut.user, report.machine_name) == ("kari", "EOL-3")
    assert report.start is not None
    assert report.start.replace(tzinfo=None) == datetime(2025, 3, 1, 14, 2, 11)
    assert step(report, "R1").numeric_meas[0].value == 1.5  # type: ignore[index]


def test_lines_above_the_header_are_header_fields_or_misc_infos() -> None:
    text = "Serial: X-77\nPN;PCB-9\nFirmware = 2.1\n\nStep\tValue\nGain\t3\n"
    report = only_uut(convert(text.replace("\t", ";")))
    assert (report.sn, report.pn) == ("X-77", "PCB-9")
    assert [(m.description, m.text) for m in report.misc_infos] == [("Firmware", "2.1")]


# ---------------------------------------------------------------- mapping


def test_columns_by_name_number_and_fixed_value() -> None:
    text = "Messpunkt,Messwert,Grenze unten,Grenze oben\nU1,5.0,4,6\nU2,7.5,4,6\n"
    columns = {
        "name": "messpunkt",  # case does not matter
        "value": 2,
        "low": {"column": "Grenze unten"},
        "high": "Grenze_oben",  # nor do spaces and punctuation
        "unit": {"value": "V"},
    }
    report = only_uut(convert(text, columns=columns))
    first = step(report, "U1").numeric_meas[0]  # type: ignore[index]
    assert (first.value, first.unit, first.low_limit, first.high_limit) == (5.0, "V", 4, 6)
    assert step(report, "U2").status == "F"


def test_mapping_given_as_json_text_like_the_command_line_gives_it() -> None:
    text = "Name,Reading\nR1,2\n"
    report = only_uut(convert(text, columns=json.dumps({"value": "Reading"})))
    assert step(report, "R1").numeric_meas[0].value == 2  # type: ignore[index]


def test_header_fields_from_fixed_values_file_name_and_key_lines() -> None:
    text = "Tester: T-9\nBoard;77\nStep,Value\nR1,1\n"
    fields = {
        "pn": {"value": "PCB-100"},
        "sn": {"filename": r"^(?P<sn>[A-Z]+\d+)_(?P<rev>\w)"},
        "rev": {"filename": r"^[A-Z]+\d+_(?P<rev>\w)"},
        "process_code": {"key": "Board"},
        "station": {"key": "tester"},
    }
    report = only_uut(convert(text, "UNIT12_C_2025.csv", header_fields=fields, delimiter=","))
    assert (report.sn, report.rev, report.pn) == ("UNIT12", "C", "PCB-100")
    assert report.process_code == 77
    assert report.machine_name == "T-9"


def test_a_file_name_pattern_without_named_groups_uses_its_first_group() -> None:
    fields = {"sn": {"filename": r"_(\d+)\.csv$"}}
    report = only_uut(convert("Step,Value\nR,1\n", "log_998.csv", header_fields=fields))
    assert report.sn == "998"


def test_a_process_that_is_not_a_number_is_a_process_name() -> None:
    report = only_uut(convert("Operation,Step,Value\nFinal Function,R,1\n"))
    assert (report.process_code, report.process_name) == (None, "Final Function")


def test_start_with_a_date_format_and_a_separate_time_column() -> None:
    text = "Datum;Uhrzeit;Step;Value\n01.03.2025;07:05;R;1\n"
    fields = {
        "start": {"column": "Datum", "format": "%d.%m.%Y"},
        "start_time": {"column": "Uhrzeit", "format": "%H:%M"},
    }
    report = only_uut(convert(text, header_fields=fields))
    assert report.start is not None
    assert report.start.replace(tzinfo=None) == datetime(2025, 3, 1, 7, 5)


def test_without_a_start_the_file_time_is_used(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("Step,Value\nR,1\n")
    report = only_uut(run(TABLE, path))
    assert isinstance(report, UUTReport)
    assert report.start is not None
    written = datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    assert abs(report.start - written) < timedelta(seconds=1)


def test_a_null_source_switches_off_a_column_found_by_name() -> None:
    text = "Step,Value,Status\nR,5,FAIL\n"
    report = only_uut(convert(text, mode="import", columns={"status": None}))
    assert step(report, "R").status == "P"  # the status column is not read


def test_multi_measurement_steps_from_a_measurement_column() -> None:
    text = (
        "Step,Measure Name,Value,Low,High\n"
        "Rails,3V3,3.31,3.2,3.4\n"
        "Rails,1V8,1.95,1.7,1.9\n"
        "Single,,1,0,2\n"
    )
    report = only_uut(convert(text))
    rails = step(report, "Rails")
    assert rails.step_type == "ET_MNLT"
    assert [(m.name, m.status) for m in rails.numeric_meas or ()] == [("3V3", "P"), ("1V8", "F")]
    assert rails.status == "F"
    assert step(report, "Single").step_type == "ET_NLT"


def test_a_sequence_column_nests_steps_and_slashes_nest_deeper() -> None:
    text = (
        "Sequence,Step,Value,Low,High\n"
        "Power,V1,5,4,6\n"
        "Power/Idle,I1,0.1,0,0.2\n"
        "Power/Idle,I2,0.5,0,0.2\n"
        ",Alone,1,,\n"
        "Power,V2,5,4,6\n"
    )
    report = only_uut(convert(text))
    names = [(s.name, s.step_type) for s in report.root.steps or ()]
    assert names == [("Power", "SequenceCall"), ("Alone", "ET_NLT"), ("Power", "SequenceCall")]
    idle = step(report, "Power", "Idle")
    assert [s.name for s in idle.steps or ()] == ["I1", "I2"]
    assert idle.status == "F"
    assert report.root.status == "F"
    assert step(report, "Power", "Idle", "I2").caused_uut_failure is True


def test_operators_from_a_column_as_names_symbols_and_codes() -> None:
    text = (
        "Step,Value,Low,High,CompOp\n"
        "A,5,5,,==\n"
        "B,5,1,9,GTLT\n"
        "C,5,6,,<\n"
        "D,5,,,14\n"
        "E,abc,ABC,,IGNORECASE\n"
    )
    report = only_uut(convert(text))
    ops = {
        s.name: (s.numeric_meas or s.string_meas)[0].comp_op.value  # type: ignore[index]
        for s in report.root.steps or ()
    }
    assert ops == {"A": "EQ", "B": "GTLT", "C": "LT", "D": "LOG", "E": "IGNORECASE"}
    assert all(s.status == "P" for s in report.root.steps or ())


# ---------------------------------------------------------------- numbers and text


def test_semicolon_files_read_decimal_commas_by_default() -> None:
    text = "Step;Value;Low;High\nR1;1,5;1,0;2,0\nR2;2.5;1;3\n"
    report = only_uut(convert(text))
    assert step(report, "R1").numeric_meas[0].value == 1.5  # type: ignore[index]
    assert step(report, "R1").numeric_meas[0].low_limit == 1.0  # type: ignore[index]
    assert step(report, "R2").numeric_meas[0].value == 2.5  # type: ignore[index]


def test_the_culture_or_the_decimal_parameter_chooses_the_decimal_comma() -> None:
    quoted = 'Step,Value\nR1,"1,5"\n'
    assert step(only_uut(convert(quoted, culture="de-DE")), "R1").numeric_meas[0].value == 1.5  # type: ignore[index]
    assert step(only_uut(convert(quoted, decimal="comma")), "R1").numeric_meas[0].value == 1.5  # type: ignore[index]
    # Told "point", a semicolon file reads 1,500 as digit grouping.
    grouped = "Step;Value\nR1;1,500\n"
    assert step(only_uut(convert(grouped, decimal="point")), "R1").numeric_meas[0].value == 1500  # type: ignore[index]


def test_a_decimal_comma_without_the_setting_is_an_error_with_a_hint() -> None:
    problem = error('Step,Value,Low\nR1,"1,5",1\n')
    assert problem.line == 2
    assert "column 2 (Value)" in str(problem)
    assert "decimal parameter" in str(problem)


def test_tab_separated_utf16_with_byte_order_mark() -> None:
    text = "Step\tValue\tUnit\nTemp\t21,5\t°C\n"
    report = only_uut(convert(text.encode("utf-16"), decimal="comma"))
    meas = step(report, "Temp").numeric_meas[0]  # type: ignore[index]
    assert (meas.value, meas.unit) == (21.5, "°C")


def test_utf8_byte_order_mark_and_a_configured_ansi_encoding() -> None:
    bom = "\ufeffStep,Value,Unit\nI,3,µA\n".encode()
    assert step(only_uut(convert(bom)), "I").numeric_meas[0].unit == "µA"  # type: ignore[index]
    ansi = "Step,Value,Unit\nI,3,µA\n".encode("cp1252")
    report = only_uut(convert(ansi, encoding="cp1252"))
    assert step(report, "I").numeric_meas[0].unit == "µA"  # type: ignore[index]


def test_wrong_encoding_names_line_and_column() -> None:
    ansi = "Step,Value,Unit\nI,3,µA\n".encode("cp1252")
    problem = error(ansi)
    assert problem.line == 2
    assert str(problem).startswith("line 2: character 5: ")
    assert "encoding" in str(problem)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2,5;3\n", ";"),
        ("a\tb\n1,5\t2\n", "\t"),
        ("a|b|c\n1|2|3\n", "|"),
        ("single\n1\n", ","),
    ],
)
def test_delimiter_detection(text: str, expected: str) -> None:
    assert detect_delimiter(text) == expected


def test_an_explicit_delimiter_and_header_row() -> None:
    text = "Report 7|x\nStep|Value\nR|3\n"
    report = only_uut(convert(text, delimiter="|", header_row=2))
    assert step(report, "R").numeric_meas[0].value == 3  # type: ignore[index]


def test_a_file_without_header_row_uses_the_usual_column_order() -> None:
    text = "R1,5.0,V,4,6\nR2,9,V,4,6\n"
    report = only_uut(convert(text))
    assert step(report, "R1").numeric_meas[0].unit == "V"  # type: ignore[index]
    assert step(report, "R2").status == "F"
    forced = only_uut(convert("R1;5\n", header_row=-1, columns={"value": "2"}))
    assert step(forced, "R1").numeric_meas[0].value == 5  # type: ignore[index]


# ---------------------------------------------------------------- several UUTs


def test_one_report_per_serial_number_run() -> None:
    text = (
        "SN,Step,Value,Low,High\n"
        "U1,R,5,4,6\n"
        ",C,1,0,2\n"  # no SN: still the report above
        "U2,R,7,4,6\n"
        "U2,C,1,0,2\n"
        "U1,R,5,4,6\n"  # a retest later in the log is a report of its own
    )
    reports = convert(text)
    assert [(r.sn, r.result, len(r.root.steps or ())) for r in reports] == [
        ("U1", "P", 2), ("U2", "F", 2), ("U1", "P", 1),
    ]  # fmt: skip


def test_split_by_file_makes_one_report() -> None:
    text = "SN,Step,Value\nU1,R,5\nU2,R,7\n"
    report = only_uut(convert(text, split="file"))
    assert report.sn == "U1"
    assert len(report.root.steps or ()) == 2


def test_repeated_header_rows_of_an_appended_log_are_skipped() -> None:
    text = "SN,Step,Value\nU1,R,5\nSN,Step,Value\nU2,R,6\n"
    assert [r.sn for r in convert(text)] == ["U1", "U2"]


# ---------------------------------------------------------------- statuses


def test_active_mode_decides_from_limits_not_from_the_status_column() -> None:
    text = "Step,Value,Low,High,Status\nR,5,4,6,Failed\nS,9,4,6,Passed\nV,,,,Failed\n"
    report = only_uut(convert(text))
    assert [s.status for s in report.root.steps or ()] == ["P", "F", "F"]
    assert step(report, "S").caused_uut_failure is True


def test_import_mode_keeps_the_status_column_and_computes_the_rest() -> None:
    text = "Step,Value,Low,High,Status\nR,5,4,6,Failed\nS,9,4,6,\nT,5,4,6,OK\n"
    report = only_uut(convert(text, mode="import"))
    assert [s.status for s in report.root.steps or ()] == ["F", "F", "P"]
    assert report.result == "F"
    assert step(report, "R").caused_uut_failure is True
    assert report.uut.step_id_caused_uut_failure == step(report, "R").id


def test_import_mode_takes_the_result_field_when_there_is_one() -> None:
    text = "Step,Value,Low,High,UUT Status\nR,5,4,6,Failed\n"
    assert only_uut(convert(text, mode="import")).result == "F"
    assert only_uut(convert(text, mode="active")).result == "P"


def test_skipped_rows_and_status_only_rows() -> None:
    text = "Step,Value,Status\nVisual,,NOK\nOptional,,Skipped\nInfo,,\n"
    report = only_uut(convert(text))
    assert [(s.status, s.step_type) for s in report.root.steps or ()] == [
        ("F", "Action"), ("S", "Action"), ("D", "Action"),
    ]  # fmt: skip
    assert report.result == "F"


# ---------------------------------------------------------------- errors name line and column


@pytest.mark.parametrize(
    ("text", "params", "line", "words"),
    [
        ("Step,Value,Low\nR,5,1\nQ,abc,1\n", {}, 3, "column 2 (Value)"),
        ("Step,Value,Low\nR,5,x1\n", {}, 2, "column 3 (Low)"),
        ("Step,Value,Status\nR,5,maybe\n", {}, 2, "column 3 (Status)"),
        ("Step,Value,Low,Comp\nR,5,1,ABOUT\n", {}, 2, "column 4 (Comp)"),
        ("Step,Value\n,5\n", {}, 2, "column 1 (Step)"),
        ("SN,Socket,Step,Value\nU,left,R,1\n", {}, 2, "column 2 (Socket)"),
        ("Start,Step,Value\nyesterday,R,1\n", {}, 2, "column 1 (Start)"),
        ("Step,Value\nR,1\n", {"columns": {"value": "Reading"}}, None, "'Reading'"),
        ("Step,Value\nR,1\n", {"columns": {"unit": 9}}, 1, "only 2 columns"),
        ("Step,Value\nR,1\n", {"header_row": 7}, None, "line 7"),
    ],
)
def test_bad_input_names_its_line_and_column(
    text: str, params: dict[str, object], line: int | None, words: str
) -> None:
    problem = error(text, **params)
    assert problem.line == line
    assert words in str(problem)


def test_a_mapped_column_missing_from_the_header_lists_the_columns() -> None:
    problem = error("Step,Value\nR,1\n", header_row=1, columns={"value": "Reading"})
    assert problem.line == 1
    assert "'Step', 'Value'" in str(problem)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"columns": {"valeu": "x"}}, "unknown column 'valeu'"),
        ({"header_fields": {"serial": "x"}}, "unknown field 'serial'"),
        ({"header_fields": {"sn": {"filename": "(unclosed"}}}, "not a valid regular expression"),
        ({"header_fields": {"sn": {"value": "a", "column": "b"}}}, "exactly one of"),
        ({"columns": {"unit": {"filename": "x"}}}, "cannot come from 'filename'"),
        ({"columns": "{not json"}, "not valid JSON"),
        ({"header_row": "two"}, "header_row"),
        ({"delimiter": "::"}, "delimiter"),
        ({"split": "row"}, "split"),
    ],
)
def test_bad_mappings_name_the_parameter(params: dict[str, object], words: str) -> None:
    assert words in str(error("Step,Value\nR,1\n", **params))


def test_file_name_pattern_that_does_not_match() -> None:
    problem = error("Step,Value\nR,1\n", "x.csv", header_fields={"sn": {"filename": r"^\d+"}})
    assert "file name 'x.csv' does not match the sn pattern" in str(problem)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("  \n\n", "empty"),
        ("Step,Value\n", "no data rows below the header row on line 1"),
        ("hello world\nthis is prose\n", "cannot find the column header row"),
        ("Name,Value\n", "no data rows"),
    ],
)
def test_files_without_a_table(text: str, words: str) -> None:
    assert words in str(error(text))


def test_the_sniff_recognises_tables_but_not_other_formats() -> None:
    assert TABLE.sniff(BASIC.encode()) == 0.6
    assert TABLE.sniff(b"a;b;c\n1;2;3\n4;5;6\n") == 0.1
    assert TABLE.sniff(b'{"type": "T", "pn": "x"}') == 0.0
    assert TABLE.sniff(b"<Reports><Report/></Reports>") == 0.0


# ---------------------------------------------------------------- fuzz

FUZZ = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_N", "150")),
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PIECES = [
    ",", ";", "\t", "|", '"', "\n", "\r\n", "Step", "Value", "Unit", "Low", "High", "Status",
    "SN", "Sequence", "Measure Name", "CompOp", "Start", "Socket", "Operation", "/", "=", ":",
    "1,5", "2.5", "-3E+2", "NaN", "1e999", "PASS", "Failed", "GELE", "<=", "16", "abc", "",
    "2025-03-01", "14:02", "\x00", "\ufeff", "µ",
]  # fmt: skip
PARAMS = st.sampled_from(
    [
        {},
        {"mode": "import"},
        {"culture": "de-DE"},
        {"split": "file", "decimal": "comma"},
        {"header_row": 2, "delimiter": ";"},
        {"header_row": -1},
        {"columns": {"measurement": 2, "sequence": 3}},
        {"header_fields": {"sn": {"filename": "(?P<sn>.)"}, "start": {"column": 1}}},
    ]
)


def check(data: bytes, params: dict[str, object]) -> None:
    try:
        reports = run(TABLE, data, path=Path("fuzz.csv"), **params)
    except ConversionError as exc:
        reason = str(exc)
        reports = []
    else:
        reason = "converted"
    assert reason  # a reason the operator can read
    assert reports or reason != "converted"
    for report in reports:
        report.to_json()


@FUZZ
@given(data=st.binary(max_size=600), params=PARAMS)
def test_fuzz_random_bytes(data: bytes, params: dict[str, object]) -> None:
    check(data, params)


@FUZZ
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=120), params=PARAMS)
def test_fuzz_token_soup(pieces: list[str], params: dict[str, object]) -> None:
    check("".join(pieces).encode(), params)


@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=len(BASIC)),
    flips=st.lists(st.tuples(st.integers(0, len(BASIC) - 1), st.integers(0, 255)), max_size=8),
    params=PARAMS,
)
def test_fuzz_truncated_and_mutated(
    cut: int, flips: list[tuple[int, int]], params: dict[str, object]
) -> None:
    data = bytearray(("SN,Sequence,Start," + BASIC.replace("\n", "\nU1,S/T,2025-01-01,")).encode())
    for position, value in flips:
        data[position % len(data)] = value
    check(bytes(data[:cut]), params)


# ---------------------------------------------------------------- docs/converters/table.md

GERMAN = """Prüfplatz: EOL-3
Auftrag;PCB-100
Seriennr;Datum;Uhrzeit;Messpunkt;Messwert;Einheit;Min;Max;Ergebnis
A1001;01.03.2025;07:05:11;U 5V;5,02;V;4,9;5,1;OK
;;;I Ruhe;0,412;A;;0,35;NOK
A1002;01.03.2025;07:06:40;U 5V;4,98;V;4,9;5,1;OK
;;;I Ruhe;0,300;A;;0,35;OK
"""
GERMAN_MAPPING = {
    "fallback_rev": "A",
    "header_fields": {
        "sn": "Seriennr",
        "pn": {"key": "Auftrag"},
        "station": {"key": "Prüfplatz"},
        "start": {"column": "Datum", "format": "%d.%m.%Y"},
        "start_time": {"column": "Uhrzeit", "format": "%H:%M:%S"},
    },
    "columns": {"name": "Messpunkt", "value": "Messwert", "unit": "Einheit", "status": "Ergebnis"},
}


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_the_documented_german_example(encoding: str) -> None:
    reports = convert(GERMAN.encode(encoding), encoding=encoding, **GERMAN_MAPPING)
    assert [(r.sn, r.pn, r.rev, r.machine_name, r.result) for r in reports] == [
        ("A1001", "PCB-100", "A", "EOL-3", "F"),
        ("A1002", "PCB-100", "A", "EOL-3", "P"),
    ]
    first = reports[0]
    assert first.start is not None
    assert first.start.replace(tzinfo=None) == datetime(2025, 3, 1, 7, 5, 11)
    idle = step(first, "I Ruhe")
    assert idle.numeric_meas[0].low_limit == 0.35  # type: ignore[index]
    assert idle.caused_uut_failure is True


def test_the_documented_file_name_example() -> None:
    fields = {
        "sn": {"filename": "^(?P<sn>[^_]+)_(?P<rev>[^_]+)_"},
        "rev": {"filename": "^[^_]+_(?P<rev>[^_]+)_"},
    }
    report = only_uut(convert(BASIC, "UNIT12_C_2025-03-01.csv", header_fields=fields))
    assert (report.sn, report.rev) == ("UNIT12", "C")
