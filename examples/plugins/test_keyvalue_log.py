"""Test of the example plug-in, the way a plug-in author tests their own.

It installs the plug-in as a user would (a copy in a converter folder), loads it through the
station's plug-in loader, converts the sample log and finishes the report as the worker
does, so the verdicts are the ones the server will see. Run it with
`pytest examples/plugins`.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest

from app.converters.base import ConversionError, ConverterParameters, ConverterSource
from app.converters.finalize import finalize_reports
from app.converters.registry import all_converters
from app.core.report import UUTReport, iter_steps

HERE = Path(__file__).resolve().parent
SAMPLE = HERE / "sample.kv"


@pytest.fixture
def converter_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "converters"
    folder.mkdir()
    shutil.copy(HERE / "keyvalue_log.py", folder)
    return folder


def convert(folder: Path, data: bytes, mode: str = "active") -> list[UUTReport]:
    converters, problems = all_converters([folder])
    assert problems == []
    converter = converters["keyvalue-log"]()
    params = ConverterParameters.from_mapping({}, mode=mode)  # type: ignore[arg-type]
    reports = converter.convert(ConverterSource(SAMPLE, io.BytesIO(data), params))
    finished = finalize_reports(
        reports,
        converter=converter,
        params=params,
        file_sha256=hashlib.sha256(data).hexdigest(),
        station_default="TEST-STATION",
    )
    assert all(isinstance(report, UUTReport) for report in finished)
    return finished  # type: ignore[return-value]


def test_the_sample_log_becomes_a_failing_report(converter_folder: Path) -> None:
    (report,) = convert(converter_folder, SAMPLE.read_bytes())
    assert (report.sn, report.pn, report.rev, report.process_code) == (
        "PCB-000123",
        "PCB-100",
        "B",
        10,
    )
    assert report.uut.user == "kari"
    assert report.machine_name == "TEST-STATION"
    steps = {step.name: step for step, _path in iter_steps(report.root)}
    supply = steps["Supply 5V"].numeric_meas[0]  # type: ignore[index]
    assert (supply.value, supply.unit, supply.low_limit, supply.high_limit) == (5.02, "V", 4.9, 5.1)
    assert steps["Supply 5V"].status == "P"
    idle = steps["Idle current"]
    assert idle.numeric_meas[0].comp_op.value == "LE"  # type: ignore[index]
    assert idle.numeric_meas[0].low_limit == 0.35  # type: ignore[index]
    assert (idle.status, idle.caused_uut_failure) == ("F", True)
    assert steps["LED"].status == "P"
    assert steps["Firmware"].string_meas[0].value == "3.4.1"  # type: ignore[index]
    assert report.result == "F"


def test_the_same_file_always_gets_the_same_report_id(converter_folder: Path) -> None:
    data = SAMPLE.read_bytes()
    (first,) = convert(converter_folder, data)
    (again,) = convert(converter_folder, data)
    assert first.id == again.id


def test_a_bad_line_is_a_conversion_error_with_its_line(converter_folder: Path) -> None:
    with pytest.raises(ConversionError) as caught:
        convert(converter_folder, b"SN=1\nthis line has no equals sign\n")
    assert caught.value.line == 2
