"""Conversion pool throughput: small WSJF files through N warm child processes.

Prints ONE JSON object:
- pool_files_per_s: `--files` small generated WSJF files converted (read, hash, parse,
  finalize, serialise, back to the parent) through `ConversionPool(size=--size)`, all
  submitted at once the way a busy watch folder feeds it (target: well above 300/s);
- single_file_ms_p50: one file at a time into an idle, warm pool (latency of one hand-off);
- child_start_s: how long the first file waited for its child to start (spawn + imports);
- child_rss_mb: resident memory of each child after the run;
- in_process_files_per_s: the same conversion in this process, for comparison.

    .venv/bin/python bench/conversion_pool.py [--files 3000] [--size 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.converters.base import ConverterParameters
from app.samples.generate import generated_uut_bytes
from app.service.conversion import ConversionJob, ConversionPool, convert_file
from bench._harness import rss_mb


def job(path: Path) -> ConversionJob:
    return ConversionJob(str(path), "wsjf", ConverterParameters(), "BENCH-PC")


async def measure(folder: Path, files: int, size: int) -> dict[str, object]:
    paths = []
    for index in range(files):
        path = folder / f"f{index:06d}.json"
        path.write_bytes(generated_uut_bytes(index, seed=7))
        paths.append(path)
    pool = ConversionPool(size=size)
    try:
        started = time.perf_counter()
        first = await pool.convert(job(paths[0]))
        child_start_s = time.perf_counter() - started
        assert first.ok, first.failure
        # Warm every child before timing the burst.
        await asyncio.gather(*(pool.convert(job(p)) for p in paths[: size * 4]))
        started = time.perf_counter()
        results = await asyncio.gather(*(pool.convert(job(p)) for p in paths))
        burst_s = time.perf_counter() - started
        assert all(r.ok for r in results)
        singles = []
        for path in paths[:200]:
            started = time.perf_counter()
            await pool.convert(job(path))
            singles.append((time.perf_counter() - started) * 1000)
        children = [round(rss_mb(pid), 1) for pid in pool.child_pids()]
    finally:
        await pool.close()
    started = time.perf_counter()
    for path in paths[:500]:
        convert_file(job(path))
    in_process = 500 / (time.perf_counter() - started)
    return {
        "files": files,
        "pool_size": size,
        "file_bytes_avg": round(sum(p.stat().st_size for p in paths) / files),
        "pool_files_per_s": round(files / burst_s),
        "single_file_ms_p50": round(statistics.median(singles), 2),
        "child_start_s": round(child_start_s, 2),
        "child_rss_mb": children,
        "in_process_files_per_s": round(in_process),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--size", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        print(json.dumps(asyncio.run(measure(Path(folder), args.files, args.size))))


if __name__ == "__main__":
    main()
