"""Frozen-executable benchmark: what a station gets from the one-file build.

Prints ONE JSON object:
- exe_size_mb: size of the one-file executable in MiB (target <= 120);
- start_to_tray_s: from starting the frozen GUI to its tray icon being shown, median of
  --runs starts, each a fresh one-file unpack (target <= 3 s);
- worker_idle_rss_mb: resident memory of the frozen worker the GUI spawned (its Python
  process plus its one-file bootloader), idle after converting and uploading a file, the
  highest of the runs (target <= 100 MB);
- build_s: wall time of the PyInstaller build (`python -m installer.build`), or the recorded
  one in dist/build-info.json when --exe reuses a build (null if none is recorded).
Also: start_to_worker_s (GUI start to the worker answering), runs, and the targets.

Run: `.venv/bin/python bench/frozen.py [--exe dist/wats-station] [--runs 3]` (Linux; builds
first without --exe). Each run starts the GUI offscreen in a scratch folder with the local
WATS server, closes it and stops its worker (installer/smoke.py does the work).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from installer.build import build_exe, read_build_info, size_mb  # noqa: E402
from installer.smoke import FrozenCopy, run_gui  # noqa: E402

TARGETS = {"exe_size_mb": 120, "start_to_tray_s": 3.0, "worker_idle_rss_mb": 100}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", type=Path, help="reuse this build instead of building")
    parser.add_argument("--runs", type=int, default=3, help="GUI starts to measure (default 3)")
    args = parser.parse_args()
    if not sys.platform.startswith("linux"):
        print("bench/frozen.py measures the Linux one-file build", file=sys.stderr)
        return 2
    if args.exe is None:
        print("building the executable (a few minutes)...", file=sys.stderr)
        built = build_exe()
        exe, build_s = built.exe, built.build_s
    else:
        exe = args.exe
        recorded = read_build_info(exe.parent) or {}
        value = recorded.get("build_s")
        build_s = float(value) if isinstance(value, int | float) else None
    tray, worker, rss = [], [], []
    for index in range(max(1, args.runs)):
        with tempfile.TemporaryDirectory(prefix="wats-bench-frozen-") as tmp:
            run = run_gui(FrozenCopy.create(exe, Path(tmp)))
        print(
            f"run {index + 1}: tray {run.start_to_tray_s} s, worker {run.start_to_worker_s} s, "
            f"idle worker {run.worker_idle_rss_mb} MiB",
            file=sys.stderr,
        )
        tray.append(run.start_to_tray_s)
        worker.append(run.start_to_worker_s)
        rss.append(run.worker_idle_rss_mb)
    result = {
        "exe_size_mb": size_mb(exe),
        "start_to_tray_s": round(statistics.median(tray), 2),
        "worker_idle_rss_mb": max(rss),
        "build_s": build_s,
        "start_to_worker_s": round(statistics.median(worker), 2),
        "runs": len(tray),
        "targets": TARGETS,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
