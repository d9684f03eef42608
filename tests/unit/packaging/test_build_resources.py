"""Icons and version resources generated for the executable and installers (no Qt here:
the containers are built from given PNG bytes)."""

from __future__ import annotations

import ast
import struct

import pytest

from installer.build_resources import (
    ICNS_TYPES,
    icns_bytes,
    ico_bytes,
    read_version,
    version_tuple,
    windows_version_info,
)

PNG = b"\x89PNG\r\n\x1a\n"


def fake_png(size: int) -> bytes:
    return PNG + size.to_bytes(4, "big") * 3


@pytest.mark.parametrize(
    ("version", "numbers"),
    [
        ("0.1.0", (0, 1, 0, 0)),
        ("1.2.3.4", (1, 2, 3, 4)),
        ("2.0rc1", (2, 0, 0, 0)),
        ("3.1.dev4", (3, 1, 0, 0)),
        ("7", (7, 0, 0, 0)),
        ("1.2.3.4.5", (1, 2, 3, 4)),
    ],
)
def test_windows_gets_four_numbers_from_the_release_part(
    version: str, numbers: tuple[int, ...]
) -> None:
    assert version_tuple(version) == numbers


@pytest.mark.parametrize("version", ["", "v1.0", "1.70000.0"])
def test_versions_windows_cannot_hold_are_refused(version: str) -> None:
    with pytest.raises(ValueError, match="version"):
        version_tuple(version)


def test_the_version_comes_from_app_init() -> None:
    import app

    assert read_version() == app.__version__


def test_version_resource_carries_the_numbers_and_strings() -> None:
    text = windows_version_info("1.4.2rc1")
    calls: dict[str, list[object]] = {}

    def record(name: str):  # type: ignore[no-untyped-def]
        def build(*args: object, **kwargs: object) -> str:
            calls.setdefault(name, []).append((args, kwargs))
            return name

        return build

    names = ["VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct",
             "VarFileInfo", "VarStruct"]  # fmt: skip
    tree = ast.parse(text, mode="eval")  # valid Python, as PyInstaller evaluates it
    eval(compile(tree, "version_info", "eval"), {n: record(n) for n in names})
    fixed = calls["FixedFileInfo"][0][1]
    assert isinstance(fixed, dict)
    assert fixed["filevers"] == (1, 4, 2, 0)
    assert fixed["prodvers"] == (1, 4, 2, 0)
    strings = {args[0]: args[1] for args, _ in calls["StringStruct"]}  # type: ignore[index]
    assert strings["ProductVersion"] == "1.4.2rc1"
    assert strings["FileVersion"] == "1.4.2.0"
    assert strings["OriginalFilename"] == "wats-station.exe"
    assert strings["ProductName"] == "WATS Station"


def test_ico_holds_one_png_entry_per_size_at_the_right_offsets() -> None:
    pngs = {16: fake_png(16), 48: fake_png(48), 256: fake_png(256)}
    data = ico_bytes(pngs)
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind, count) == (0, 1, 3)
    seen = {}
    for index in range(count):
        w, h, _, _, planes, bits, length, offset = struct.unpack_from(
            "<BBBBHHII", data, 6 + 16 * index
        )
        size = 256 if w == 0 else w
        assert (w, h, planes, bits) == (w, w, 1, 32)
        seen[size] = data[offset : offset + length]
    assert seen == pngs


def test_ico_refuses_sizes_above_256() -> None:
    with pytest.raises(ValueError, match=r"1\.\.256"):
        ico_bytes({512: fake_png(512)})


def test_icns_chunks_carry_the_png_for_each_type() -> None:
    pngs = {size: fake_png(size) for size in ICNS_TYPES}
    data = icns_bytes(pngs)
    assert data[:4] == b"icns"
    assert struct.unpack_from(">I", data, 4)[0] == len(data)
    offset, chunks = 8, {}
    while offset < len(data):
        kind, length = data[offset : offset + 4], struct.unpack_from(">I", data, offset + 4)[0]
        chunks[kind] = data[offset + 8 : offset + length]
        offset += length
    assert chunks == {ICNS_TYPES[size]: png for size, png in pngs.items()}
