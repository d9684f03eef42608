"""Start at login: runs `wats-station service install|uninstall|status` as a child process
(the GUI never imports the worker's registration code, DESIGN.md §2). Blocking; the
Settings page and the wizard call these on a helper thread."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import Any

from app.core.launcher import self_command

TIMEOUT_S = 120.0


@dataclass(frozen=True)
class CommandResult:
    ok: bool
    output: str  # what the command printed, for the user (plain words, no traceback)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*self_command(), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def registration_status(instance: str) -> dict[str, Any]:
    """`service status --json` as a dict ({"registered": bool, ...}); {} if it cannot tell."""
    try:
        done = _run(["service", "status", "--json", "--instance", instance])
        data = json.loads(done.stdout or "{}")
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def set_start_at_login(instance: str, enabled: bool) -> CommandResult:
    action = "install" if enabled else "uninstall"
    try:
        done = _run(["service", action, "--instance", instance])
    except subprocess.TimeoutExpired:
        return CommandResult(False, f"“service {action}” did not finish within {TIMEOUT_S:g} s.")
    except OSError as exc:
        return CommandResult(False, f"“service {action}” could not run: {exc.strerror or exc}")
    lines = [line.removeprefix("error: ") for line in (done.stdout + done.stderr).splitlines()]
    return CommandResult(done.returncode == 0, "\n".join(line for line in lines if line.strip()))
