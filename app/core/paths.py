"""Where an instance keeps its config, data, logs and sockets (DESIGN.md §1, §5).

By default the folders follow the platform's conventions (platformdirs, app "WATS Station")
with the instance as a subfolder, e.g. on Linux `~/.config/WATS Station/default`. Setting
`WATS_STATION_HOME=DIR` puts everything under `DIR/<instance>/{config,data,logs,run}` instead,
for portable installs and tests.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "WATS Station"
HOME_ENV = "WATS_STATION_HOME"
DEFAULT_INSTANCE = "default"
MAX_INSTANCE_NAME = 40

_INSTANCE_NAME = re.compile(r"[A-Za-z0-9_-]+")


class InstanceNameError(ValueError):
    """The instance name cannot be used as a folder and socket name."""


class RuntimeDirError(OSError):
    """The runtime folder exists but is not private to this user (sockets would be exposed)."""


def validate_instance_name(name: str) -> str:
    """Return `name` if it is a usable instance name, else raise a readable InstanceNameError."""
    if not name:
        raise InstanceNameError("instance name must not be empty")
    if len(name) > MAX_INSTANCE_NAME:
        raise InstanceNameError(
            f"instance name {name!r} is too long ({len(name)} characters, at most "
            f"{MAX_INSTANCE_NAME})"
        )
    if not _INSTANCE_NAME.fullmatch(name):
        raise InstanceNameError(
            f"instance name {name!r} may only contain letters, digits, '-' and '_'"
        )
    return name


@dataclass(frozen=True)
class InstancePaths:
    """The folders and well-known files of one instance. Creating it touches nothing on disk."""

    instance: str
    config_dir: Path
    data_dir: Path
    log_dir: Path
    runtime_dir: Path

    @classmethod
    def for_instance(
        cls, name: str = DEFAULT_INSTANCE, environ: Mapping[str, str] | None = None
    ) -> InstancePaths:
        validate_instance_name(name)
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV, "").strip()
        if home:
            root = Path(home).expanduser().absolute() / name
            return cls(
                instance=name,
                config_dir=root / "config",
                data_dir=root / "data",
                log_dir=root / "logs",
                runtime_dir=root / "run",
            )
        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        with warnings.catch_warnings():
            # Without XDG_RUNTIME_DIR platformdirs falls back to /tmp/runtime-<uid> and warns;
            # ensure() makes that folder private, so the warning tells the user nothing.
            warnings.simplefilter("ignore", UserWarning)
            runtime = dirs.user_runtime_path
        return cls(
            instance=name,
            config_dir=dirs.user_config_path / name,
            data_dir=dirs.user_data_path / name,
            log_dir=dirs.user_log_path / name,
            runtime_dir=runtime / name,
        )

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.json"

    @property
    def config_backup(self) -> Path:
        return self.config_dir / "config.json.bak"

    @property
    def config_lock(self) -> Path:
        return self.config_dir / "config.json.lock"

    @property
    def secrets_file(self) -> Path:
        """The explicit, less secure token store used when `secret_store` is "file"."""
        return self.config_dir / "secrets.json"

    @property
    def queue_db(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    @property
    def plugin_dir(self) -> Path:
        return self.config_dir / "converters"

    def ensure(self) -> InstancePaths:
        """Create the folders; the runtime folder (sockets, pid files) is private on POSIX."""
        for folder in (self.config_dir, self.data_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.runtime_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if sys.platform != "win32":
            _make_private(self.runtime_dir)
        return self


def _make_private(folder: Path) -> None:
    info = folder.stat()
    if info.st_uid != os.getuid():
        raise RuntimeDirError(
            f"the runtime folder {folder} belongs to another user; set XDG_RUNTIME_DIR or "
            f"{HOME_ENV} to a folder of your own"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        folder.chmod(0o700)
