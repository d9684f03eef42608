"""Reads and writes `config.json` safely for several processes (DESIGN.md §1, §3, §5).

The GUI, the CLI and the worker all use the same file, so every write is

- under an inter-process lock (`config.json.lock`), as a read-modify-write when it changes
  one thing (`update`, `set_value`), so no writer loses another's change;
- atomic: the new text goes to a temporary file in the same folder, is flushed and fsynced,
  then replaces `config.json` with `os.replace`, and the folder is fsynced. A reader sees the
  old file or the new one, never half of one, and a power cut leaves one of them;
- backed up: the previous file, if it was valid, is kept as `config.json.bak`.

A damaged `config.json` falls back to the `.bak` (with a warning) instead of stopping the
worker; only when both are unusable does `load` raise ConfigError.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from app.core.config import (
    ConfigError,
    StationConfig,
    validate_config,
    value_at,
    with_value,
)
from app.core.durable import fsync_dir
from app.core.paths import InstancePaths

__all__ = ["ConfigError", "ConfigStore", "MtimeSignature"]

log = logging.getLogger(__name__)

DEFAULT_LOCK_TIMEOUT_S = 10.0
# Windows refuses os.replace while another program (a virus scanner, an editor) has the file
# open; such holds are short, so retry for a while before giving up.
REPLACE_RETRY_S = 2.0

MtimeSignature = tuple[int, int, int]


class ConfigStore:
    """The one way to read and write an instance's `config.json`."""

    def __init__(self, paths: InstancePaths, lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S):
        self.paths = paths
        self.lock_timeout_s = lock_timeout_s
        self._lock = FileLock(str(paths.config_lock))
        # Why the last load() did not use config.json (it fell back to the .bak), else None.
        self.last_warning: str | None = None

    # ------------------------------------------------------------ reading

    def exists(self) -> bool:
        return self.paths.config_file.exists()

    def load(self) -> StationConfig:
        """The saved config; defaults when there is no file yet."""
        with self._locked():
            return self._load_unlocked()

    def get_value(self, dotted_key: str) -> Any:
        return value_at(self.load(), dotted_key)

    def mtime_signature(self) -> MtimeSignature | None:
        """Changes whenever the file is replaced: cheap to poll (no read, no lock)."""
        try:
            info = self.paths.config_file.stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    # ------------------------------------------------------------ writing

    def save(self, config: StationConfig) -> None:
        if config.applied_env_overrides:
            raise ConfigError(
                "refusing to save a configuration with environment overrides applied ("
                + ", ".join(config.applied_env_overrides)
                + "); save the loaded configuration, not the effective one"
            )
        # Validate the dumped form again: models are mutable, so a caller may have assigned
        # a bad value that no validator has seen yet.
        checked = validate_config(config.to_json_dict())
        with self._locked():
            self._write_unlocked(checked)

    def update(self, change: Callable[[StationConfig], StationConfig]) -> StationConfig:
        """Read, change and write under one lock hold, so concurrent changes all survive."""
        with self._locked():
            current = self._load_unlocked()
            changed = change(current)
            if changed.applied_env_overrides:
                raise ConfigError("update() must not return a config with overrides applied")
            checked = validate_config(changed.to_json_dict())
            self._write_unlocked(checked)
            return checked

    def set_value(self, dotted_key: str, raw: str) -> StationConfig:
        """Change one setting from its text form; a bad value raises ConfigError naming it."""
        return self.update(lambda config: with_value(config, dotted_key, raw))

    # ------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.paths.config_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=self.lock_timeout_s)
        except Timeout:
            raise ConfigError(
                f"another WATS Station program has been changing the configuration for more "
                f"than {self.lock_timeout_s:g} s (lock file {self.paths.config_lock}); try "
                "again, or end the program that hangs"
            ) from None
        try:
            yield
        finally:
            self._lock.release()

    def _load_unlocked(self) -> StationConfig:
        self.last_warning = None
        main = self.paths.config_file
        try:
            return _read(main)
        except FileNotFoundError:
            return StationConfig()
        except ConfigError as exc:
            main_problem = str(exc)
        backup = self.paths.config_backup
        try:
            config = _read(backup)
        except FileNotFoundError:
            raise ConfigError(
                f"{main} cannot be used: {main_problem} (and there is no backup); fix or "
                "delete the file"
            ) from None
        except ConfigError as exc:
            raise ConfigError(
                f"{main} cannot be used: {main_problem}; the backup {backup.name} cannot be "
                f"used either: {exc}"
            ) from None
        self.last_warning = f"{main} cannot be used ({main_problem}); using {backup.name}"
        log.warning("%s", self.last_warning)
        return config

    def _write_unlocked(self, config: StationConfig) -> None:
        main = self.paths.config_file
        text = json.dumps(config.to_json_dict(), indent=2, ensure_ascii=False) + "\n"
        try:
            previous = main.read_bytes()
        except FileNotFoundError:
            previous = None
        except OSError as exc:
            raise ConfigError(f"cannot read {main}: {exc.strerror or exc}") from None
        try:
            if previous is not None:
                if _usable(previous):
                    _write_atomically(self.paths.config_backup, previous)
                else:
                    # Keep a damaged file for inspection, but never let it replace a good .bak.
                    _write_atomically(main.with_name(main.name + ".damaged"), previous)
            _write_atomically(main, text.encode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot write {main}: {exc.strerror or exc}") from None


def _read(path: Path) -> StationConfig:
    data = path.read_bytes()  # FileNotFoundError goes to the caller
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError("it is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"it is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return validate_config(parsed)


def _usable(data: bytes) -> bool:
    try:
        validate_config(json.loads(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, json.JSONDecodeError, ConfigError):
        return False
    return True


def _write_atomically(target: Path, data: bytes) -> None:
    temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    fsync_dir(target.parent)


def _replace(source: Path, target: Path) -> None:
    deadline = time.monotonic() + REPLACE_RETRY_S
    delay = 0.01
    while True:
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if sys.platform != "win32" or time.monotonic() >= deadline:
                raise
            time.sleep(delay)  # another program holds the file open; it lets go shortly
            delay = min(delay * 2, 0.2)
