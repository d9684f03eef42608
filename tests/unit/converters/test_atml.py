"""ATML converter: TestStand's 2.02 and 5.00 samples and hand-made 2.02, 5.00 and 6.01 files."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from app.converters.atml import AtmlConverter
from app.converters.base import ConversionError
from app.core.report import UUTReport
from app.samples import sample_path
from tests.unit.converters._support import DATA, all_steps, only_uut, run, step

ATML = AtmlConverter()


@pytest.fixture(scope="module", params=["atml-2.02.xml", "atml-5.00.xml"])
def sample(request: pytest.FixtureRequest) -> UUTReport:
    return only_uut(run(ATML, sample_path(request.param)))


def test_samples_header(sample: UUTReport) -> None:
    assert (sample.pn, sample.sn, sample.rev) == ("Ragnar123", "123456789", "")
    assert sample.machine_name == "TS-2016-BETA"
    assert sample.uut.user == "administrator"
    assert sample.result == "F"
    assert sample.process_code == 10
    assert sample.id in (
        uuid.UUID("33efe64e-770d-11e9-826e-00155d017250"),
        uuid.UUID("4eca009c-770d-11e9-826e-00155d017250"),
    )
    assert sample.start is not None
    assert sample.start.replace(tzinfo=None).date() == datetime(2019, 5, 15).date()
    assert sample.uut.exec_time is not None
    assert 2.1 < sample.uut.exec_time < 2.8


def test_samples_step_tree(sample: UUTReport) -> None:
    assert len(all_steps(sample)) == 24
    root = sample.root
    assert (root.name, root.step_type, root.status) == (
        "MainSequence Callback",
        "SequenceCall",
        "F",
    )
    assert root.seq_call is not None
    assert root.seq_call.name == "MainSequence"
    assert root.seq_call.path is not None
    assert root.seq_call.path.endswith("Computer Motherboard Test Sequence VIC.seq")
    names = [s.name for s in root.steps or []]
    assert names[:6] == [
        "Add Partnumber",
        "Simulation Dialog",
        "Turn Vacuum Table On",
        "Powerup Test",
        "If",
        "CPU Test",
    ]
    setup = step(sample, "Add Partnumber")
    assert (setup.group, setup.step_type, setup.status) == ("S", "Statement", "D")
    assert step(sample, "Turn Vacuum Table Off").group == "C"
    cpu = step(sample, "CPU Test")
    assert (cpu.step_type, cpu.status) == ("SequenceCall", "P")
    assert [s.name for s in cpu.steps or []] == [
        "Register Test",
        "Instruction Set Test",
        "Cache Test",
        "FPU Test",
    ]
    register = step(sample, "CPU Test", "Register Test")
    assert register.step_type == "ET_PFT"
    assert [(m.name, m.status) for m in register.boolean_meas or []] == [(None, "P")]
    assert step(sample, "If").report_text == "{True}"


def test_samples_numeric_limits(sample: UUTReport) -> None:
    video = step(sample, "Video Test")
    assert (video.step_type, video.status) == ("ET_NLT", "P")
    [meas] = video.numeric_meas or []
    assert (meas.name, meas.value, meas.comp_op) == (None, 5, "GTLT")
    assert (meas.low_limit, meas.high_limit, meas.unit) == (0, 10, "microseconds")
    keyboard = step(sample, "Keyboard Test")
    [meas] = keyboard.numeric_meas or []
    assert (meas.value, meas.comp_op, meas.low_limit, meas.high_limit) == (4, "GT", 5, None)
    assert (keyboard.status, meas.status) == ("F", "F")
    assert keyboard.caused_seq_failure is True


def test_samples_skipped_steps(sample: UUTReport) -> None:
    for name in ("CPU Diagnostics", "ROM Diagnostics", "Video Diagnostics"):
        assert step(sample, name).status == "S"
    assert step(sample, "Keyboard Diagnostics").status == "F"


def test_sample_5_00_times_and_critical_failure() -> None:
    report = only_uut(run(ATML, sample_path("atml-5.00.xml"), mode="import"))
    assert report.root.tot_time == 2.6958
    assert step(report, "Simulation Dialog").tot_time == 2.4852
    keyboard = step(report, "Keyboard Test")
    # TestStand's CriticalFailureStack names the step that failed the UUT.
    assert keyboard.caused_uut_failure is True
    assert report.uut.step_id_caused_uut_failure == keyboard.id
    assert keyboard.ts_guid == "ID#:xGGTqrEX5hGzYpiQlqYQ+D"


def test_6_01_batch_gives_one_report_per_uut() -> None:
    first, second = run(ATML, DATA / "atml-6.01-batch.xml")
    assert isinstance(first, UUTReport)
    assert isinstance(second, UUTReport)
    assert [(r.sn, r.pn) for r in (first, second)] == [
        ("BRD-0001", "BRD-200"),
        ("BRD-0002", "BRD-200"),
    ]
    assert (first.rev, second.rev) == ("C", "")
    assert (first.uut.batch_sn, first.uut.test_socket_index) == ("BATCH-77", 0)
    assert (second.uut.batch_sn, second.uut.test_socket_index) == ("BATCH-77", 1)
    assert (first.result, second.result) == ("F", "P")
    assert first.id == uuid.UUID("a1b2c3d4-0001-4000-8000-000000000001")
    assert first.machine_name == "EOL-STATION-4"
    assert first.uut.exec_time == 10.25
    assert first.root.seq_call is not None
    assert (first.root.seq_call.path, first.root.seq_call.name) == (
        "D:\\seq\\board.seq",
        "MainSequence",
    )


def test_6_01_measurements() -> None:
    first, _second = run(ATML, DATA / "atml-6.01-batch.xml")
    assert isinstance(first, UUTReport)
    rails = step(first, "Rails")
    assert (rails.step_type, rails.tot_time) == ("ET_MNLT", 0.5)
    inside, outside = rails.numeric_meas or []
    assert (inside.name, inside.comp_op, inside.low_limit, inside.high_limit, inside.unit) == (
        "3V3",
        "GELE",
        3.2,
        3.4,
        "V",
    )
    # An OR pair is the outside window: below the LT limit or above the GT limit.
    assert (outside.name, outside.comp_op, outside.low_limit, outside.high_limit) == (
        "Noise",
        "LTGT",
        1,
        5,
    )
    assert outside.status == "P"
    idle = step(first, "Idle current")
    [meas] = idle.numeric_meas or []
    assert (meas.comp_op, meas.low_limit, meas.value, meas.status) == ("LE", 0.35, 0.412, "F")
    # No CriticalFailureStack in this file: marking the failing step is left to Active mode.
    assert first.uut.step_id_caused_uut_failure is None
    firmware = step(first, "Identity", "Firmware")
    [text] = firmware.string_meas or []
    assert (text.comp_op, text.value, text.limit, text.status) == (
        "IGNORECASE",
        "v4.2.0",
        "V4.2.0",
        "P",
    )
    assert step(first, "Identity", "Self test").boolean_meas is not None
    log = step(first, "Log results")
    assert (log.group, log.step_type, log.report_text) == ("C", "Action", "saved to share")


def test_5_00_without_ni_extension_infers_step_kinds() -> None:
    report = only_uut(run(ATML, DATA / "atml-5.00-plain.xml"))
    assert report.id is None  # its uuid attribute is not a UUID
    assert (report.sn, report.pn, report.machine_name) == ("PLAIN-1", "", "ST-5")
    power = step(report, "Power")
    assert power.step_type == "SequenceCall"
    voltage = step(report, "Power", "Voltage")
    assert voltage.step_type == "ET_NLT"
    [meas] = voltage.numeric_meas or []
    assert (meas.comp_op, meas.low_limit, meas.high_limit, meas.unit) == ("GTLT", 4.9, 5.1, "V")
    assert step(report, "Power", "Relay").step_type == "ET_PFT"
    assert step(report, "Wait").step_type == "Action"
    fallback = only_uut(run(ATML, DATA / "atml-5.00-plain.xml", fallback_pn="PN-F"))
    assert fallback.pn == "PN-F"


def test_2_02_in_the_2006_namespace() -> None:
    report = only_uut(run(ATML, DATA / "atml-2.02-urn.xml", mode="import"))
    assert (report.pn, report.sn, report.uut.user) == ("OLD-PN", "OLD-SN", "op2")
    gain = step(report, "Gain")
    [meas] = gain.numeric_meas or []
    assert (meas.value, meas.comp_op, meas.low_limit, meas.unit) == (15, "EQ", 20, "dB")
    skipped = step(report, "Skipped check")
    assert (skipped.status, skipped.boolean_meas) == ("S", None)
    assert report.result == "F"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<TestResults>", "not valid XML"),
        (b"<Reports/>", "not an ATML test results file"),
        (b"<TestResults/>", "not an ATML test results file"),
        (
            b'<TestResultsCollection xmlns="urn:IEEE-1636.1:2011:01:TestResultsCollection"/>',
            "holds no <TestResults>",
        ),
        (b'<TestResults xmlns="urn:IEEE-1636.1:2011:01:TestResults"/>', "no <ResultSet>"),
        (
            b'<TestResults xmlns="urn:IEEE-1636.1:2011:01:TestResults"><ResultSet/></TestResults>',
            "no startDateTime",
        ),
        (
            b'<TestResults xmlns="urn:IEEE-1636.1:2011:01:TestResults">'
            b'<ResultSet startDateTime="2020-01-01T00:00:00"/></TestResults>',
            "no serial number",
        ),
        (
            b'<TestResults xmlns="urn:IEEE-1636.1:2011:01:TestResults">'
            b'<ResultSet startDateTime="last tuesday"/></TestResults>',
            "startDateTime",
        ),
    ],
)
def test_bad_files_give_a_readable_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ConversionError, match=reason):
        run(ATML, data)


def test_bad_measurement_value_names_the_test() -> None:
    data = (DATA / "atml-5.00-plain.xml").read_bytes().replace(b'value="5.02"', b'value="five"')
    with pytest.raises(ConversionError, match="measurement v: 'five' is not a number"):
        run(ATML, data)


def test_sniff() -> None:
    assert ATML.sniff(sample_path("atml-5.00.xml").read_bytes()[:4096]) >= 0.9
    assert ATML.sniff(sample_path("atml-2.02.xml").read_bytes()[:4096]) >= 0.9
    assert ATML.sniff(sample_path("wsxf-uut.xml").read_bytes()[:4096]) == 0.0
