"""How to start the worker process, from the source tree or from the frozen executable.

Used by the demo, the GUI (which spawns the worker when none answers) and service registration.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def self_command() -> list[str]:
    """The command line that runs this program: the frozen executable, or python -m app."""
    if is_frozen():
        return [sys.executable]
    return [sys.executable, "-m", "app"]


def worker_command(instance: str = "default") -> list[str]:
    return [*self_command(), "--service", "--instance", instance]


def worker_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    if is_frozen():
        # A one-file build unpacks into a temp folder owned by this process; the worker must
        # unpack its own instead of depending on ours (DESIGN.md §1).
        env["PYINSTALLER_RESET_ENVIRONMENT"] = "1"
    return env


def spawn_worker(
    instance: str = "default",
    *,
    env: Mapping[str, str] | None = None,
    detached: bool = True,
) -> subprocess.Popen[bytes]:
    """Start `--service` for `instance`; detached so it outlives the process that started it."""
    creationflags = 0
    if detached and sys.platform == "win32":
        creationflags = (
            subprocess.DETACHED_PROCESS
            | subprocess.CREATE_NEW_PROCESS_GROUP
            | subprocess.CREATE_NO_WINDOW
        )
    return subprocess.Popen(
        worker_command(instance),
        env=worker_environment(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=detached and sys.platform != "win32",
        creationflags=creationflags,
    )
