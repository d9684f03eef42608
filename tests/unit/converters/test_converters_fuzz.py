"""Property tests: whatever bytes a converter gets, it answers reports or a ConversionError.

Truncated, mutated, random and token-soup inputs must never raise anything else (the worker
turns a ConversionError into the Error-folder reason; anything else would be a bug) and must
never hang (every example runs under a deadline). Reports that do come out must serialise.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.converters.atml import AtmlConverter
from app.converters.base import ConversionError, Converter
from app.converters.teradyne_i3070 import TeradyneI3070Converter
from app.converters.wstf import WstfConverter
from app.converters.wsxf import WsxfConverter
from app.samples import sample_path
from tests.unit.converters._support import DATA, run

# Kept small for the everyday run; WATS_FUZZ_EXAMPLES=3000 shakes harder (CI nightly, by hand).
EXAMPLES = int(os.environ.get("WATS_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

INPUTS: list[tuple[Converter, Path]] = [
    (WsxfConverter(), sample_path("wsxf-uut.xml")),
    (WsxfConverter(), sample_path("wsxf-uur.xml")),
    (WsxfConverter(), DATA / "wsxf-all-elements.xml"),
    (WstfConverter(), sample_path("wstf-example.txt")),
    (WstfConverter(), DATA / "wstf-all-rows.txt"),
    (AtmlConverter(), sample_path("atml-2.02.xml")),
    (AtmlConverter(), sample_path("atml-5.00.xml")),
    (AtmlConverter(), DATA / "atml-6.01-batch.xml"),
    (TeradyneI3070Converter(), DATA / "i3070-batch.ict"),
    (TeradyneI3070Converter(), DATA / "i3070-classic.ict"),
]
IDS = [f"{converter.name}:{path.name}" for converter, path in INPUTS]
CONVERTERS: list[Converter] = [
    WsxfConverter(),
    WstfConverter(),
    AtmlConverter(),
    TeradyneI3070Converter(),
]
PARAMETERS = st.sampled_from(
    [
        {},
        {"mode": "import"},
        {"culture": "de-DE"},
        {"validation_mode": "reject", "culture": "en-US"},
    ]
)

# Pieces of every format, so random soups reach deep into the parsers.
TOKENS = [
    "\t", "\r\n", "\n", "|", "{", "}", "<", ">", "/>", "</", "=", '"', "'", ";", ",", ".", "#",
    "--Header-Start--", "--Step-Data-Start--", "--Step-Data-End--", "--UUT-End--",
    "StepType", "SequenceCall", "EndSequenceCall", "NumericLimitTest", "PassFailTest",
    "StringValueTest", "MultipleNumericLimitTest", "ActionStep", "Chart", "Series", "XYG",
    "SerialNumber", "PartNumber", "UUTStatus", "ConverterMode", "Import", "Active", "Subunit",
    "StartDateTime", "2024-01-02T03:04:05", "GELE", "LT", "EQ", "LOG", "Passed", "Failed",
    "TRUE", "1,5", "-3.2E+01", "NaN", "1e999",
    "<Reports>", "<Report type=\"UUT\" SN=\"1\" PN=\"2\" Rev=\"3\" Start=\"2020-01-01\">",
    "<Step Id=\"1\" Status=\"Passed\">", "<NumericLimit NumericValue=\"1\"/>", "</Step>",
    "<TestResults xmlns=\"urn:IEEE-1636.1:2011:01:TestResults\">", "<ResultSet>", "<Test>",
    "<TestGroup>", "<TestResult>", "<Outcome value=\"Failed\"/>",
    "{@BATCH|", "{@BTEST|", "{@BLOCK|", "{@A-RES|", "{@LIM2|", "{@LIM3|", "{@TS|", "{@PF|",
    "240101120000", "00", "01", "+1.000000E+04",
    "x.obc[01-MAR-24  08:00:00", "@01-MAR-24  08:01:00 SN A1", "R1=10K(9K,11K)R",
    '"01-MAR-24  08:02:00', "(S shorts", "OPERATOR = 7",
]  # fmt: skip


def check(converter: Converter, data: bytes, params: dict[str, str]) -> None:
    try:
        reports = run(converter, data, **params)
    except ConversionError as exc:
        message = str(exc)
        assert message.strip()
        assert "Traceback" not in message
        return
    assert reports
    for report in reports:
        assert report.to_json()


@pytest.mark.parametrize(("converter", "path"), INPUTS, ids=IDS)
@FUZZ
@given(cut=st.floats(min_value=0, max_value=1), params=PARAMETERS)
def test_truncated_input(
    converter: Converter, path: Path, cut: float, params: dict[str, str]
) -> None:
    data = path.read_bytes()
    check(converter, data[: int(len(data) * cut)], params)


@pytest.mark.parametrize(("converter", "path"), INPUTS, ids=IDS)
@FUZZ
@given(
    edits=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1),
            st.sampled_from(["replace", "insert", "delete"]),
            st.binary(min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=8,
    ),
    params=PARAMETERS,
)
def test_mutated_input(
    converter: Converter,
    path: Path,
    edits: list[tuple[float, str, bytes]],
    params: dict[str, str],
) -> None:
    data = bytearray(path.read_bytes())
    for where, operation, chunk in edits:
        at = int(len(data) * where)
        if operation == "replace":
            data[at : at + len(chunk)] = chunk
        elif operation == "insert":
            data[at:at] = chunk
        else:
            del data[at : at + len(chunk)]
    check(converter, bytes(data), params)


@pytest.mark.parametrize("converter", CONVERTERS, ids=[c.name for c in CONVERTERS])
@FUZZ
@given(data=st.binary(max_size=3000), params=PARAMETERS)
def test_random_bytes(converter: Converter, data: bytes, params: dict[str, str]) -> None:
    check(converter, data, params)


@pytest.mark.parametrize("converter", CONVERTERS, ids=[c.name for c in CONVERTERS])
@FUZZ
@given(
    pieces=st.lists(st.sampled_from(TOKENS) | st.text(max_size=6), max_size=200),
    params=PARAMETERS,
)
def test_token_soup(converter: Converter, pieces: list[str], params: dict[str, str]) -> None:
    check(converter, "".join(pieces).encode("utf-8", "surrogatepass"), params)


@pytest.mark.parametrize("converter", CONVERTERS, ids=[c.name for c in CONVERTERS])
def test_deep_nesting_is_refused_not_crashed(converter: Converter) -> None:
    depth = 5000
    soups = {
        "wsxf": b"<Reports><Report>"
        + b"<Step>" * depth
        + b"</Step>" * depth
        + b"</Report></Reports>",
        "wstf": b"--Header-Start--\nSerialNumber\t1\n--Step-Data-Start--\n"
        + b"SequenceCall\tS\n" * depth,
        "atml": b'<TestResults xmlns="urn:IEEE-1636.1:2011:01:TestResults">'
        + b'<ResultSet startDateTime="2020-01-01T00:00:00">'
        + b"<TestGroup>" * depth
        + b"</TestGroup>" * depth
        + b"</ResultSet><UUT><SerialNumber>1</SerialNumber></UUT></TestResults>",
        "teradyne-i3070": b"{@BTEST|1|00|240101000000|1"
        + b"{@BLOCK|x|00" * depth
        + b"}" * (depth + 1),
    }
    with pytest.raises(ConversionError, match=r"nested|deep|levels"):
        run(converter, soups[converter.name])
