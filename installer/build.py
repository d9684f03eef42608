"""Build the single executable with PyInstaller (build.spec) and time it.

    python -m installer.build [--dist DIR]

Writes `<dist>/wats-station` (`.exe` on Windows; `WATS Station.app` on macOS) and
`<dist>/build-info.json` with the build time and size, which bench/frozen.py reports.
PyInstaller's output goes to `build/pyinstaller.log`; on failure its tail is printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
LOG = ROOT / "build" / "pyinstaller.log"
INFO_FILE = "build-info.json"


class BuildError(RuntimeError):
    """PyInstaller failed; `str()` holds the end of its output."""


@dataclass(frozen=True)
class BuildResult:
    exe: Path
    build_s: float
    exe_size_mb: float
    version: str

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["exe"] = str(self.exe)
        return data


def executable_in(dist: Path, platform: str = sys.platform) -> Path:
    """Where the build puts the program on `platform`."""
    if platform == "win32":
        return dist / "wats-station.exe"
    if platform == "darwin":
        return dist / "WATS Station.app"
    return dist / "wats-station"


def size_mb(path: Path) -> float:
    """Size in MiB of a file, or of everything in a folder (an app bundle)."""
    if path.is_dir():
        total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    else:
        total = path.stat().st_size
    return round(total / 2**20, 1)


def pyinstaller_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("PyInstaller") is not None


def build_exe(dist: Path = DIST, work: Path = WORK, log: Path = LOG) -> BuildResult:
    """Run PyInstaller on build.spec from a clean work folder; BuildError if it fails."""
    from installer.build_resources import read_version

    if not pyinstaller_available():
        raise BuildError("PyInstaller is not installed: pip install -e '.[build]'")
    shutil.rmtree(work, ignore_errors=True)  # a full analysis every time: build_s is honest
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(dist),
        "--workpath",
        str(work),
        str(SPEC),
    ]
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        result = subprocess.run(
            command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    build_s = round(time.perf_counter() - started, 1)
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
        raise BuildError(f"PyInstaller failed (exit {result.returncode}):\n" + "\n".join(tail))
    exe = executable_in(dist)
    if not exe.exists():
        raise BuildError(f"PyInstaller finished but {exe} is missing")
    built = BuildResult(exe, build_s, size_mb(exe), read_version())
    (dist / INFO_FILE).write_text(json.dumps(built.to_json(), indent=2), encoding="utf-8")
    return built


def read_build_info(dist: Path = DIST) -> dict[str, object] | None:
    try:
        data = json.loads((dist / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the WATS Station executable.")
    parser.add_argument("--dist", type=Path, default=DIST, help="output folder (dist/)")
    args = parser.parse_args(argv)
    try:
        built = build_exe(args.dist)
    except BuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"built {built.exe} ({built.exe_size_mb} MiB) in {built.build_s} s")
    return 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
