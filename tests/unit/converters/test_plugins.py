"""Plug-in loading: folder files and entry points, and every way a plug-in can be broken."""

from __future__ import annotations

import io
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.converters.base import ConverterParameters, ConverterSource
from app.converters.plugins import PluginProblem, load_plugin_file, load_plugins, plugin_files
from app.converters.registry import all_converters, builtin_converters
from app.converters.wsjf import WsjfConverter
from app.service.conversion import ConversionJob, ConverterResolver, convert_file

GOOD = '''
from app.converters.base import Converter
from app.core.report import Step, UUTReport


class Base(Converter):
    """A shared base class without a name: not a converter of its own."""


class LineCount(Base):
    name = "line-count"
    version = "2.1"
    patterns = ("*.lc",)

    def convert(self, source):
        lines = source.read_text().splitlines()
        return [
            UUTReport(
                pn="PN", sn=lines[0], rev="A", process_code=10, start="2025-03-01T10:00:00Z",
                root=Step(step_type="SequenceCall", name="Main", steps=[
                    Step(step_type="ET_NLT", name="lines",
                         numeric_meas=[{"value": len(lines), "compOp": "GE", "lowLimit": 2}])
                ]),
            )
        ]

    def sniff(self, head):
        return 0.3


class Echo(Base):
    name = "echo"

    def convert(self, source):
        return []
'''


def write(folder: Path, name: str, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(code))
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "converters"


def messages(problems: list[PluginProblem]) -> dict[str, str]:
    return {Path(problem.source).name: problem.message for problem in problems}


def test_a_good_plugin_file_loads_every_converter_it_defines(folder: Path) -> None:
    write(folder, "counting.py", GOOD)
    loaded, problems = load_plugins([folder], entry_points=False)
    assert problems == []
    assert sorted(loaded) == ["echo", "line-count"]
    converter = loaded["line-count"]()
    source = ConverterSource(Path("x.lc"), io.BytesIO(b"SN-1\nb\nc\n"), ConverterParameters())
    (report,) = converter.convert(source)
    assert report.sn == "SN-1"
    assert loaded["line-count"].version == "2.1"


def test_all_converters_merges_builtins_and_plugins(folder: Path) -> None:
    write(folder, "counting.py", GOOD)
    converters, problems = all_converters([folder])
    assert problems == []
    assert {"wsjf", "table", "line-count", "echo"} <= set(converters)
    assert converters["wsjf"] is WsjfConverter


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("def broken(:\n    pass\n", "syntax error: line 1: "),
        ("import no_such_module_for_wats\n", "an import failed: No module named 'no_such_module"),
        ("raise RuntimeError('boom')\n", "failed while loading: RuntimeError: boom"),
        ("import sys\nsys.exit(3)\n", "failed while loading: SystemExit: 3"),
        ("X = 1\n", "defines no Converter subclass"),
        (
            "from app.converters.wsjf import WsjfConverter\n",  # imported, not defined here
            "defines no Converter subclass",
        ),
    ],
)
def test_a_broken_file_is_a_problem_and_the_others_still_load(
    folder: Path, code: str, expected: str
) -> None:
    broken = write(folder, "a_broken.py", code)
    write(folder, "b_good.py", GOOD)
    loaded, problems = load_plugins([folder], entry_points=False)
    assert sorted(loaded) == ["echo", "line-count"]
    assert len(problems) == 1
    assert messages(problems)["a_broken.py"].startswith(expected)
    if not expected.startswith("defines"):
        # A failed import leaves no half-initialised module behind.
        leftovers = [
            m for m in list(sys.modules.values()) if getattr(m, "__file__", "") == str(broken)
        ]
        assert leftovers == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("pass", "class Bad has no name"),
        ("name = ''", "class Bad has no name"),
        ("name = 'has space'", "named 'has space'; a converter name may only hold letters"),
        ("name = 'wsjf'", "named 'wsjf', which a built-in converter already has"),
    ],
)
def test_a_class_with_a_missing_bad_or_taken_name_is_skipped(
    folder: Path, body: str, expected: str
) -> None:
    write(
        folder,
        "mixed.py",
        f"""
        from app.converters.base import Converter

        class Bad(Converter):
            {body}

            def convert(self, source):
                return []

        class Fine(Converter):
            name = "fine"

            def convert(self, source):
                return []
        """,
    )
    converters, problems = all_converters([folder])
    assert converters["fine"].__name__ == "Fine"
    assert converters["wsjf"] is WsjfConverter  # a plug-in never replaces a built-in
    assert len(problems) == 1
    assert expected in problems[0].message


def test_a_named_class_that_does_not_implement_convert(folder: Path) -> None:
    write(
        folder,
        "abstract.py",
        """
        from app.converters.base import Converter

        class Half(Converter):
            name = "half"
        """,
    )
    loaded, problems = load_plugins([folder], entry_points=False)
    assert loaded == {}
    assert messages(problems) == {"abstract.py": "class Half ('half') does not implement convert"}


