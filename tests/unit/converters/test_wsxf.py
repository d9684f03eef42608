"""WSXF converter: golden tests on Virinco's samples, every element, equality with WSJF."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.converters.base import ConversionError
from app.converters.wsjf import WsjfConverter
from app.converters.wsxf import WsxfConverter
from app.core.report import UURReport, UUTReport
from app.samples import sample_path
from tests.unit.converters._support import DATA, all_steps, only_uut, run, step

WSXF = WsxfConverter()


@pytest.fixture(scope="module")
def uut() -> UUTReport:
    return only_uut(run(WSXF, sample_path("wsxf-uut.xml")))


def test_sample_uut_header(uut: UUTReport) -> None:
    assert uut.id == uuid.UUID("d26ddf31-fd90-47a5-af13-180404cde8be")
    assert (uut.pn, uut.sn, uut.rev) == ("FATPartNo", "FATTest-422", "Rev1")
    assert uut.result == "F"
    assert (uut.process_code, uut.process_name) == (10, "SW Debug")
    assert uut.machine_name == "VIC-WS-RE-LT"
    assert (uut.location, uut.purpose) == ("FAT Station Location", "FAT Station Purpose")
    assert uut.start == datetime(2017, 6, 7, 9, 24, 20, 857000, tzinfo=UTC) + timedelta(hours=-2)
    assert uut.start is not None
    assert uut.start.utcoffset() == timedelta(hours=2)
    assert uut.uut.user == "FAToper"
    assert uut.uut.batch_sn == "BatchSN"
    assert uut.uut.exec_time == 123.67
    assert uut.uut.fixture_id == "FAT FixtureId"
    assert uut.uut.error_message == "Error code 999"
    assert uut.uut.comment == "FAT Comment - can be 500 long"


def test_sample_uut_misc_infos_and_sub_units(uut: UUTReport) -> None:
    assert [(m.description, m.text, m.numeric) for m in uut.misc_infos] == [
        ("MiscInfoNumeric", None, 100),
        ("MiscInfoString", "Hello", None),
    ]
    assert [(u.part_type, u.pn, u.sn, u.rev, u.position) for u in uut.sub_units] == [
        ("PCBA", "SubPartNo1", "SubPartSN1", "Rev2", 0),
        ("MODULE", "SubPartNo2", "SubPartSN2", "Rev3", 1),
    ]


def test_sample_uut_steps_keep_ids_and_count(uut: UUTReport) -> None:
    steps = all_steps(uut)
    assert len(steps) == 50
    assert [s.id for s in steps] == list(range(1, 51))
    assert uut.root.name == "MainSequence Callback"
    assert uut.root.seq_call is not None
    assert (uut.root.seq_call.name, uut.root.seq_call.version) == ("Seq1", "1.0.0")


def test_sample_uut_statuses_are_kept_as_written(uut: UUTReport) -> None:
    # WSXF is a finished report (import): a Failed step over a Passed measurement stays so.
    eq_fail = step(uut, "Numeric tests", "SingleEQFail")
    assert eq_fail.status == "F"
    assert eq_fail.caused_uut_failure is True
    assert eq_fail.numeric_meas is not None
    assert eq_fail.numeric_meas[0].status == "P"
    assert step(uut, "Numeric tests", "SingleLogDone").status == "D"
    assert WsxfConverter.always_import is True


def test_sample_uut_single_limit_kept_in_low_limit(uut: UUTReport) -> None:
    le_pass = step(uut, "Numeric tests", "SingleLEPass").numeric_meas
    assert le_pass is not None
    assert (le_pass[0].comp_op, le_pass[0].low_limit, le_pass[0].high_limit) == ("LE", 500, None)
    gele = step(uut, "Numeric tests", "SingleGELEFail").numeric_meas
    assert gele is not None
    assert (gele[0].value, gele[0].low_limit, gele[0].high_limit) == (500, 501, 502)
    assert gele[0].unit == "V"


def test_sample_uut_multiple_measurements(uut: UUTReport) -> None:
    multi = step(uut, "Numeric tests", "Multiple Numeric Step")
    assert multi.step_type == "ET_MNLT"
    assert multi.numeric_meas is not None
    assert len(multi.numeric_meas) == 30
    first, last = multi.numeric_meas[0], multi.numeric_meas[-1]
    assert (first.name, first.comp_op, first.value, first.unit) == ("MultiLog", "LOG", 10, "A")
    assert (last.name, last.status) == ("MultiLOGPass", "F")
    booleans = step(uut, "Pass/Fail tests", "Multiple tests").boolean_meas
    assert booleans is not None
    assert [(b.name, b.status) for b in booleans] == [
        ("Pass", "P"),
        ("Fail", "F"),
        ("PassSkipped", "P"),
    ]
    strings = step(uut, "StringValue tests", "Multiple tests").string_meas
    assert strings is not None
    assert (strings[4].name, strings[4].comp_op, strings[4].value, strings[4].limit) == (
        "MultiInsiensFail",
        "IGNORECASE",
        "caseSensitive",
        "CaseSensitive2",
    )


def test_sample_uut_single_measurement_has_no_name(uut: UUTReport) -> None:
    single = step(uut, "StringValue tests", "SingleCasePass").string_meas
    assert single is not None
    assert single[0].name is None
    assert single[0].comp_op == "CASESENSIT"


def test_sample_uut_charts(uut: UUTReport) -> None:
    graph = step(uut, "Graphs", "Current from burn-in test")
    assert graph.step_type == "WATS_XYGMNLT"
    assert graph.chart is not None
    assert (graph.chart.chart_type, graph.chart.x_unit, graph.chart.y_unit) == ("Line", "min", "A")
    assert [s.name for s in graph.chart.series] == ["Current", "Mean", "LowLimit", "HighLimit"]
    assert graph.chart.series[0].ydata == "60.72;61.886;62.6;0"
    assert graph.chart.series[0].xdata == "0;1;2;3"
    attach = step(uut, "Misc Features", "Attach file").attachment
    assert attach is not None
    assert (attach.name, attach.content_type) == ("winhlp32.exe", "application/x-msdownload")


def test_sample_uur() -> None:
    [report] = run(WSXF, sample_path("wsxf-uur.xml"))
    assert isinstance(report, UURReport)
    assert report.id == uuid.UUID("22f77b28-80b3-4ad4-83b7-6439f1ccc245")
    assert (report.pn, report.sn, report.rev) == ("FATPartNo", "FATTest-311", "Rev1")
    assert (report.process_code, report.process_name) == (500, "Repair")
    assert (report.uur.process_code, report.uur.process_name) == (10, "SW Debug")
    assert report.uur.ref_uut == uuid.UUID("9ee40dd0-7009-4cea-92ab-7671c42ea86a")
    assert report.uur.user == "ragnar.engnes@virinco.com"
    assert report.uur.comment == "Comment on UUR"
    assert report.uur.exec_time == 122
    assert report.uur.confirm_date == datetime(2017, 7, 7, 7, 18, 24, 770000, tzinfo=UTC)
    assert [(u.idx, u.parent_idx, u.sn) for u in report.sub_units] == [
        (0, None, "FATTest-311"),
        (1, 0, "SubPartSN1"),
        (2, 0, "SubPartSN2"),
    ]
    main_failures = report.sub_units[0].failures
    sub_failures = report.sub_units[1].failures
    assert main_failures is not None
    assert sub_failures is not None
    assert [(f.category, f.code, f.com_ref, f.ref_step_id, f.comment) for f in main_failures] == [
        ("Solder Process", "Appearance", "R55", 16, "Failure on main unit")
    ]
    assert [(f.com_ref, f.ref_step_id) for f in sub_failures] == [("U16", 32)]
    assert report.misc_infos[0].id == uuid.UUID("e5ffc4ee-b067-4fd8-b170-c7e64131942b")
    assert (report.misc_infos[0].description, report.misc_infos[0].text) == (
        "Order number",
        "1234567",
    )


def test_same_content_as_wsjf_gives_the_same_report() -> None:
    from_json = run(WsjfConverter(), sample_path("wsjf-uut-minimal.json"))
    from_xml = run(WSXF, DATA / "wsxf-from-wsjf-minimal.xml")
    assert [r.to_wsjf() for r in from_xml] == [r.to_wsjf() for r in from_json]


def test_every_element_and_several_reports_in_one_file() -> None:
    reports = run(WSXF, DATA / "wsxf-all-elements.xml")
    assert [type(r) for r in reports] == [UUTReport, UURReport]
    uut, uur = reports
    assert isinstance(uut, UUTReport)
    assert isinstance(uur, UURReport)
    assert uut.result == "E"
    assert (uut.uut.test_socket_index, uut.uut.error_code, uut.uut.batch_loop_index) == (2, 17, 3)
    assert uut.uut.step_id_caused_uut_failure == 3
    assert uut.uut.comment == "two\nlines"
    assert [(m.description, m.text, m.numeric) for m in uut.misc_infos] == [
        ("Firmware", "3.4.1", None),
        ("Slot", None, 4),
        ("Line", "L2", None),
    ]
    assert [(u.part_type, u.sn, u.idx) for u in uut.sub_units] == [("PCBA", "MB-9917", 1)]
    assert [(a.asset_sn, a.usage_count) for a in uut.assets] == [("DMM-0031", 12)]
    assert [(b.name, b.data) for b in uut.binary_data] == [("log.txt", "aGVsbG8=")]
    [environment] = uut.additional_data
    assert environment.name == "Environment"
    assert environment.props[1].props is not None
    assert environment.props[1].props[0].value == "CH-2"
    root = uut.root
    assert root.seq_call is not None
    assert root.seq_call.path == "C:\\seq\\eol.seq"
    power = step(uut, "Power on")
    assert (power.group, power.report_text, power.ts_guid) == ("S", "powered at 12.0 V", "ID#:abc")
    loop = step(uut, "Loop body")
    assert loop.loop is not None
    assert (loop.loop.num, loop.loop.ending_index) == (3, 2)
    assert loop.numeric_meas is not None
    assert (loop.numeric_meas[0].comp_op, loop.numeric_meas[0].low_limit) == ("LT", 0.002)
    flash = step(uut, "Flash")
    assert (flash.status, flash.error_code, flash.error_message) == ("E", -17, "flasher crashed")
    assert flash.caused_seq_failure is True
    assert flash.caused_uut_failure is True
    assert flash.call_exe is not None
    assert flash.call_exe.exit_code == 3
    popup = step(uut, "Ask operator").message_popup
    assert popup is not None
    assert (popup.button, popup.response) == (1, "LED is green")
    save = step(uut, "Save log")
    assert (save.group, save.status) == ("C", "S")
    assert save.attachment is not None
    assert save.attachment.data == "aGVsbG8="
    assert (uur.process_code, uur.uur.process_code) == (500, 100)
    assert uur.uur.ref_uut == uut.id
    assert uur.uur.children == [uuid.UUID("c3eef2e0-034f-4ae1-9f8a-498a6e213775")]
    [main_unit] = uur.sub_units
    assert (main_unit.idx, main_unit.sn) == (0, "SN-000001")
    assert main_unit.failures is not None
    failure = main_unit.failures[0]
    assert (failure.func_block, failure.art_number, failure.art_vendor) == ("Power", "IC-7", "ACME")


def test_a_single_report_element_as_root() -> None:
    data = (
        b'<Report type="UUT" ID="d26ddf31-fd90-47a5-af13-180404cde8be" Start="2020-01-01T08:00:00Z"'
        b' Result="Passed" SN="1" PN="2" Rev="3" MachineName="M"><Process Code="10"/>'
        b'<Step Id="0" Name="MainSequence Callback" StepType="SequenceCall" Status="Passed"/>'
        b"</Report>"
    )
    report = only_uut(run(WSXF, data))
    assert (report.sn, report.result, report.root.status) == ("1", "P", "P")


def test_several_top_level_steps_hang_under_one_root() -> None:
    data = (
        b'<Reports><Report type="UUT" Start="2020-01-01T08:00:00Z" Result="Failed" SN="1" PN="2"'
        b' Rev="3" MachineName="M"><Process Code="10"/>'
        b'<Step Id="1" Name="a" StepType="ET_A" Status="Passed"/>'
        b'<Step Id="2" Name="b" StepType="ET_A" Status="Failed"/></Report></Reports>'
    )
    report = only_uut(run(WSXF, data))
    assert report.id is None  # the pipeline gives it its deterministic id
    assert report.root.name == "MainSequence Callback"
    assert report.root.status == "F"
    assert [s.name for s in report.root.steps or []] == ["a", "b"]


def test_missing_station_and_process_come_from_the_parameters() -> None:
    data = (
        b'<Reports><Report type="UUT" Start="2020-01-01T08:00:00Z" Result="Passed" SN="1" PN="2"'
        b' Rev="3"><UUT/><Step Id="0" Name="r" StepType="SequenceCall" Status="Passed"/>'
        b"</Report></Reports>"
    )
    report = only_uut(
        run(WSXF, data, station="ST-9", fallback_process_code=30, operator="night shift")
    )
    assert (report.machine_name, report.process_code, report.uut.user) == (
        "ST-9",
        30,
        "night shift",
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"<Reports><Report", "not valid XML"),
        (b"<TestResults/>", "not a WSXF file"),
        (b'<?xml version="1.0" encoding="tf-8"?><Reports/>', "not valid XML: unknown encoding"),
        (b"<Reports/>", "no <Report>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<Reports>&b;</Reports>",
            "DOCTYPE",
        ),
        (b'<Reports><Report type="XYZ"/></Reports>', "unknown report type"),
        (
            b'<Reports><Report type="UUT" Start="2020-01-01" SN="1" PN="2" Rev="3" Result="Okay">'
            b"</Report></Reports>",
            "unknown result 'Okay'",
        ),
        (
            b'<Reports><Report type="UUT" Start="yesterday" SN="1" PN="2" Rev="3" Result="Passed">'
            b"</Report></Reports>",
            "attribute Start",
        ),
        (
            b'<Reports><Report type="UUT" Start="2020-01-01" SN="1" PN="2" Rev="3" Result="Passed">'
            b'<Step Id="0" Name="x" StepType="ET_NLT" Status="Passed"><NumericLimit '
            b'NumericValue="1,5"/></Step></Report></Reports>',
            "attribute NumericValue",
        ),
        (
            b'<Reports><Report type="UUT" Start="2020-01-01" SN="1" PN="2" Rev="3" Result="Passed">'
            b'<Process Code="99999"/><Step Id="0" Name="x" StepType="SequenceCall" '
            b'Status="Passed"/></Report></Reports>',
            "processCode",
        ),
    ],
)
def test_bad_files_give_a_readable_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ConversionError, match=reason):
        run(WSXF, data)


def test_encoding_parameter_overrides_a_wrong_declaration() -> None:
    data = (
        '<?xml version="1.0" encoding="utf-8"?><Reports><Report type="UUT" SN="S\u00f8" PN="P"'
        ' Rev="R" Start="2020-01-01T08:00:00Z" Result="Passed"><Process Code="10"/>'
        '<Step Id="0" Name="r" StepType="SequenceCall" Status="Passed"/></Report></Reports>'
    ).encode("cp1252")
    with pytest.raises(ConversionError, match="not valid XML"):
        run(WSXF, data)
    assert only_uut(run(WSXF, data, encoding="cp1252")).sn == "S\u00f8"


def test_sniff() -> None:
    assert WSXF.sniff(sample_path("wsxf-uut.xml").read_bytes()[:4096]) >= 0.9
    assert WSXF.sniff(sample_path("atml-2.02.xml").read_bytes()[:4096]) == 0.0
    assert WSXF.sniff(b'{"type": "T"}') == 0.0
