"""Where the worker of an instance listens: one socket per user and instance.

POSIX: a Unix socket file `ipc.sock` in the instance's runtime folder (mode 0700, so the
socket is private to the user by directory permissions as well as by its own mode). Qt is
given the full path as the server name. A socket path must fit `sun_path` (108 bytes on
Linux, 104 on macOS); when the runtime folder is too deep for that (deep WATS_STATION_HOME
folders, test temp dirs), the socket goes to a private per-user folder in the temp dir under a
name hashed from the runtime folder, so every instance still gets its own socket.

Windows: a named pipe `\\\\.\\pipe\\wats-station-<user>-<instance>`; with WATS_STATION_HOME
set, a hash of the runtime folder is appended so portable installs do not collide. Access is
limited to the user by QLocalServer.UserAccessOption.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.core.paths import HOME_ENV, InstancePaths, RuntimeDirError

SOCKET_FILE = "ipc.sock"
# Always in the instance's runtime folder (never in the shared fallback folder).
LOCK_FILE = "ipc.lock"
# Longest socket path we use: sun_path holds 104 bytes on macOS, 108 on Linux (with the NUL).
MAX_SOCKET_PATH_BYTES = 100

_UNSAFE_PIPE_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class SocketAddress:
    """The name a QLocalServer listens on and clients connect to, for one instance."""

    instance: str
    # What QLocalServer.listen / QLocalSocket.connectToServer take.
    name: str
    # The socket file on POSIX; None on Windows (named pipes have no file).
    path: Path | None
    # Serialises "probe for a live worker, then take the name" between starting workers.
    lock_path: Path
    # Created by the server (private to the user) before it listens.
    runtime_dir: Path

    @property
    def display(self) -> str:
        """How to name the socket in messages."""
        return str(self.path) if self.path is not None else rf"\\.\pipe\{self.name}"


def _user_name() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):
        # No USERNAME/LOGNAME and no passwd entry (odd service accounts, containers).
        user = os.environ.get("USERNAME") or str(getattr(os, "getuid", lambda: "user")())
    return _UNSAFE_PIPE_CHARS.sub("_", user) or "user"


def _short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def socket_address(instance: str = "default", *, platform: str = sys.platform) -> SocketAddress:
    """The socket of `instance` for the current user. Touches nothing on disk."""
    paths = InstancePaths.for_instance(instance)
    runtime_dir = paths.runtime_dir
    if platform == "win32":
        name = f"wats-station-{_user_name()}-{instance}"
        if os.environ.get(HOME_ENV, "").strip():
            name = f"{name}-{_short_hash(str(runtime_dir), 8)}"
        return SocketAddress(instance, name, None, runtime_dir / LOCK_FILE, runtime_dir)
    path = runtime_dir / SOCKET_FILE
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        path = fallback_socket_dir() / f"{_short_hash(str(runtime_dir))}.sock"
    return SocketAddress(instance, str(path), path, runtime_dir / LOCK_FILE, runtime_dir)


def _current_uid() -> int:
    return os.getuid()


def fallback_socket_dir() -> Path:
    """The per-user folder for sockets whose runtime-folder path is too long."""
    return Path(tempfile.gettempdir()) / f"wats-station-{os.getuid()}"


def prepare_socket_dir(address: SocketAddress) -> None:
    """Create the folders the server needs, private to the user; refuse foreign folders."""
    InstancePaths.for_instance(address.instance).ensure()
    if address.path is None or address.path.parent == address.runtime_dir:
        return
    folder = address.path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != _current_uid():
        # Someone else pre-created it (shared /tmp): using it would expose the socket.
        raise RuntimeDirError(
            f"the socket folder {folder} is not a folder of your own; remove it or set "
            f"{HOME_ENV} to a shorter folder of your own"
        )
    if stat.S_IMODE(info.st_mode) != 0o700:
        folder.chmod(0o700)
