"""Helpers for the converter tests: run a converter on bytes or a file, find steps by path."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from app.converters.base import Converter, ConverterParameters, ConverterSource, Report
from app.core.report import Step, UUTReport, iter_steps

DATA = Path(__file__).resolve().parent / "data"


def run(
    converter: Converter,
    data: bytes | Path,
    *,
    mode: str = "active",
    path: Path | None = None,
    **params: Any,
) -> list[Report]:
    """Convert `data` (bytes, or a file's path) with `params` as the converter's parameters."""
    if isinstance(data, Path):
        path = path or data
        data = data.read_bytes()
    parameters = ConverterParameters.from_mapping(params, mode=mode)  # type: ignore[arg-type]
    source = ConverterSource(path or Path("input"), io.BytesIO(data), parameters)
    return converter.convert(source)


def only_uut(reports: list[Report]) -> UUTReport:
    assert len(reports) == 1
    report = reports[0]
    assert isinstance(report, UUTReport)
    return report


def step(report: Report, *names: str) -> Step:
    """The step at the path of names below the root, e.g. step(r, "Numeric tests", "SingleLog")."""
    assert isinstance(report, UUTReport)
    wanted = (report.root.name or "", *names)
    for found, path in iter_steps(report.root):
        if path == wanted:
            return found
    raise AssertionError(f"no step at {'/'.join(wanted)}")


def all_steps(report: Report) -> list[Step]:
    assert isinstance(report, UUTReport)
    return [found for found, _path in iter_steps(report.root)]
