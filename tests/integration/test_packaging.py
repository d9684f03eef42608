"""`wats-station selftest` from source, and the packaging pieces that run quickly: icons from
the SVG, the .deb installed into a scratch root, the NSIS script compiled.

The frozen executable itself is built and smoke-tested by scripts/build-and-smoke (CI runs it
after the tests); these tests keep its parts honest without a PyInstaller build.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from installer.build_resources import ICO_SIZES, generate, read_version

pytestmark = pytest.mark.build
REPO = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


def run_selftest(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATS_STATION_")}
    return subprocess.run(
        [sys.executable, "-m", "app", "selftest", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def check_lines(stdout: str) -> dict[str, str]:
    """{check name: PASS or FAIL} from the selftest's output."""
    return {
        line.split()[1]: line.split()[0]
        for line in stdout.splitlines()
        if line.startswith(("PASS ", "FAIL "))
    }


def test_selftest_passes_every_check_from_source_and_cleans_up() -> None:
    result = run_selftest()
    assert result.returncode == 0, result.stdout + result.stderr
    assert check_lines(result.stdout) == dict.fromkeys(
        [
            "modules",
            "runtime",
            "converters",
            "plug-ins",
            "server",
            "worker",
            "ipc",
            "upload",
            "stop",
        ],
        "PASS",
    )
    assert result.stdout.rstrip().endswith("selftest passed: 9 checks")
    folder = result.stdout.split("working in ", 1)[1].splitlines()[0].strip()
    assert not Path(folder).exists()


def test_selftest_fails_naming_the_checks_when_the_worker_does_not_answer_in_time() -> None:
    result = run_selftest("--timeout", "0.001")
    assert result.returncode == 1
    lines = check_lines(result.stdout)
    assert lines["modules"] == "PASS"
    assert lines["worker"] == "FAIL"
    assert lines["ipc"] == lines["upload"] == lines["stop"] == "FAIL"
    assert "not run: worker failed" in result.stdout
    assert "selftest FAILED: 4 of 9 checks (worker, ipc, upload, stop)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_icons_and_version_resource_are_generated_from_the_svg_and_version(tmp_path: Path) -> None:
    made = generate(tmp_path)
    assert made.version == read_version()
    data = made.ico.read_bytes()
    count = struct.unpack_from("<HHH", data)[2]
    assert count == len(ICO_SIZES)
    for index in range(count):
        length, offset = struct.unpack_from("<II", data, 6 + 16 * index + 8)
        assert data[offset : offset + 8] == PNG
        assert length > 100
    assert made.icns.read_bytes()[:4] == b"icns"
    for size, png in made.pngs.items():
        header = png.read_bytes()
        assert header[:8] == PNG
        width, height = struct.unpack(">II", header[16:24])
        assert (width, height) == (size, size)
    assert "filevers=(" in made.version_info.read_text(encoding="utf-8")


@pytest.fixture
def stand_in_exe(tmp_path: Path) -> Path:
    """A stand-in for the frozen executable: answers --version like the real one."""
    exe = tmp_path / "wats-station"
    exe.write_text(f'#!/bin/sh\necho "wats-station {read_version()}"\n', encoding="utf-8")
    exe.chmod(0o755)
    return exe


needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None, reason="needs dpkg"
)


@needs_dpkg
def test_deb_installs_runs_and_purges_leaving_user_data(stand_in_exe: Path, tmp_path: Path) -> None:
    from installer.linux.build_deb import build_deb
    from installer.smoke import check_deb

    deb = build_deb(stand_in_exe, tmp_path / "out")
    assert deb.name == f"wats-station_{read_version()}_{deb.name.rsplit('_', 1)[1]}"
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    assert "./usr/bin/wats-station -> ../../opt/wats-station/wats-station" in listing
    assert "./usr/share/icons/hicolor/256x256/apps/wats-station.png" in listing
    detail = check_deb(deb, tmp_path / "root", expect_version=read_version())
    assert f"`wats-station {read_version()}`" in detail
    assert "user data kept" in detail


@needs_dpkg
def test_deb_check_fails_when_the_installed_binary_reports_another_version(
    stand_in_exe: Path, tmp_path: Path
) -> None:
    from installer.linux.build_deb import build_deb
    from installer.smoke import SmokeFailure, check_deb

    deb = build_deb(stand_in_exe, tmp_path / "out")
    with pytest.raises(SmokeFailure, match=r"expected 99\.0"):
        check_deb(deb, tmp_path / "root", expect_version="99.0")


@pytest.mark.skipif(shutil.which("makensis") is None, reason="makensis is not installed")
def test_nsis_script_compiles_around_a_stand_in_payload(tmp_path: Path) -> None:
    from installer.smoke import compile_nsis

    setup = compile_nsis(tmp_path)
    assert setup.name == f"wats-station-{read_version()}-setup.exe"
    assert setup.read_bytes()[:2] == b"MZ"
