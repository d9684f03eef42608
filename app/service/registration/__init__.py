"""Register the worker with the OS so it starts at login (per user) or at boot (system-wide).

    target = resolve_target("default", "user")      # reads the environment once
    registration = plan(target)                       # pure: what would be created and run
    outcome = install(registration)                   # or uninstall(...), status(...)

Linux: systemd unit (+ XDG autostart entry for the tray); macOS: launchd agent or daemon;
Windows: logon task + Run value, or a Windows service. See docs/service-registration.md.
Every OS call goes through `OsCalls` (os_calls.py); pass a substitute to record them.
No Qt is imported here.
"""

from __future__ import annotations

from app.service.registration import engine, linux, macos, windows
from app.service.registration.model import (
    ArtefactState,
    InvalidRegistrationInput,
    Outcome,
    Platform,
    Registration,
    RegistrationError,
    RegistrationStatus,
    Scope,
)
from app.service.registration.os_calls import OsCalls, system_calls
from app.service.registration.target import ROOT_ENV, Target, current_platform, resolve_target

__all__ = [
    "ROOT_ENV",
    "ArtefactState",
    "InvalidRegistrationInput",
    "OsCalls",
    "Outcome",
    "Platform",
    "Registration",
    "RegistrationError",
    "RegistrationStatus",
    "Scope",
    "Target",
    "current_platform",
    "install",
    "plan",
    "resolve_target",
    "status",
    "uninstall",
]


def plan(target: Target) -> Registration:
    """What a registration of `target` consists of. Touches nothing."""
    if target.platform == "linux":
        return linux.plan(target)
    if target.platform == "macos":
        return macos.plan(target)
    return windows.plan(target)


def install(
    registration: Registration,
    calls: OsCalls | None = None,
    *,
    stop_timeout: float = engine.STOP_TIMEOUT_S,
) -> Outcome:
    """Create every artefact (idempotent) and start the worker through the service manager.
    RegistrationError when it cannot even start (no privileges, no service manager)."""
    return engine.install(registration, calls or system_calls(), stop_timeout=stop_timeout)


def uninstall(
    registration: Registration,
    calls: OsCalls | None = None,
    *,
    stop_timeout: float = engine.STOP_TIMEOUT_S,
) -> Outcome:
    """Stop the registered worker and remove every artefact; fine when nothing is there."""
    return engine.uninstall(registration, calls or system_calls(), stop_timeout=stop_timeout)


def status(registration: Registration, calls: OsCalls | None = None) -> RegistrationStatus:
    """What the OS really holds, compared with what install would create now."""
    return engine.status(registration, calls or system_calls())
