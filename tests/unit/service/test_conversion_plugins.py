"""The conversion children resolve plug-ins exactly as `load_plugins` (CLI, GUI) does."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.converters.base import ConverterParameters
from app.converters.registry import all_converters
from app.converters.wsjf import WsjfConverter
from app.service.conversion import ConversionJob, ConverterResolver, convert_file
from app.service.pipeline import default_patterns

CONVERTER = """
from typing import ClassVar

from app.converters.base import ConversionError, Converter, ConverterSource, Report


class {cls}(Converter):
    name: ClassVar[str] = {name!r}
    version: ClassVar[str] = {version!r}
    patterns: ClassVar[tuple[str, ...]] = ("*.lc",)

    def convert(self, source: ConverterSource) -> list[Report]:
        raise ConversionError("only resolved in these tests")
"""


def plugin(folder: Path, file: str, name: str, version: str = "1.0", cls: str = "Mine") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(CONVERTER.format(cls=cls, name=name, version=version))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "converters"


def test_the_first_plugin_of_a_name_wins_as_in_load_plugins(folder: Path) -> None:
    plugin(folder, "a_first.py", "twice", "1.0")
    plugin(folder, "b_second.py", "twice", "2.0")
    resolved = ConverterResolver([folder]).resolve("twice")
    converters, problems = all_converters([folder])
    assert resolved.version == "1.0"
    assert converters["twice"].version == "1.0"
    assert [Path(problem.source).name for problem in problems] == ["b_second.py"]


def test_a_plugin_never_replaces_a_builtin(folder: Path) -> None:
    plugin(folder, "fake_wsjf.py", "wsjf")
    assert ConverterResolver([folder]).resolve("wsjf") is WsjfConverter


def test_an_unknown_name_lists_the_plugin_problems(folder: Path, tmp_path: Path) -> None:
    plugin(folder, "fake_wsjf.py", "wsjf")
    (folder / "broken.py").write_text("def oops(:\n")
    plugin(folder, "good.py", "good-one")
    data = tmp_path / "unit.lc"
    data.write_text("x")
    job = ConversionJob(str(data), "nope", ConverterParameters(), "STATION-1")
    result = convert_file(job, ConverterResolver([folder]))
    assert result.failure is not None
    message = result.failure.message
    assert message.startswith("no converter named 'nope'; known converters: ")
    assert "good-one" in message
    assert "broken.py: syntax error: line 1" in message
    assert "'wsjf', which a built-in converter already has" in message


def test_a_plugin_that_loads_is_used_despite_a_broken_neighbour(
    folder: Path, tmp_path: Path
) -> None:
    plugin(folder, "good.py", "good-one", "3.1")
    (folder / "broken.py").write_text("raise SystemExit(3)\n")
    data = tmp_path / "unit.lc"
    data.write_text("x")
    job = ConversionJob(str(data), "good-one", ConverterParameters(), "STATION-1")
    result = convert_file(job, ConverterResolver([folder]))
    assert result.converter_version == "3.1"
    assert result.failure is not None
    assert result.failure.message == "only resolved in these tests"


def test_default_patterns_of_builtins_plugins_and_unknown_names(folder: Path) -> None:
    plugin(folder, "good.py", "good-one")
    assert default_patterns("wsjf") == WsjfConverter.patterns
    assert default_patterns("good-one", [folder]) == ("*.lc",)
    assert default_patterns("good-one") == ("*",)
    assert default_patterns("nope", [folder]) == ("*",)
