"""Teradyne/Keysight i3070 converter: the record log and the classic line log."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.converters.base import ConversionError
from app.converters.teradyne_i3070 import TeradyneI3070Converter
from app.core.report import UUTReport
from app.core.verdict import apply_verdicts
from tests.unit.converters._support import DATA, all_steps, only_uut, run, step

I3070 = TeradyneI3070Converter()


@pytest.fixture(scope="module")
def batch() -> list[UUTReport]:
    reports = run(I3070, DATA / "i3070-batch.ict", mode="import")
    assert all(isinstance(r, UUTReport) for r in reports)
    return [r for r in reports if isinstance(r, UUTReport)]


@pytest.fixture(scope="module")
def classic() -> list[UUTReport]:
    reports = run(I3070, DATA / "i3070-classic.ict", mode="import")
    return [r for r in reports if isinstance(r, UUTReport)]


def test_record_log_gives_one_report_per_board(batch: list[UUTReport]) -> None:
    assert [(r.sn, r.result) for r in batch] == [("5016338409302", "P"), ("5016338409303", "F")]
    first = batch[0]
    assert (first.pn, first.rev, first.machine_name) == ("501-6338-02", "RevA", "ict-line2")
    assert (first.uut.user, first.uut.batch_sn, first.uut.fixture_id) == ("op17", "LOT-0418", "12")
    assert first.start == datetime(2024, 1, 7, 10, 53, 53).astimezone()
    assert first.uut.exec_time == 350
    assert first.root.seq_call is not None
    assert (first.root.seq_call.name, first.root.seq_call.version) == ("PLAN-501", "2.3")
    assert [(m.description, m.text) for m in first.misc_infos] == [
        ("Board number", "1"),
        ("Process step", "btest"),
        ("Testhead type", "3070"),
    ]
    assert ("Board test status", "01") in [(m.description, m.text) for m in batch[1].misc_infos]


def test_record_log_analog_measurements(batch: list[UUTReport]) -> None:
    first = batch[0]
    assert [s.name for s in first.root.steps or []] == ["Analog", "Shorts", "Digital"]
    resistor = step(first, "Analog", "r12")
    [meas] = resistor.numeric_meas or []
    # LIM3 is nominal|high|low.
    assert (meas.value, meas.low_limit, meas.high_limit, meas.comp_op) == (
        10020,
        9900,
        10100,
        "GELE",
    )
    assert (meas.unit, meas.status, meas.name) == ("ohm", "P", None)
    capacitor = step(first, "Analog", "c7")
    [meas] = capacitor.numeric_meas or []
    assert (meas.value, meas.low_limit, meas.high_limit, meas.unit) == (1.02e-6, 9e-7, 1.1e-6, "F")
    jumper = step(first, "Analog", "polarity_check")
    [meas] = jumper.numeric_meas or []
    # LIM2 is high|low.
    assert (meas.low_limit, meas.high_limit) == (0, 8)
    regulator = step(first, "Analog", "vr1")
    assert regulator.step_type == "ET_MNLT"
    assert [(m.name, m.value) for m in regulator.numeric_meas or []] == [
        ("in", 12.01013),
        ("out", 3.317988),
    ]
    shorts = step(first, "Shorts", "shorts")
    assert (shorts.step_type, shorts.status) == ("ET_PFT", "P")
    assert shorts.report_text == "shorts 0, opens 0, phantoms 0"
    digital = step(first, "Digital", "u7_digital")
    assert digital.report_text == "u7: digital test status 0, failing vector 0, 24 pins"


def test_record_log_failure_marks_the_failing_block(batch: list[UUTReport]) -> None:
    second = batch[1]
    failing = step(second, "Analog", "r12")
    assert failing.status == "F"
    assert failing.caused_uut_failure is True
    assert second.uut.step_id_caused_uut_failure == failing.id
    assert failing.report_text == "r12 measured high, check placement"
    assert step(second, "Analog").status == "F"
    assert step(second, "Analog", "c7").caused_uut_failure is False


def test_classic_log_skips_empty_aborted_tests(classic: list[UUTReport]) -> None:
    assert [(r.sn, r.result) for r in classic] == [("SS160605E", "P"), ("SS160606E", "F")]
    first = classic[0]
    assert (first.pn, first.uut.user, first.uut.test_socket_index) == ("PR11274", "24704", 1)
    assert first.start == datetime(2016, 2, 26, 14, 45, 13).astimezone()
    assert first.uut.exec_time == 416
    assert [(m.description, m.text) for m in first.misc_infos] == [
        ("PHILIPS P/N", "1118921"),
        ("TESTER ID", "G016"),
    ]
    assert first.root.seq_call is not None
    assert first.root.seq_call.path == "S:\\Projects\\PR\\PR11274_Rev01\\PR11274_main.obc"


def test_classic_log_measurements_and_units(classic: list[UUTReport]) -> None:
    first = classic[0]
    assert [s.name for s in first.root.steps or []] == ["R-Group", "C-Group", "K-Group", "P-Group"]
    [resistor] = step(first, "R-Group", "R1(R)").numeric_meas or []
    # 1.00466K within (950,1.05K): all in the low limit's unit.
    assert (resistor.value, resistor.low_limit, resistor.high_limit) == (1004.66, 950, 1050)
    assert (resistor.unit, resistor.comp_op) == ("ohm", "GELE")
    [capacitor] = step(first, "C-Group", "C12(CP)").numeric_meas or []
    assert (capacitor.value, capacitor.low_limit, capacitor.high_limit) == (10.2, 9, 11)
    assert capacitor.unit == "µF"
    [relay] = step(first, "K-Group", "K500_RLY1_NO(V)").numeric_meas or []
    assert (relay.value, relay.unit) == (62.532611, "mV")
    off = step(first, "P-Group").steps or []
    assert [(s.step_type, s.status) for s in off] == [("ET_PFT", "P"), ("ET_NLT", "P")]
    assert off[1].numeric_meas is not None
    assert off[1].numeric_meas[0].value == pytest.approx(-0.003206191)
    # K500_CLEAR#(,)VS sets a source: not a test step.
    assert "K500_CLEAR(VS)" not in [s.name for s in all_steps(first)]


def test_classic_log_failures(classic: list[UUTReport]) -> None:
    second = classic[1]
    shorts = step(second, "Failures", "SHORTS test, failed")
    assert (shorts.status, shorts.report_text) == ("F", "SHORTS test, failed: nodes 12 and 14")
    assert shorts.step_type == "ET_PFT"
    assert shorts.caused_uut_failure is True
    assert second.uut.step_id_caused_uut_failure == shorts.id
    high = step(second, "R-Group", "R2(R)")
    assert (high.status, high.error_message) == ("F", "MEAS R")
    assert step(second, "R-Group", "R1(R)").report_text == "retested"


def test_classic_failure_line_stays_the_cause_when_verdicts_are_recomputed() -> None:
    second = run(I3070, DATA / "i3070-classic.ict", mode="active")[1]
    assert isinstance(second, UUTReport)
    apply_verdicts(second)  # what the pipeline does in Active mode
    shorts = step(second, "Failures", "SHORTS test, failed")
    assert (second.result, shorts.status) == ("F", "F")
    assert second.uut.step_id_caused_uut_failure == shorts.id


def test_classic_return_to_diagnose_takes_the_verdict_from_the_steps() -> None:
    data = (
        b"C:\\p\\BRD_x.obc[01-MAR-24  08:00:00\n@01-MAR-24  08:01:00 SN A1\n"
        b"R5=10K(9K,11K)R\nR6<5K(9K,11K)R\n]01-MAR-24  08:02:00\n"
    )
    report = only_uut(run(I3070, data))
    assert (report.pn, report.sn, report.result) == ("BRD", "A1", "F")


def test_classic_wats_properties_override() -> None:
    data = (
        b"C:\\p\\BRD_x.obc[01-MAR-24  08:00:00\n@01-MAR-24  08:01:00\n"
        b"WATS_partNumber=PN-9\nWATS_partRevision=R2\nWATS_serialNumber=SN-9\n"
        b"WATS_operator=ola\nWATS_stationName=ICT-9\nWATS_sequenceVersion=1.2\n"
        b'R5=10K(9K,11K)R\n"01-MAR-24  08:02:00\n'
    )
    report = only_uut(run(I3070, data))
    assert (report.pn, report.rev, report.sn) == ("PN-9", "R2", "SN-9")
    assert (report.uut.user, report.machine_name) == ("ola", "ICT-9")
    assert report.root.seq_call is not None
    assert report.root.seq_call.version == "1.2"


def test_part_number_pattern_parameter() -> None:
    data = (
        b"C:\\p\\LINE2-BRD77-main.obc[01-MAR-24  08:00:00\n@01-MAR-24  08:01:00 SN A1\n"
        b'R5=10K(9K,11K)R\n"01-MAR-24  08:02:00\n'
    )
    report = only_uut(run(I3070, data, part_number_pattern=r"BRD\d+"))
    assert report.pn == "BRD77"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"hello world\n", "not an i3070 log"),
        (b"{@BATCH|a|b\n{@BTEST|1|00|240101000000|1\n", "ends inside the record opened on line"),
        (b"{@BTEST|1|00|240101000000|1}}", "closes no record"),
        (b"{@BTEST|1|00|240101000000|1} stray", "text outside a record"),
        (b"{@BTEST|1|00|240101000000|1{BLOCK|x}}", "must start with @NAME"),
        (b"{@BATCH|a|b}", "no board test"),
        (b"{@BTEST||00|240101000000|1}", "no board id"),
        (b"{@BTEST|1|00|2401|1}", "not a yyMMddHHmmss time"),
        (b"{@BTEST|1|00|240199000000|1}", "not a valid time"),
        (b"{@BTEST|1|00||}", "no start time"),
        (
            b"{@BTEST|1|00|240101000000|1{@BLOCK|r1|00{@A-RES|0|ten}}}",
            "A-RES measured value",
        ),
        (b"@01-MAR-24  08:01:00 SN A1\nR5=10K(9K,11K)R\n", "no end event"),
        (b"@01-MAR-24  08:01:00\nR5=10K(9K,11K)R\n/01-MAR-24  08:02:00\n", "no serial number"),
        (b"@01-MAR-24  08:01:00 SN 1\n?01-MAR-24  08:02:00\n", "no test results .1 aborted"),
        (
            b"@01-MAR-24  08:01:00 SN 1\n@01-MAR-24  08:02:00 SN 2\n",
            "a new test starts before the test from line 1 ended",
        ),
        (b"@41-MAR-24  08:01:00 SN 1\n", "time"),
    ],
)
def test_bad_files_give_a_readable_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ConversionError, match=reason):
        run(I3070, data)


def test_bad_part_number_pattern() -> None:
    with pytest.raises(ConversionError, match="part_number_pattern"):
        run(I3070, b"@01-MAR-24  08:01:00 SN 1\n", part_number_pattern="(")


def test_sniff() -> None:
    assert I3070.sniff((DATA / "i3070-batch.ict").read_bytes()[:4096]) >= 0.9
    assert I3070.sniff((DATA / "i3070-classic.ict").read_bytes()[:4096]) >= 0.9
    assert I3070.sniff(b"<Reports/>") == 0.0
