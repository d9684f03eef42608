"""The command line a registration starts: the frozen executable when frozen, else the venv's
`wats-station` entry point (the console script pip installed next to this interpreter).

Only when that script does not exist (running from a checkout without `pip install`) does the
registration fall back to this interpreter with `-m app`, which still runs the same code.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from app.core.launcher import is_frozen, self_command
from app.core.paths import DEFAULT_INSTANCE

ENTRY_POINT = "wats-station"


def program_command(
    *, scripts_dir: Path | None = None, windows: bool | None = None
) -> tuple[str, ...]:
    """The program part of every registered command line (absolute paths)."""
    if is_frozen():
        return tuple(str(Path(part).absolute()) for part in self_command()[:1])
    on_windows = sys.platform == "win32" if windows is None else windows
    folder = Path(sysconfig.get_path("scripts")) if scripts_dir is None else scripts_dir
    entry = folder / (f"{ENTRY_POINT}.exe" if on_windows else ENTRY_POINT)
    if entry.is_file():
        return (str(entry.absolute()),)
    command = self_command()
    return (str(Path(command[0]).absolute()), *command[1:])


def worker_arguments(instance: str) -> tuple[str, ...]:
    return ("--service", "--instance", instance)


def tray_arguments(instance: str) -> tuple[str, ...]:
    """The GUI started minimised to the tray; the instance only when it is not the default."""
    if instance == DEFAULT_INSTANCE:
        return ("--minimized",)
    return ("--minimized", "--instance", instance)


def display_command(argv: Sequence[str], *, windows: bool = False) -> str:
    """A command line as the user would type it in their shell."""
    if windows:
        return subprocess.list2cmdline(list(argv))
    return shlex.join(argv)