def test_two_plugins_with_one_name_the_first_file_wins(folder: Path, tmp_path: Path) -> None:
    write(folder, "a.py", GOOD)
    write(folder, "b.py", GOOD.replace('"echo"', '"echo-b"'))
    loaded, problems = load_plugins([folder], entry_points=False)
    assert loaded["line-count"].__module__.startswith("wats_station_plugin_a_")
    assert loaded["echo-b"]
    assert [p.message for p in problems] == [
        f"class LineCount is named 'line-count', which the plug-in {folder / 'a.py'} already has"
    ]
    # The same file name in a second folder is a module of its own, not a replacement.
    other = write(tmp_path / "other", "a.py", GOOD.replace('"line-count"', '"other-count"'))
    loaded_both, _problems = load_plugins([folder, other.parent], entry_points=False)
    assert loaded_both["line-count"].__module__ != loaded_both["other-count"].__module__


def test_private_and_hidden_files_and_missing_folders_are_skipped(folder: Path) -> None:
    write(folder, "_helpers.py", "raise RuntimeError('never imported')\n")
    write(folder, ".#good.py", "raise RuntimeError('never imported')\n")
    write(folder, "notes.txt", "not python\n")
    assert plugin_files([folder, folder / "missing"]) == []
    assert load_plugins([folder / "missing"], entry_points=False) == ({}, [])


def test_reloading_a_file_picks_up_its_changes(folder: Path) -> None:
    path = write(folder, "counting.py", GOOD)
    assert {cls.name for cls in load_plugin_file(path)} == {"echo", "line-count"}
    write(folder, "counting.py", GOOD.replace('"echo"', '"echo-2"'))
    assert {cls.name for cls in load_plugin_file(path)} == {"echo-2", "line-count"}


# ---------------------------------------------------------------- entry points


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path holding a fake installed distribution with entry points."""
    root = tmp_path / "site"
    info = root / "wats_fake_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wats-fake-plugins\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[wats_station.converters]\n"
        "counting = wats_fake_counting:LineCount\n"
        "whole-module = wats_fake_counting\n"
        "missing = wats_fake_missing:Converter\n"
        "not-a-converter = wats_fake_counting:GOOD_ENOUGH\n"
        "clash = wats_fake_clash:Clash\n"
    )
    (root / "wats_fake_counting.py").write_text(textwrap.dedent(GOOD) + "\nGOOD_ENOUGH = 42\n")
    (root / "wats_fake_clash.py").write_text(
        "from app.converters.base import Converter\n\n"
        "class Clash(Converter):\n"
        "    name = 'table'\n\n"
        "    def convert(self, source):\n"
        "        return []\n"
    )
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in ("wats_fake_counting", "wats_fake_clash", "wats_fake_missing"):
        sys.modules.pop(name, None)


def test_entry_points_load_and_their_problems_are_reported(site: Path) -> None:
    converters, problems = all_converters()
    assert converters["line-count"].__module__ == "wats_fake_counting"
    assert converters["echo"].__module__ == "wats_fake_counting"  # from the whole module
    assert converters["table"] is builtin_converters()["table"]
    found = {problem.source: problem.message for problem in problems}
    assert found == {
        "entry point missing (wats_fake_missing:Converter)": (
            "an import failed: No module named 'wats_fake_missing'"
        ),
        "entry point not-a-converter (wats_fake_counting:GOOD_ENOUGH)": (
            "wats_fake_counting:GOOD_ENOUGH is not a Converter subclass"
        ),
        "entry point whole-module (wats_fake_counting)": (
            "class LineCount is named 'line-count', which the plug-in entry point counting "
            "(wats_fake_counting:LineCount) already has"
        ),
        "entry point clash (wats_fake_clash:Clash)": (
            "class Clash is named 'table', which a built-in converter already has"
        ),
    }


def test_a_folder_plugin_is_loaded_before_an_entry_point_of_the_same_name(
    site: Path, folder: Path
) -> None:
    write(folder, "mine.py", GOOD)
    converters, problems = all_converters([folder])
    assert converters["line-count"].__module__.startswith("wats_station_plugin_mine_")
    assert any("entry point counting" in problem.source for problem in problems)


# ---------------------------------------------------------------- in the conversion child


def test_the_conversion_child_resolves_folder_plugins(folder: Path, tmp_path: Path) -> None:
    # The worker's children look converters up with ConverterResolver(plugin_dirs).
    write(folder, "counting.py", GOOD)
    data = tmp_path / "unit.lc"
    data.write_text("SN-77\nline\n")
    job = ConversionJob(str(data), "line-count", ConverterParameters(), "STATION-1")
    result = convert_file(job, ConverterResolver([folder]))
    assert result.ok, result.failure
    assert result.converter_version == "2.1"
    (converted,) = result.reports
    assert (converted.header.sn, converted.header.result) == ("SN-77", "P")
    assert converted.header.station == "STATION-1"


def test_the_conversion_child_resolves_the_table_converter(tmp_path: Path) -> None:
    data = tmp_path / "U9.csv"
    data.write_text("Step,Value,Low,High\nR,7,4,6\n")
    job = ConversionJob(str(data), "table", ConverterParameters(), "STATION-1")
    result = convert_file(job, ConverterResolver())
    assert result.ok, result.failure
    (converted,) = result.reports
    assert (converted.header.sn, converted.header.result) == ("U9", "F")
    assert converted.header.failing_step_name == "R"
