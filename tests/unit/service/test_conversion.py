"""Isolated conversion: real child processes that raise, hang, exit or crash."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.converters.base import ConverterParameters
from app.samples import sample_path
from app.service.conversion import (
    ConversionJob,
    ConversionPool,
    ConverterResolver,
    PoolClosedError,
    convert_file,
    describe_exit_code,
)
from tests.fixtures.waiting import eventually
from tests.fixtures.worker import wait_for

PLUGINS = Path(__file__).parent / "plugin_converters"


@pytest.fixture(scope="module")
def pool() -> Iterator[ConversionPool]:
    """Two warm children shared by the tests here (spawning costs a few tenths of a second)."""
    shared = ConversionPool(size=2, timeout_s=2.0, plugin_dirs=[PLUGINS])
    yield shared
    asyncio.run(shared.close())


def job(path: Path, converter: str = "wsjf", **params: object) -> ConversionJob:
    return ConversionJob(
        path=str(path),
        converter=converter,
        parameters=ConverterParameters.from_mapping(params),
        station_default="THIS-PC",
    )


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_converts_a_sample_in_process() -> None:
    path = sample_path("wsjf-uut-minimal.json")
    result = convert_file(job(path))
    assert result.ok, result.failure
    assert result.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert result.converter_version == "1.0"
    (report,) = result.reports
    document = json.loads(report.payload)
    assert document["id"] == report.id == report.header.id
    assert report.header.pn == document["pn"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b'{"type": "T",\n "pn": ', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "JSON"),
        (b'{"type": "T"}', "field required"),
        (b"[]", "empty list"),
    ],
    ids=["empty", "malformed", "not-utf8", "incomplete", "empty-list"],
)
def test_bad_wsjf_fails_with_a_readable_reason(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    result = convert_file(job(write(tmp_path, "bad.json", content)))
    assert not result.ok
    assert result.failure is not None
    assert expected in result.failure.message
    assert "Traceback" not in result.failure.message
    assert result.reports == ()


def test_conversion_error_keeps_its_line(tmp_path: Path) -> None:
    resolver = ConverterResolver([PLUGINS])
    result = convert_file(job(write(tmp_path, "a.txt", "no separators"), "test-lines"), resolver)
    assert result.failure is not None
    assert (result.failure.message, result.failure.line) == ("expected PN;SN;value", 1)


def test_unknown_converter_names_the_known_ones(tmp_path: Path) -> None:
    result = convert_file(job(write(tmp_path, "a.json", "{}"), "nope"))
    assert result.failure is not None
    assert "no converter named 'nope'" in result.failure.message
    assert "wsjf" in result.failure.message


def test_unreadable_file(tmp_path: Path) -> None:
    result = convert_file(job(tmp_path / "missing.json"))
    assert result.failure is not None
    assert result.failure.message.startswith("the file cannot be read")


def test_same_bytes_give_the_same_ids(tmp_path: Path) -> None:
    resolver = ConverterResolver([PLUGINS])
    first = convert_file(job(write(tmp_path, "a.txt", "PN-1;SN-1;5.0"), "test-lines"), resolver)
    second = convert_file(job(write(tmp_path, "b.txt", "PN-1;SN-1;5.0"), "test-lines"), resolver)
    other = convert_file(job(write(tmp_path, "c.txt", "PN-1;SN-2;5.0"), "test-lines"), resolver)
    assert first.ok
    assert [r.id for r in first.reports] == [r.id for r in second.reports]
    assert first.reports[0].id != other.reports[0].id


def test_describe_exit_code() -> None:
    assert describe_exit_code(3) == "exit code 3"
    assert describe_exit_code(None) == "exit code unknown"
    if sys.platform != "win32":
        assert describe_exit_code(-11) == "exit code -11, SIGSEGV"


async def test_pool_converts_in_a_child(pool: ConversionPool, tmp_path: Path) -> None:
    result = await pool.convert(job(write(tmp_path, "a.txt", "PN-1;SN-1;5.3"), "test-lines"))
    assert result.ok, result.failure
    document = json.loads(result.reports[0].payload)
    assert document["result"] == "F"  # Active mode computed the verdict in the child
    assert document["machineName"] == "THIS-PC"
    assert set(pool.child_pids()) - {None}


async def test_raising_converter_fails_only_its_file(pool: ConversionPool, tmp_path: Path) -> None:
    result = await pool.convert(job(write(tmp_path, "a.txt", "x"), "test-raising"))
    assert result.failure is not None
    assert result.failure.kind == "error"
    assert result.failure.message == "the converter failed: ValueError: unexpected byte soup"


async def test_hanging_converter_is_killed_others_unaffected(
    pool: ConversionPool, tmp_path: Path
) -> None:
    pool.timeout_s = 1.0
    try:
        hanging = asyncio.ensure_future(
            pool.convert(job(write(tmp_path, "hang.txt", "x"), "test-hanging"))
        )
        good = await pool.convert(job(write(tmp_path, "ok.txt", "PN;SN;5"), "test-lines"))
        assert good.ok, "the other child keeps converting while one hangs"
        assert not hanging.done()
        result = await hanging
    finally:
        pool.timeout_s = 2.0
    assert result.failure is not None
    assert result.failure.kind == "timeout"
    assert result.failure.message == "the converter did not finish within 1 s"
    after = await pool.convert(job(write(tmp_path, "after.txt", "PN;SN;5"), "test-lines"))
    assert after.ok


@pytest.mark.parametrize(
    ("converter", "code"),
    [
        ("test-exiting", "exit code 3"),
        pytest.param(
            "test-segfault",
            "exit code -11, SIGSEGV",
            marks=pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal names"),
        ),
    ],
)
async def test_converter_that_kills_its_process(tmp_path: Path, converter: str, code: str) -> None:
    own = ConversionPool(size=1, timeout_s=30, plugin_dirs=[PLUGINS])
    try:
        first = await own.convert(job(write(tmp_path, "ok.txt", "P;S;5"), "test-lines"))
        assert first.ok
        (pid,) = own.child_pids()
        result = await own.convert(job(write(tmp_path, "a.txt", "x"), converter))
        assert result.failure is not None
        assert result.failure.kind == "crashed"
        assert result.failure.message == f"the converter process ended unexpectedly ({code})"
        # The pool replaces the dead child and goes on.
        results = await asyncio.gather(
            *(
                own.convert(job(write(tmp_path, f"{i}.txt", "P;S;5"), "test-lines"))
                for i in range(4)
            )
        )
        assert all(r.ok for r in results)
        assert own.restarts() == 1
        assert own.child_pids() != [pid]
    finally:
        await own.close()


async def test_many_files_are_batched_and_all_answered(
    pool: ConversionPool, tmp_path: Path
) -> None:
    paths = [write(tmp_path, f"{i}.txt", f"PN;SN-{i};5") for i in range(200)]
    results = await asyncio.gather(*(pool.convert(job(p, "test-lines")) for p in paths))
    assert [r.path for r in results] == [str(p) for p in paths]
    assert len({r.reports[0].id for r in results}) == 200


def test_a_loop_that_ends_mid_conversion_does_not_strand_the_child(tmp_path: Path) -> None:
    """The caller's loop ends while its file converts (a reload, a test): the child still
    goes back to the pool, and the next caller, on another loop, gets its file converted."""
    own = ConversionPool(size=1, timeout_s=1.0, plugin_dirs=[PLUGINS])

    async def give_up_while_converting() -> None:
        hanging = asyncio.ensure_future(
            own.convert(job(write(tmp_path, "h.txt", "x"), "test-hanging"))
        )
        await eventually(lambda: own.busy == 1, 30, "the pool to start the file")
        hanging.cancel()

    async def convert_good() -> bool:
        result = await asyncio.wait_for(
            own.convert(job(write(tmp_path, "g.txt", "P;S;5"), "test-lines")), 30
        )
        return result.ok

    try:
        asyncio.run(give_up_while_converting())  # this loop is closed from here on
        # The hanging child is killed after 1 s; its thread must free the slot by itself.
        wait_for(lambda: own.busy == 0, 30, what="the child back in the pool")
        assert asyncio.run(convert_good())
    finally:
        asyncio.run(own.close())


async def test_closed_pool_refuses_and_leaves_files_alone(tmp_path: Path) -> None:
    own = ConversionPool(size=1, timeout_s=30, plugin_dirs=[PLUGINS])
    hanging = asyncio.ensure_future(own.convert(job(write(tmp_path, "h.txt", "x"), "test-hanging")))
    waiting = asyncio.ensure_future(
        own.convert(job(write(tmp_path, "w.txt", "P;S;5"), "test-lines"))
    )
    await eventually(lambda: own.busy > 0, 30, "the pool to start the file")
    await own.close()
    for future in (hanging, waiting):
        with pytest.raises(PoolClosedError):
            await future
    with pytest.raises(PoolClosedError):
        await own.convert(job(tmp_path / "w.txt", "test-lines"))
