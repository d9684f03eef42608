"""WSTF converter: Virinco's sample, every row kind, modes, cultures, several reports, errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.converters.base import ConversionError
from app.converters.wstf import WstfConverter
from app.core.report import UUTReport
from app.samples import sample_path
from tests.unit.converters._support import DATA, all_steps, only_uut, run, step

WSTF = WstfConverter()
COLUMNS = (
    "StepType\tStepName\tMeasureName\tValue\tLowLimit\tHighLimit\tCompOperator\tUnit\t"
    "StepStatus\tStepExecutionTime\tStepReportText\tStepErrorCode\tStepErrorMessage\t"
    "CausedSequenceFailure"
)


def wstf(*rows: str, header: tuple[str, ...] = (), footer: tuple[str, ...] = ()) -> bytes:
    """A one-report WSTF file with the given step rows (tab-separated strings)."""
    lines = [
        "--Header-Start--",
        "SerialNumber\tSN-1",
        "PartNumber\tPN-1",
        "Revision\tA",
        "StartDateTime\t2024-01-02T03:04:05",
        *header,
        "--Step-Data-Start--",
        COLUMNS,
        *rows,
        "--Step-Data-End--",
        *footer,
        "--UUT-End--",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture(scope="module")
def sample() -> UUTReport:
    return only_uut(run(WSTF, sample_path("wstf-example.txt")))


def test_sample_header(sample: UUTReport) -> None:
    assert (sample.pn, sample.sn, sample.rev) == ("100200", "423664753", "A")
    assert (sample.process_code, sample.process_name) == (None, "SW Debug")
    assert sample.result == "F"
    assert sample.machine_name == "VIC-WS-ML"
    assert sample.start_utc == datetime(2014, 7, 4, 12, 9, 4, tzinfo=UTC)
    assert sample.uut.user == "Martin Lentz"
    assert (sample.uut.exec_time, sample.uut.batch_sn, sample.uut.fixture_id) == (
        10,
        "B888",
        "543A",
    )
    assert sample.uut.error_code == 0
    assert sample.uut.error_message is None
    assert sample.uut.comment is not None
    assert sample.uut.comment.startswith("This is a comment to this UUT.")
    assert [(m.description, m.text) for m in sample.misc_infos] == [("uCSwVer", "1.0")]
    assert [(u.part_type, u.pn, u.sn, u.rev) for u in sample.sub_units] == [
        ("Main board", "Partno 1", "SN 6654433", "Rev 1"),
        ("Controller Card", "Partno 2", "SN 5555", "Rev B"),
    ]
    assert sample.root.seq_call is not None
    assert (sample.root.seq_call.name, sample.root.seq_call.version) == ("c:\\test.seq", "1.0.0.0")


def test_sample_steps_and_nesting(sample: UUTReport) -> None:
    assert len(all_steps(sample)) == 13
    assert [s.name for s in sample.root.steps or []] == [
        "SubSeq1",
        "SubSeq2",
        "Test3",
        "test4",
        "test5",
        "Test6",
        "Action",
        "SubSeq3",
    ]
    sub1 = step(sample, "SubSeq1")
    assert (sub1.step_type, sub1.tot_time, sub1.report_text) == (
        "SequenceCall",
        10,
        "This is a seq call report text",
    )
    assert [s.name for s in sub1.steps or []] == ["test1.1", "test1.2"]
    numeric = step(sample, "SubSeq1", "test1.1")
    assert numeric.step_type == "ET_NLT"
    assert numeric.numeric_meas is not None
    meas = numeric.numeric_meas[0]
    assert (meas.name, meas.value, meas.low_limit, meas.high_limit) == (None, 7, 7, 10)
    assert (meas.comp_op, meas.unit, meas.status) == ("GELE", "Volt", "P")


def test_sample_multi_measurement_rule(sample: UUTReport) -> None:
    same_name = step(sample, "SubSeq2", "test2.2")
    assert same_name.step_type == "ET_MNLT"
    assert [(m.name, m.value) for m in same_name.numeric_meas or []] == [
        ("meas1", 9),
        ("meas2", 10),
    ]
    empty_name = step(sample, "Test3")
    assert [(m.name, m.status) for m in empty_name.numeric_meas or []] == [
        ("meas1", "F"),
        ("meas2", "F"),
        ("meas3", "P"),
    ]
    assert empty_name.caused_seq_failure is True
    booleans = step(sample, "test5")
    assert booleans.step_type == "ET_MPFT"
    assert [(m.name, m.status) for m in booleans.boolean_meas or []] == [
        ("meas1", "F"),
        ("meas2", "P"),
        ("meas3", "P"),
        ("meas4", "F"),
    ]
    assert len(step(sample, "SubSeq3", "SameStepName").numeric_meas or []) == 2


def test_sample_active_mode_marks_the_failing_step(sample: UUTReport) -> None:
    test3 = step(sample, "Test3")
    assert test3.status == "F"
    assert test3.caused_uut_failure is True
    assert sample.uut.step_id_caused_uut_failure == test3.id
    text = step(sample, "Test6")
    assert text.string_meas is not None
    assert (text.string_meas[0].comp_op, text.status) == ("CASESENSIT", "F")
    assert step(sample, "Action").status == "D"


def test_sample_import_mode_keeps_the_given_statuses() -> None:
    report = only_uut(run(WSTF, sample_path("wstf-example.txt"), mode="import"))
    assert report.result == "F"
    assert report.uut.step_id_caused_uut_failure is None
    assert step(report, "Test3").status == "F"
    assert step(report, "Test3").caused_uut_failure is False


def test_every_row_kind() -> None:
    first, second = run(WSTF, DATA / "wstf-all-rows.txt", culture="de-DE")
    assert isinstance(first, UUTReport)
    assert isinstance(second, UUTReport)
    assert (first.sn, first.process_code, first.machine_name) == ("SN-1001", 20, "EOL-7")
    assert first.start == datetime(2024, 5, 6, 7, 8, 9).astimezone()
    assert (first.uut.test_socket_index, first.uut.user) == (1, "kari")
    # Footer values win over the header's.
    assert (first.uut.exec_time, first.uut.error_code, first.uut.error_message) == (
        13.25,
        3,
        "footer wins",
    )
    power = step(first, "Power")
    # EndSequenceCall's time and text override the sequence's own; its status is computed.
    assert (power.tot_time, power.report_text, power.status) == (2.5, "closed", "F")
    inner = step(first, "Power", "Inner")
    assert (inner.status, inner.tot_time, inner.report_text) == ("P", 0.3, "inner done")
    assert step(first, "Power", "Inner", "Relay on").step_type == "Action"
    idle = step(first, "Power", "Idle current")
    assert idle.numeric_meas is not None
    assert (idle.numeric_meas[0].comp_op, idle.numeric_meas[0].low_limit) == ("LE", 0.35)
    assert idle.status == "F"
    assert idle.caused_uut_failure is True
    assert first.result == "F"
    rail = step(first, "Power", "3V3")
    assert rail.numeric_meas is not None
    assert (rail.numeric_meas[0].value, rail.tot_time) == (3.31, 0.2)
    assert [m.status for m in step(first, "LED").boolean_meas or []] == ["P"]
    buttons = step(first, "Buttons")
    assert [(m.name, m.status) for m in buttons.boolean_meas or []] == [
        ("left", "P"),
        ("right", "F"),
    ]
    assert step(first, "FW").status == "P"
    board = step(first, "Board name")
    assert board.string_meas is not None
    assert (board.string_meas[0].comp_op, board.status) == ("CASESENSIT", "F")
    ids = step(first, "IDs")
    assert ids.step_type == "ET_MSVT"
    assert [(m.name, m.comp_op) for m in ids.string_meas or []] == [
        ("vendor", "IGNORECASE"),
        ("model", "LOG"),
    ]
    assert step(first, "Rails").step_type == "ET_MNLT"
    ramp = step(first, "Ramp")
    assert ramp.step_type == "WATS_XYGMNLT"
    assert ramp.chart is not None
    assert (ramp.chart.chart_type, ramp.chart.label, ramp.chart.y_unit, ramp.chart.x_label) == (
        "LineLogY",
        "Ramp up",
        "V",
        "Time",
    )
    # Chart data always uses "." as the decimal point, whatever the file's culture.
    assert [(s.name, s.ydata, s.xdata) for s in ramp.chart.series] == [
        ("U(t)", "0;2.5;9.5", "0;1;2"),
        ("Limit", "10;10", "0;2"),
    ]
    spectrum = step(first, "Spectrum")
    assert spectrum.chart is not None
    assert spectrum.chart.series[0].ydata == "-80;-82.5"
    cleanup = step(first, "Cleanup")
    assert (cleanup.error_code, cleanup.error_message, cleanup.caused_seq_failure) == (
        7,
        "warn: slow",
        False,
    )
    assert [(u.part_type, u.sn) for u in first.sub_units] == [("PCBA", "MB-SN-1")]
    assert [(m.description, m.text) for m in first.misc_infos] == [("Firmware", "4.2.0")]


def test_converter_mode_in_the_file_overrides_the_configured_mode() -> None:
    _first, second = run(WSTF, DATA / "wstf-all-rows.txt", culture="de-DE", mode="active")
    assert isinstance(second, UUTReport)
    assert (second.process_name, second.start_utc) == (
        "Final test",
        datetime(2024, 5, 6, 8, 0, tzinfo=UTC),
    )
    # Import: a given status stands even where the limits disagree; empty ones are computed.
    assert step(second, "Given pass").status == "P"
    assert step(second, "Computed").status == "F"
    assert second.result == "F"


def test_active_file_mode_overrides_configured_import() -> None:
    data = wstf("NumericLimitTest\tX\t\t9\t10\t\tGE\tV\tPassed", header=("ConverterMode\tActive",))
    report = only_uut(run(WSTF, data, mode="import"))
    assert step(report, "X").status == "F"
    assert report.result == "F"


def test_empty_statuses_are_computed_from_limits_in_import_mode() -> None:
    data = wstf(
        "SequenceCall\tS",
        "NumericLimitTest\tin\t\t5\t1\t10\tGELE\tV\t",
        "NumericLimitTest\tout\t\t50\t1\t10\tGELE\tV\t",
        "EndSequenceCall\tS",
        "StringValueTest\tname\t\tabc\tABC\t\tIGNORECASE\t\t",
    )
    report = only_uut(run(WSTF, data, mode="import"))
    assert step(report, "S", "in").status == "P"
    assert step(report, "S", "out").status == "F"
    assert step(report, "S").status == "F"
    assert step(report, "name").status == "P"
    assert report.result == "F"


def test_decimal_comma_needs_the_culture_parameter() -> None:
    data = wstf("NumericLimitTest\tX\t\t7,5\t7\t8\tGELE\tV\t")
    with pytest.raises(ConversionError, match=r"line 8: Value: .*culture"):
        run(WSTF, data)
    report = only_uut(run(WSTF, data, culture="sv-SE"))
    meas = step(report, "X").numeric_meas
    assert meas is not None
    assert meas[0].value == 7.5


def test_chart_series_are_capped_or_rejected() -> None:
    series = [f"Series\ts{i}\tXYG\t1;2\t0;1" for i in range(12)]
    data = wstf("NumericLimitTest\tX\t\t1\t\t\tLOG\tV\t", "Chart\tLine\tc", *series)
    report = only_uut(run(WSTF, data))
    chart = step(report, "X").chart
    assert chart is not None
    assert len(chart.series) == 10
    with pytest.raises(ConversionError, match="at most 10 series"):
        run(WSTF, data, validation_mode="reject")


def test_no_start_time_uses_the_file_time(tmp_path: Path) -> None:
    data = wstf().replace(b"StartDateTime\t2024-01-02T03:04:05\r\n", b"")
    path = tmp_path / "no-start.txt"
    path.write_bytes(data)
    report = only_uut(run(WSTF, path))
    assert report.start is not None
    assert abs(report.start.timestamp() - path.stat().st_mtime) < 1


def test_fallbacks_fill_what_the_file_lacks() -> None:
    data = wstf().replace(b"PartNumber\tPN-1\r\n", b"")
    report = only_uut(run(WSTF, data, fallback_pn="PN-X", station="ST-1", fallback_process_code=40))
    assert (report.pn, report.machine_name, report.process_code) == ("PN-X", "ST-1", 40)
    assert report.root.name == "MainSequence Callback"
    named = only_uut(run(WSTF, data, sequence_name="Main"))
    assert named.root.name == "Main"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"SerialNumber\t1\r\n", "line 1: expected --Header-Start--"),
        (wstf()[:-15], "without --UUT-End--; is it complete"),
        (wstf("Bogus\tX"), "line 8: unknown step type 'Bogus'"),
        (wstf("SequenceCall\tA", "EndSequenceCall\tB"), "'B' does not match the open sequence 'A'"),
        (wstf("EndSequenceCall\tA"), "EndSequenceCall without an open SequenceCall"),
        (wstf("SequenceCall\tA"), "sequence 'A' is not closed"),
        (wstf("PassFailTest\tP\t\t\t\t\t\t\t"), "needs a Value"),
        (wstf("PassFailTest\tP\t\tmaybe"), "'maybe' is not true or false"),
        (wstf("Series\ts\tXYG\t1\t1"), "Series row without a Chart"),
        (wstf("NumericLimitTest\tX\t\t1\t\t\tLOG\tV\tGreat"), "unknown step status 'Great'"),
        (wstf(header=("ConverterMode\tSometimes",)), "ConverterMode must be Active or Import"),
        (wstf(header=("StartDateTime\tsoon",)), "start time"),
        (wstf().replace(b"SerialNumber\tSN-1\r\n", b""), "no SerialNumber"),
        (wstf(header=("OperationTypeCode\t70000",)), "processCode"),
        (b"--Header-Start--\r\n--Header-Start--\r\n", "before the previous report's"),
    ],
)
def test_bad_files_give_a_readable_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ConversionError, match=reason):
        run(WSTF, data)


def test_wrong_encoding_is_reported() -> None:
    data = wstf().replace(b"PN-1", "PN-\u00e6".encode("cp1252"))
    with pytest.raises(ConversionError, match="encoding"):
        run(WSTF, data)
    report = only_uut(run(WSTF, data, encoding="cp1252"))
    assert report.pn == "PN-\u00e6"


def test_sniff() -> None:
    assert WSTF.sniff(sample_path("wstf-example.txt").read_bytes()[:4096]) >= 0.9
    assert WSTF.sniff(sample_path("wsxf-uut.xml").read_bytes()[:4096]) == 0.0
