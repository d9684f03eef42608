"""ConfigStore: atomic saves with .bak, fallback to .bak, the lock, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from app.core.config import ConfigError, StationConfig, effective, validate_config
from app.core.config_store import ConfigStore
from app.core.paths import InstancePaths


@pytest.fixture
def paths() -> InstancePaths:
    return InstancePaths.for_instance()


@pytest.fixture
def store(paths: InstancePaths) -> ConfigStore:
    return ConfigStore(paths, lock_timeout_s=2)


def read_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_missing_file_gives_defaults(store: ConfigStore) -> None:
    assert not store.exists()
    config = store.load()
    assert config.uploads.concurrency == 4
    assert store.mtime_signature() is None
    assert store.last_warning is None


def test_save_writes_json_and_keeps_the_previous_file_as_bak(
    store: ConfigStore, paths: InstancePaths
) -> None:
    store.save(validate_config({"server": {"url": "https://one.example"}}))
    assert read_json(paths.config_file)["server"]["url"] == "https://one.example"
    assert read_json(paths.config_file)["schema"] == 1
    assert not paths.config_backup.exists()

    store.save(validate_config({"server": {"url": "https://two.example"}}))
    assert read_json(paths.config_file)["server"]["url"] == "https://two.example"
    assert read_json(paths.config_backup)["server"]["url"] == "https://one.example"
    leftovers = [p.name for p in paths.config_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_save_refuses_an_invalid_model_changed_by_assignment(store: ConfigStore) -> None:
    config = StationConfig()
    config.uploads.concurrency = 500  # models are mutable; save() must still check
    with pytest.raises(ConfigError) as exc:
        store.save(config)
    assert exc.value.problems == ["uploads.concurrency: Input should be less than or equal to 32"]
    assert not store.exists()


def test_environment_overrides_are_never_saved(store: ConfigStore, paths: InstancePaths) -> None:
    store.save(validate_config({"server": {"url": "https://stored.example"}}))
    env = {"WATS_STATION_SERVER_URL": "http://127.0.0.1:9", "WATS_STATION_UPLOADS_PAUSED": "1"}
    running = effective(store.load(), env)
    assert running.server.url == "http://127.0.0.1:9"
    with pytest.raises(ConfigError, match="environment overrides applied"):
        store.save(running)
    with pytest.raises(ConfigError):
        store.update(lambda _config: running)
    store.set_value("timers.ping_s", "60")
    on_disk = read_json(paths.config_file)
    assert on_disk["server"]["url"] == "https://stored.example"
    assert on_disk["uploads"]["paused"] is False
    assert on_disk["timers"]["ping_s"] == 60


def test_unknown_keys_survive_a_change(store: ConfigStore, paths: InstancePaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(json.dumps({"schema": 1, "later": [1, 2], "gui": {"x": "y"}}))
    store.set_value("gui.start_minimised", "true")
    on_disk = read_json(paths.config_file)
    assert on_disk["later"] == [1, 2]
    assert on_disk["gui"] == {"start_minimised": True, "x": "y"}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (b'{"schema": 1, "server": {', "it is not valid JSON (line 1"),
        (b"", "it is not valid JSON (line 1"),
        (b"\xff\xfe\x00garbage", "it is not UTF-8 text"),
        (b'{"uploads": {"concurrency": 0}}', "uploads.concurrency: Input should be greater"),
        (b"[1, 2]", "the configuration must be a JSON object"),
    ],
)
def test_a_damaged_file_falls_back_to_the_backup(
    store: ConfigStore, paths: InstancePaths, damage: bytes, reason: str
) -> None:
    store.save(validate_config({"station": {"name": "GOOD"}}))
    store.save(validate_config({"station": {"name": "NEWER"}}))
    paths.config_file.write_bytes(damage)
    config = store.load()
    assert config.station.name == "GOOD"
    assert store.last_warning is not None
    assert reason in store.last_warning
    assert store.last_warning.endswith("using config.json.bak")


def test_saving_over_a_damaged_file_keeps_the_good_backup(
    store: ConfigStore, paths: InstancePaths
) -> None:
    store.save(validate_config({"station": {"name": "GOOD"}}))
    store.save(validate_config({"station": {"name": "NEWER"}}))
    paths.config_file.write_bytes(b"{broken")
    store.set_value("station.location", "Lab 2")
    assert store.load().station.name == "GOOD"
    assert store.load().station.location == "Lab 2"
    assert read_json(paths.config_backup)["station"]["name"] == "GOOD"
    damaged = paths.config_file.with_name("config.json.damaged")
    assert damaged.read_bytes() == b"{broken"


def test_both_damaged_raise_a_readable_error(store: ConfigStore, paths: InstancePaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("{nope")
    with pytest.raises(ConfigError) as exc:
        store.load()
    assert str(exc.value) == (
        f"{paths.config_file} cannot be used: it is not valid JSON (line 1: Expecting property "
        "name enclosed in double quotes) (and there is no backup); fix or delete the file"
    )
    paths.config_backup.write_text('{"timers": {"ping_s": -1}}')
    with pytest.raises(ConfigError) as exc:
        store.load()
    assert "the backup config.json.bak cannot be used either: timers.ping_s:" in str(exc.value)


def test_set_value_refuses_bad_values_and_leaves_the_file(
    store: ConfigStore, paths: InstancePaths
) -> None:
    store.save(StationConfig())
    before = paths.config_file.read_bytes()
    with pytest.raises(ConfigError) as exc:
        store.set_value("pipeline.validation_mode", "ignore")
    assert str(exc.value) == "pipeline.validation_mode: Input should be 'reject' or 'truncate'"
    assert paths.config_file.read_bytes() == before
    assert store.get_value("pipeline.validation_mode") == "truncate"


def test_mtime_signature_changes_on_every_save(store: ConfigStore) -> None:
    store.save(StationConfig())
    first = store.mtime_signature()
    store.set_value("timers.rescan_s", "30")
    second = store.mtime_signature()
    assert first is not None
    assert second is not None
    assert first != second  # the inode changes with each replace, even within one mtime tick
    assert store.mtime_signature() == second


def test_a_held_lock_times_out_with_a_clear_error(store: ConfigStore, paths: InstancePaths) -> None:
    paths.config_dir.mkdir(parents=True)
    other = FileLock(str(paths.config_lock), thread_local=False)
    store.lock_timeout_s = 0.2
    with other:
        # A second FileLock object on the same file stands for another process here.
        fresh = ConfigStore(paths, lock_timeout_s=0.2)
        started = time.monotonic()
        with pytest.raises(ConfigError, match=r"for more than 0\.2 s"):
            fresh.set_value("timers.ping_s", "10")
        assert time.monotonic() - started < 5
    fresh.set_value("timers.ping_s", "10")
    assert fresh.load().timers.ping_s == 10


# ------------------------------------------------------------------ several processes

WRITERS = 8
UPDATES_EACH = 50


def _bump_counter(config: StationConfig) -> StationConfig:
    data = config.to_json_dict()
    data["counter"] = int(data.get("counter", 0)) + 1
    return validate_config(data)


def _writer(paths: InstancePaths, count: int) -> None:
    store = ConfigStore(paths, lock_timeout_s=120)
    for _ in range(count):
        store.update(_bump_counter)


def _reader(paths: InstancePaths, stop_at: int, result: Any) -> None:
    """Reads while the writers write: every read must be complete and never go backwards."""
    store = ConfigStore(paths, lock_timeout_s=120)
    last = -1
    reads = 0
    deadline = time.monotonic() + 120
    while last < stop_at and time.monotonic() < deadline:
        config = store.load()
        if store.last_warning is not None:
            result.put(f"fell back: {store.last_warning}")
            return
        value = int((config.model_extra or {}).get("counter", 0))
        if value < last:
            result.put(f"went backwards from {last} to {value}")
            return
        last = value
        reads += 1
    result.put(f"ok {reads} {last}")


def test_concurrent_writers_lose_no_update(store: ConfigStore, paths: InstancePaths) -> None:
    store.save(StationConfig())
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    total = WRITERS * UPDATES_EACH
    reader = context.Process(target=_reader, args=(paths, total, results))
    writers = [context.Process(target=_writer, args=(paths, UPDATES_EACH)) for _ in range(WRITERS)]
    started = time.monotonic()
    for process in [reader, *writers]:
        process.start()
    for process in [*writers, reader]:
        process.join(timeout=180)
    elapsed = time.monotonic() - started
    try:
        assert [p.exitcode for p in writers] == [0] * WRITERS
        assert reader.exitcode == 0
        outcome = results.get(timeout=10)
        assert outcome.startswith("ok "), outcome
        assert int(outcome.split()[2]) == total
    finally:
        for process in [reader, *writers]:
            if process.is_alive():
                process.kill()
        results.close()
        results.join_thread()
    final = store.load()
    assert (final.model_extra or {})["counter"] == total
    assert read_json(paths.config_backup)["counter"] == total - 1
    print(f"{total} locked updates from {WRITERS} processes in {elapsed:.2f} s")
    assert os.listdir(paths.config_dir).count("config.json") == 1
