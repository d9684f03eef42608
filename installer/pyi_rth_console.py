"""PyInstaller runtime hook: give command-line use of the windowed Windows build a console.

The Windows executable is built windowed (no console window pops up behind the tray or the
worker), so a command typed at a prompt would print nothing. When the program is started
with a command (not the GUI, not the worker) and its output is not redirected, attach to
the console of the prompt it was started from, so `wats-station status` prints there.
Output that is redirected to a file or pipe keeps going there. Whatever stream is still
missing after that (the worker, the GUI, a command run by the installer without a console)
reads from and writes to the null device, so code that writes to sys.stderr or asks
sys.stdin.isatty() never meets None. Other systems: nothing to do.
"""

import sys


def _is_gui_or_worker(args: list[str]) -> bool:
    if "--service" in args or "--windows-service" in args:
        return True
    rest = list(args)
    while rest:  # the GUI takes only --instance NAME and --minimized (app/__main__.py)
        token = rest.pop(0)
        if token == "--instance" and rest:
            rest.pop(0)
        elif token != "--minimized" and not token.startswith("--instance="):
            return False
    return True


def _attach_parent_console() -> None:
    if sys.stdout is not None or _is_gui_or_worker(sys.argv[1:]):
        return
    import ctypes

    attach_parent_process = -1
    if not ctypes.windll.kernel32.AttachConsole(attach_parent_process):
        return  # started from Explorer or a scheduler: there is no console to print to
    sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    sys.stderr = open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    if sys.stdin is None:
        sys.stdin = open("CONIN$", encoding="utf-8", errors="replace")  # noqa: SIM115


def _null_for_missing_streams() -> None:
    import os

    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115


if sys.platform == "win32":
    _attach_parent_console()
    _null_for_missing_streams()
