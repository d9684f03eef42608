"""`wats-station convert` as a user runs it: a real subprocess on the sample files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.commands.exitcodes import Exit
from app.core.config import validate_config
from app.core.config_store import ConfigStore
from app.core.paths import InstancePaths
from app.core.report import UUTReport, iter_steps, parse_report
from app.samples import sample_path

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugins"


def convert(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "convert", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_show_prints_the_step_tree_with_values_limits_and_verdicts() -> None:
    result = convert(sample_path("wstf-example.txt"), "--show")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("converter: wstf 1.0 (detected: the file name matches *.txt")
    assert "test report 1 of 1:  SN 423664753  PN 100200  rev A" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("step "))
    assert header.split() == ["step", "value", "unit", "low", "high", "comp", "status"]
    first = next(line for line in lines if "test1.1" in line)
    assert first.split() == ["test1.1", "7", "Volt", "7", "10", "GELE", "P"]
    # Nesting is indentation: a step inside SubSeq1 sits deeper than SubSeq1 itself.
    sequence = next(line for line in lines if "SubSeq1" in line)
    indent = len(sequence) - len(sequence[2:].lstrip()) - 2
    assert first.index("test1.1") > sequence.index("SubSeq1") >= indent
    # Columns line up: every value starts where the header's "value" starts.
    assert first.index(" 7 ") + 1 == header.index("value")
    failing = [line for line in lines if line.startswith("x ")]
    assert failing, out
    assert any("<- caused the failure" in line for line in failing)


def test_show_on_a_wsjf_sample_names_the_steps_and_their_verdicts() -> None:
    path = sample_path("wsjf-uut-minimal.json")
    document = json.loads(path.read_text())
    result = convert(path, "--show")
    assert result.returncode == 0, result.stderr
    assert "converter: wsjf 1.0" in result.stdout
    report = parse_report(path.read_bytes())
    assert isinstance(report, UUTReport)
    for step, _path in iter_steps(report.root):
        assert step.name in result.stdout
    assert f"result {document['result']}" in result.stdout


def test_out_writes_wsjf_that_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = convert(sample_path("wstf-example.txt"), "--out", out)
    assert result.returncode == 0, result.stderr
    assert f"wrote 1 report as WSJF to {out}" in result.stdout
    document = json.loads(out.read_text())
    assert isinstance(document, dict)
    report = parse_report(out.read_bytes())
    assert report.sn == "423664753"
    assert report.id is not None
    assert report.machine_name == "VIC-WS-ML"
    # Converting the same bytes again gives the same id: the queue's idempotency rests on it.
    again = tmp_path / "again.json"
    assert convert(sample_path("wstf-example.txt"), "--out", again).returncode == 0
    assert json.loads(again.read_text())["id"] == document["id"]


def test_several_reports_are_written_as_an_array(tmp_path: Path) -> None:
    source = tmp_path / "panel.csv"
    source.write_text("SN,Step,Value,Low,High\nU1,R,5,4,6\nU2,R,9,4,6\n")
    out = tmp_path / "panel.json"
    result = convert(source, "--out", out, "--show")
    assert result.returncode == 0, result.stderr
    assert "test report 2 of 2:  SN U2" in result.stdout
    documents = json.loads(out.read_text())
    assert [(d["sn"], d["result"]) for d in documents] == [("U1", "P"), ("U2", "F")]
    assert all(isinstance(parse_report(d), UUTReport) for d in documents)


def test_out_dash_writes_json_to_stdout_and_messages_to_stderr(tmp_path: Path) -> None:
    source = tmp_path / "u.csv"
    source.write_text("Step,Value\nR,1\n")
    result = convert(source, "--out", "-")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sn"] == "u"
    assert "converter: table" in result.stderr


def test_mode_and_params_reach_the_converter(tmp_path: Path) -> None:
    source = tmp_path / "u.csv"
    source.write_text('Name,Reading,Status\nR,"2,5",Failed\n')
    out = tmp_path / "u.json"
    columns = json.dumps({"value": "Reading"})
    args = ("--param", "culture=de-DE", "--param", f"columns={columns}", "--out", out)
    assert convert(source, *args).returncode == 0
    active = json.loads(out.read_text())
    assert active["root"]["steps"][0]["numericMeas"][0]["value"] == 2.5
    assert active["result"] == "P"  # Active: no limits, so the value passes
    assert convert(source, *args, "--mode", "import").returncode == 0
    assert json.loads(out.read_text())["result"] == "F"  # Import: the file's status stands


def test_a_conversion_error_exits_invalid_input_with_the_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text("Step,Value,Low\nR,5,1\nQ,five,1\n")
    result = convert(source)
    assert result.returncode == Exit.INVALID_INPUT
    assert result.stderr.strip().endswith(
        "cannot convert with table: line 3: column 2 (Value): 'five' is not a number"
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("--converter", "nope"), Exit.USAGE, "no converter named 'nope'; known converters: "),
        (("--param", "novalue"), Exit.USAGE, "write it as KEY=VALUE"),
        (("--param", "header_row=x", "--converter", "table"), Exit.USAGE, "header_row"),
        (("--instance", "bad name"), Exit.USAGE, "instance name"),
        (("--param", "validation_mode=loose"), Exit.INVALID_INPUT, "validation_mode"),
    ],
)
def test_bad_arguments(tmp_path: Path, args: tuple[str, ...], code: Exit, words: str) -> None:
    source = tmp_path / "u.csv"
    source.write_text("Step,Value\nR,1\n")
    result = convert(source, *args)
    assert result.returncode == code, result.stderr
    assert words in result.stderr


def test_a_file_nothing_reads_or_that_is_missing(tmp_path: Path) -> None:
    blob = tmp_path / "photo.png"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = convert(blob)
    assert result.returncode == Exit.INVALID_INPUT
    assert "cannot tell which converter reads photo.png" in result.stderr
    missing = convert(tmp_path / "missing.csv")
    assert missing.returncode == Exit.INVALID_INPUT
    assert "cannot read" in missing.stderr


def test_plugins_from_the_instance_folder_and_broken_ones_as_warnings() -> None:
    folder = InstancePaths.for_instance("default").plugin_dir
    folder.mkdir(parents=True)
    shutil.copy(EXAMPLE_PLUGIN / "keyvalue_log.py", folder)
    (folder / "broken.py").write_text("def oops(:\n")
    result = convert(EXAMPLE_PLUGIN / "sample.kv", "--show")
    assert result.returncode == 0, result.stderr
    assert "converter: keyvalue-log 1.0" in result.stdout
    assert "x   Idle current" in result.stdout
    assert f"warning: plug-in {folder / 'broken.py'}: syntax error: line 1" in result.stderr


def test_a_configured_converter_brings_its_parameters_and_mode(tmp_path: Path) -> None:
    watch = tmp_path / "line1"
    watch.mkdir()
    config = validate_config(
        {
            "station": {"name": "EOL-7", "location": "Hall B"},
            "converters": [
                {
                    "name": "Line 1",
                    "converter": "table",
                    "watch_folder": str(watch),
                    "mode": "import",
                    "parameters": {"fallback_pn": "PCB-1", "columns": {"value": "Reading"}},
                }
            ],
        }
    )
    ConfigStore(InstancePaths.for_instance("default")).save(config)
    source = tmp_path / "u.csv"
    source.write_text("Name,Reading,Status\nR,2,Failed\n")
    out = tmp_path / "u.json"
    result = convert(source, "--converter", "line 1", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "converter: table 1.0 (configured converter 'Line 1')" in result.stdout
    document = json.loads(out.read_text())
    assert (document["pn"], document["machineName"], document["location"]) == (
        "PCB-1",
        "EOL-7",
        "Hall B",
    )
    assert document["result"] == "F"  # the configured Import mode keeps the status column
