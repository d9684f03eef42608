"""Auto-detection: file-name patterns first, then the content sniff, and a readable refusal."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import ClassVar

import pytest

from app.converters.atml import AtmlConverter
from app.converters.base import Converter, ConverterSource, Report
from app.converters.detect import HEAD_BYTES, DetectionError, detect, matching_pattern, sniff_score
from app.converters.table import TableConverter
from app.converters.teradyne_i3070 import TeradyneI3070Converter
from app.converters.wsjf import WsjfConverter
from app.converters.wstf import WstfConverter
from app.converters.wsxf import WsxfConverter
from app.samples import sample_path
from tests.unit.converters._support import DATA

ALL: list[type[Converter]] = [
    WsjfConverter,
    WsxfConverter,
    WstfConverter,
    AtmlConverter,
    TeradyneI3070Converter,
    TableConverter,
]


def copy(source: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(source, target)
    return target


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (sample_path("wsjf-uut-minimal.json"), "wsjf"),
        (sample_path("wsjf-uur.json"), "wsjf"),
        (sample_path("wsxf-uut.xml"), "wsxf"),
        (sample_path("wstf-example.txt"), "wstf"),
        (sample_path("atml-2.02.xml"), "atml"),
        (sample_path("atml-5.00.xml"), "atml"),
        (DATA / "i3070-batch.ict", "teradyne-i3070"),
        (DATA / "i3070-classic.ict", "teradyne-i3070"),
    ],
)
def test_every_sample_is_detected(path: Path, expected: str) -> None:
    found, reason = detect(path, ALL)
    assert found.name == expected
    assert expected in reason


def test_a_pattern_and_content_match_says_both(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("Step,Value\nR,1\n")
    found, reason = detect(path, ALL)
    assert found is TableConverter
    assert (
        reason == "the file name matches *.csv and the content looks like table (confidence 0.60)"
    )


def test_content_decides_between_converters_that_share_a_pattern(tmp_path: Path) -> None:
    table = tmp_path / "log.txt"
    table.write_text("Test;Value;Unit\nR1;1,5;V\n")
    assert detect(table, ALL)[0] is TableConverter
    wstf = copy(sample_path("wstf-example.txt"), tmp_path, "other.txt")
    found, reason = detect(wstf, ALL)
    assert found is WstfConverter
    assert reason.endswith("also matched by name: table")


def test_content_alone_chooses_when_no_pattern_matches(tmp_path: Path) -> None:
    path = copy(sample_path("wsjf-uut-minimal.json"), tmp_path, "result.dat")
    found, reason = detect(path, ALL)
    assert found is WsjfConverter
    assert reason == "the content looks like wsjf (confidence 1.00)"


def test_sure_content_beats_a_file_name_that_sees_nothing(tmp_path: Path) -> None:
    path = copy(DATA / "i3070-classic.ict", tmp_path, "board.csv")
    found, reason = detect(path, ALL)
    assert found is TeradyneI3070Converter
    assert reason.endswith("although the file name suggests table")


def test_a_lone_pattern_match_wins_even_without_a_content_match(tmp_path: Path) -> None:
    path = tmp_path / "odd.tsv"
    path.write_text("just one line\n")
    found, reason = detect(path, ALL)
    assert found is TableConverter
    assert reason == "the file name matches *.tsv"


def test_nothing_fits_says_what_was_tried(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    with pytest.raises(DetectionError) as caught:
        detect(path, ALL)
    assert str(caught.value) == (
        "cannot tell which converter reads photo.png: no converter's file pattern matches its "
        "name, and no converter recognises its content; choose one by name (known converters: "
        "atml, table, teradyne-i3070, wsjf, wstf, wsxf)"
    )
    xml = tmp_path / "other.xml"
    xml.write_text("<Inventory><Item/></Inventory>")
    with pytest.raises(DetectionError, match="the file name matches atml, wsxf but their content"):
        detect(xml, ALL)


def test_an_unreadable_file_is_a_detection_error(tmp_path: Path) -> None:
    with pytest.raises(DetectionError, match=r"cannot read missing\.csv"):
        detect(tmp_path / "missing.csv", ALL)


class _Sniffs(Converter):
    name: ClassVar[str] = "sniffs"
    patterns: ClassVar[tuple[str, ...]] = ("*",)
    seen: ClassVar[list[int]] = []

    def convert(self, source: ConverterSource) -> list[Report]:
        return []

    def sniff(self, head: bytes) -> float:
        self.seen.append(len(head))
        return 7.0  # out of range: clamped to 1


class _BrokenSniff(_Sniffs):
    name: ClassVar[str] = "broken-sniff"

    def sniff(self, head: bytes) -> float:
        raise RuntimeError("plug-in bug")


def test_sniffs_see_8_kib_and_are_clamped_and_broken_ones_count_zero(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (HEAD_BYTES * 3))
    found, _reason = detect(path, {"sniffs": _Sniffs, "broken-sniff": _BrokenSniff})
    assert found is _Sniffs
    assert _Sniffs.seen[-1] == HEAD_BYTES
    assert sniff_score(_Sniffs, b"") == 1.0
    assert sniff_score(_BrokenSniff, b"") == 0.0


def test_the_catch_all_pattern_is_not_a_match() -> None:
    assert matching_pattern(_Sniffs, "anything.csv") is None
    assert matching_pattern(TableConverter, "LOG.CSV") == "*.csv"
