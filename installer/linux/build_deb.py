"""Build the Linux package (`.deb`) around the one-file executable, with dpkg-deb only.

    python installer/linux/build_deb.py --exe dist/wats-station --out dist

What the package holds (and nothing else):

    /opt/wats-station/wats-station                     the executable
    /usr/bin/wats-station -> ../../opt/wats-station/wats-station   (relative: works in any root)
    /usr/share/applications/wats-station.desktop       the menu entry (GUI with its tray)
    /usr/share/icons/hicolor/<size>/apps/wats-station.png, .../scalable/apps/wats-station.svg
    /usr/share/doc/wats-station/copyright

It has no maintainer scripts: installing registers nothing (no service, no autostart; each
user chooses that with `wats-station service install`), and removing or purging never
touches anyone's config, queue or logs, which live in the users' home folders. The desktop
and icon caches are refreshed by the dpkg triggers of desktop-file-utils and
hicolor-icon-theme where those are installed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from installer import build_resources  # noqa: E402

PACKAGE = "wats-station"
INSTALL_DIR = Path("opt") / PACKAGE
MAINTAINER = "WATS Station project <wats-station@localhost>"
# What the executable needs from the system: PyInstaller bundles Python, Qt and their
# libraries but leaves out the C library and the graphics stack (they must match the
# machine's drivers), plus fontconfig and the X keyboard/cursor libraries Qt's xcb
# platform plug-in loads at run time.
DEPENDS = (
    "libc6 (>= 2.31)",
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb-cursor0 | libxcb-xinerama0",
    "libdbus-1-3",
)
# The menu entry lives with the other packaging resources (resources/linux/).
DESKTOP_ENTRY = (ROOT / "resources" / "linux" / "wats-station.desktop").read_text(encoding="utf-8")
COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: wats-station

Files: *
Copyright: WATS Station project
License: proprietary
 All rights reserved. The executable bundles Python (PSF License), Qt and PySide6
 (LGPL-3.0) and other open-source libraries under their own licences.
"""


def debian_version(version: str) -> str:
    """A PEP 440 version as Debian orders it: pre-releases sort before the release."""
    match = re.fullmatch(r"(\d+(?:\.\d+)*)(?:\.?(a|b|rc|dev)\.?(\d*))?(?:\+(.+))?", version)
    if match is None:
        raise ValueError(f"cannot turn version {version!r} into a Debian version")
    release, pre, number, local = match.groups()
    text = release + (f"~{pre}{number}" if pre else "")
    return text + (f"+{re.sub(r'[^A-Za-z0-9.]', '.', local)}" if local else "")


def host_architecture() -> str:
    result = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def control_file(version: str, arch: str, installed_kib: int) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {debian_version(version)}\n"
        f"Architecture: {arch}\n"
        f"Maintainer: {MAINTAINER}\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        "Section: utils\n"
        "Priority: optional\n"
        "Description: WATS test-station client\n"
        " Watches the folders where testers write result files, converts each file to\n"
        " a WATS report, keeps reports in a crash-safe local queue and uploads them to\n"
        " the WATS server. Installing registers nothing: run\n"
        " `wats-station service install` to start the worker at login.\n"
    )


@dataclass(frozen=True)
class DebContents:
    """Paths inside the package, relative to its root."""

    executable: Path = INSTALL_DIR / PACKAGE
    command: Path = Path("usr/bin") / PACKAGE
    desktop: Path = Path("usr/share/applications") / f"{PACKAGE}.desktop"
    copyright: Path = Path("usr/share/doc") / PACKAGE / "copyright"


def stage(exe: Path, staging: Path, *, version: str, arch: str) -> DebContents:
    """Lay out the package tree under `staging` (which must be empty or missing)."""
    contents = DebContents()
    if not exe.is_file():
        raise FileNotFoundError(f"no executable at {exe}; build it first (build.spec)")
    staging.mkdir(parents=True, exist_ok=True)
    for folder in ("DEBIAN", INSTALL_DIR, "usr/bin", "usr/share/applications"):
        (staging / folder).mkdir(parents=True, exist_ok=True)
    target = staging / contents.executable
    shutil.copyfile(exe, target)
    target.chmod(0o755)
    os.symlink(Path("../..") / contents.executable, staging / contents.command)
    (staging / contents.desktop).write_text(DESKTOP_ENTRY, encoding="utf-8")
    (staging / contents.desktop).chmod(0o644)
    with tempfile.TemporaryDirectory(prefix="wats-deb-icons-") as tmp:
        made = build_resources.generate(Path(tmp), version=version)
        icons = staging / "usr/share/icons/hicolor"
        for size, png in made.pngs.items():
            folder = icons / f"{size}x{size}" / "apps"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(png, folder / f"{PACKAGE}.png")
        (icons / "scalable/apps").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(made.svg, icons / "scalable/apps" / f"{PACKAGE}.svg")
    doc = staging / contents.copyright
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(COPYRIGHT, encoding="utf-8")
    for path in staging.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
        elif path.is_file() and not path.is_symlink() and path != target:
            path.chmod(0o644)
    size = sum(p.stat().st_size for p in staging.rglob("*") if p.is_file() and not p.is_symlink())
    (staging / "DEBIAN" / "control").write_text(
        control_file(version, arch, (size + 1023) // 1024), encoding="utf-8"
    )
    return contents


def build_deb(
    exe: Path, out_dir: Path, *, version: str | None = None, arch: str | None = None
) -> Path:
    """Build `<out_dir>/wats-station_<version>_<arch>.deb` and return its path."""
    version = version or build_resources.read_version()
    arch = arch or host_architecture()
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{PACKAGE}_{debian_version(version)}_{arch}.deb"
    with tempfile.TemporaryDirectory(prefix="wats-deb-") as tmp:
        staging = Path(tmp) / "root"
        stage(exe, staging, version=version, arch=arch)
        # gzip: the executable is compressed already, so xz would only cost build time.
        subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(staging), str(deb)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the wats-station .deb with dpkg-deb.")
    parser.add_argument("--exe", type=Path, required=True, help="the one-file executable")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--version", help="package version (default: app.__version__)")
    parser.add_argument("--arch", help="Debian architecture (default: this machine's)")
    args = parser.parse_args(argv)
    if shutil.which("dpkg-deb") is None:
        print("dpkg-deb is not installed (apt-get install dpkg)", file=sys.stderr)
        return 1
    try:
        deb = build_deb(args.exe, args.out, version=args.version, arch=args.arch)
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"could not build the package: {exc}", file=sys.stderr)
        return 1
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
