"""converters.list/test and files.failed/retry against a real worker."""

from __future__ import annotations

from pathlib import Path

from app.core.config import ConverterConfig
from app.ipc.protocol import ErrorCode
from app.samples import sample_path
from tests.fixtures.worker import Station, wait_for
from tests.integration.worker_ipc.support import error_of, make_failed_file

PLUGIN = """
from app.converters.base import ConversionError, Converter


class Broken(Converter):
    name = "always_broken"
    version = "0.1"
    description = "fails every file"
    patterns = ("*.brk",)

    def convert(self, source):
        raise ConversionError("this converter refuses everything", line=7)
"""


def test_converters_list_has_builtins_plugins_and_problems(station: Station) -> None:
    station.paths.plugin_dir.mkdir(parents=True, exist_ok=True)
    (station.paths.plugin_dir / "broken.py").write_text(PLUGIN)
    (station.paths.plugin_dir / "syntax.py").write_text("def (:\n")
    station.configure()
    station.start()
    reply = station.call("converters.list")
    by_name = {c["name"]: c for c in reply["available"]}
    assert {"wsjf", "wsxf", "wstf", "atml", "always_broken"} <= set(by_name)
    wsjf = by_name["wsjf"]
    assert wsjf["source"] == "builtin"
    assert wsjf["patterns"]
    keys = {p["key"] for p in wsjf["parameters"]}
    assert {"fallback_pn", "fallback_process_code", "encoding"} <= keys
    assert set(wsjf["parameters"][0]) == {"key", "label", "kind", "default", "choices", "help"}
    assert by_name["always_broken"]["source"] == "plugin"
    assert by_name["always_broken"]["patterns"] == ["*.brk"]
    assert any("syntax.py" in p["source"] for p in reply["problems"])


def test_converters_test_returns_reports_and_summary(station: Station, tmp_path: Path) -> None:
    station.configure()
    station.start()
    reply = station.call(
        "converters.test",
        {"converter": "wsjf", "path": str(sample_path("wsjf-uut-minimal.json"))},
        timeout=60,
    )
    assert reply["ok"] is True
    assert reply["converter"] == "wsjf"
    (report,) = reply["reports"]
    (summary,) = reply["summary"]
    assert report["sn"] == "FATTest-299"
    assert summary["id"] == report["id"]
    assert summary["type"] == "T"
    assert summary["sn"] == "FATTest-299"
    assert summary["result"] in ("P", "F")
    assert summary["steps"] > 3
    # Nothing was queued: a test conversion is only a preview.
    assert station.call("queue.stats")["queued"] == 0


def test_converters_test_reports_conversion_errors(station: Station, tmp_path: Path) -> None:
    station.paths.plugin_dir.mkdir(parents=True, exist_ok=True)
    (station.paths.plugin_dir / "broken.py").write_text(PLUGIN)
    station.configure()
    station.start()
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    failed = station.call("converters.test", {"converter": "wsjf", "path": str(bad)}, timeout=60)
    assert failed["ok"] is False
    assert "JSON" in failed["error"]

    plugin = station.call(
        "converters.test", {"converter": "always_broken", "path": str(bad)}, timeout=60
    )
    assert plugin == {
        "ok": False,
        "error": "this converter refuses everything",
        "line": 7,
        "kind": "error",
    }
    unknown = station.call("converters.test", {"converter": "nope", "path": str(bad)})
    assert unknown["ok"] is False
    assert "no converter named 'nope'" in unknown["error"]

    missing = error_of(
        station, "converters.test", {"converter": "wsjf", "path": str(tmp_path / "gone.json")}
    )
    assert missing.code == ErrorCode.INVALID_PARAMS
    assert missing.message.startswith("path:")
    relative = error_of(station, "converters.test", {"converter": "wsjf", "path": "a.json"})
    assert "absolute" in relative.message
    params = error_of(
        station,
        "converters.test",
        {"converter": "wsjf", "path": str(bad), "parameters": {"fallback_process_code": "x"}},
    )
    assert params.code == ErrorCode.INVALID_PARAMS
    assert "fallback_process_code" in params.message
    mode = error_of(
        station, "converters.test", {"converter": "wsjf", "path": str(bad), "mode": "x"}
    )
    assert "params.mode" in mode.message


def test_failed_files_are_listed_and_retried(station: Station, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    config = station.configure()
    # Disabled, so the pipeline leaves the retried file where this test can see it.
    converter = ConverterConfig(name="Line 1", converter="wsjf", watch_folder=folder, enabled=False)
    station.store.save(config.model_copy(update={"converters": [converter]}))
    key_a, error_a = make_failed_file(station, "Line 1", folder, "a.json", b"{ broken a")
    key_b, error_b = make_failed_file(station, "Line 1", folder, "b.json", b"{ broken b")
    (folder / "gone.json").write_bytes(b"{ gone")
    key_gone, error_gone = make_failed_file(station, "Line 1", folder, "gone.json", b"{ gone 2")
    error_gone.unlink()
    station.start()

    failed = {item["key"]: item for item in station.call("files.failed")}
    assert set(failed) == {key_a, key_b, key_gone}
    assert failed[key_a]["converter"] == "Line 1"
    assert failed[key_a]["path"] == str(folder / "a.json")
    assert failed[key_a]["error_file"] == str(error_a)
    assert failed[key_a]["error"] == "not valid JSON: line 1"
    assert failed[key_a]["failed_at"] > 0
    assert failed[key_gone]["error_file"] is None

    reply = station.call("files.retry", {"keys": [key_a, key_gone, "nope"]})
    assert reply["retried"] == 1
    problems = {p["key"]: p["message"] for p in reply["problems"]}
    assert "no longer in the Error folder" in problems[key_gone]
    assert "no failed file" in problems["nope"]
    assert (folder / "a.json").read_bytes() == b"{ broken a"
    assert not error_a.exists()
    assert not error_a.with_name("a.json.error.txt").exists()
    assert error_b.exists()
    assert [item["key"] for item in station.call("files.failed")] == [key_b]
    assert error_of(station, "files.retry", {"keys": []}).code == ErrorCode.INVALID_PARAMS


def test_a_retried_file_is_converted_again(station: Station, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    station.configure(folders={"Line 1": folder})
    good = sample_path("wsjf-uut-minimal.json").read_bytes()
    # The file "failed" earlier (say, a converter bug since fixed): its content is fine now.
    key, _ = make_failed_file(station, "Line 1", folder, "unit.json", good)
    station.start()
    assert station.call("files.retry", {"keys": [key]})["retried"] == 1
    wait_for(lambda: station.call("queue.stats")["queued"] == 1, 15, what="the file queued")
    assert station.call("files.failed") == []
