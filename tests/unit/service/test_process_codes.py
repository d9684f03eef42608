"""Files that name their process but give no code get the server's code for that name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.converters.base import ConverterParameters
from app.samples import sample_path
from app.service.conversion import ConversionJob, convert_file
from app.service.process_cache import ProcessCache, codes_by_name


@dataclass
class _Process:
    code: int
    name: str


def _convert(codes: dict[str, int]) -> int:
    job = ConversionJob(
        path=str(sample_path("wstf-example.txt")),  # names "SW Debug", gives no code
        converter="wstf",
        parameters=ConverterParameters(fallback_process_code=99),
        station_default="ST",
        process_codes=codes,
    )
    result = convert_file(job)
    assert result.ok, result.failure
    return result.reports[0].header.process_code


def test_a_named_process_gets_the_servers_code():
    assert _convert({"sw debug": 10, "pcba test": 50}) == 10


def test_an_unknown_name_gets_the_fallback_code():
    assert _convert({"pcba test": 50}) == 99
    assert _convert({}) == 99


def test_the_cache_round_trips_and_survives_a_damaged_file(tmp_path: Path):
    cache = ProcessCache(tmp_path)
    assert cache.load() == {}
    codes = codes_by_name(
        [_Process(10, "SW Debug"), _Process(50, " PCBA test "), _Process(51, "pcba TEST")]
    )
    assert codes == {"sw debug": 10, "pcba test": 50}
    cache.save(codes)
    assert ProcessCache(tmp_path).load() == codes
    cache.path.write_text("{not json")
    assert cache.load() == {}
