"""Plug-ins and the table converter inside the worker's real conversion child processes."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.converters.base import ConverterParameters
from app.service.conversion import ConversionJob, ConversionPool

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[2] / "examples" / "plugins"


def job(path: Path, converter: str) -> ConversionJob:
    return ConversionJob(str(path), converter, ConverterParameters(), "CHILD-STATION")


async def test_a_spawned_child_converts_with_a_folder_plugin_and_the_table(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "converters"
    folder.mkdir()
    shutil.copy(EXAMPLE_PLUGIN / "keyvalue_log.py", folder)
    table = tmp_path / "U5.csv"
    table.write_text("Step;Value;Low;High\nR;1,5;1;2\n")
    pool = ConversionPool(size=1, timeout_s=30.0, plugin_dirs=[folder])
    try:
        from_plugin = await pool.convert(job(EXAMPLE_PLUGIN / "sample.kv", "keyvalue-log"))
        from_table = await pool.convert(job(table, "table"))
        child = pool.child_pids()
    finally:
        await pool.close()
    assert child, "the conversion ran in a child process"
    assert from_plugin.ok, from_plugin.failure
    (plugin_report,) = from_plugin.reports
    assert (plugin_report.header.sn, plugin_report.header.result) == ("PCB-000123", "F")
    assert plugin_report.header.failing_step_name == "Idle current"
    assert plugin_report.header.station == "CHILD-STATION"
    assert from_table.ok, from_table.failure
    (table_report,) = from_table.reports
    assert (table_report.header.sn, table_report.header.result) == ("U5", "P")
