"""Plain-text and JSON descriptions of plans and status (for `--dry-run`, `status`, the GUI)."""

from __future__ import annotations

from typing import Any

from app.service.registration.engine import shown
from app.service.registration.model import (
    Artefact,
    FileArtefact,
    Registration,
    RegistrationStatus,
    RegistryValue,
    RunCommand,
    ScheduledTask,
    StartWindowsService,
    Step,
    StopWindowsService,
    StopWorker,
)

_INDENT = "      "


def _indented(text: str) -> list[str]:
    return [f"{_INDENT}{line}".rstrip() for line in text.rstrip("\n").splitlines()]


def _create(registration: Registration, artefact: Artefact) -> list[str]:
    if isinstance(artefact, FileArtefact):
        head = f"  write {artefact.where} ({artefact.description}, mode {artefact.mode:04o}):"
        return [head, *_indented(artefact.content.decode("utf-8", errors="replace"))]
    if isinstance(artefact, RegistryValue):
        data = artefact.data if isinstance(artefact.data, str) else " | ".join(artefact.data)
        return [f"  set {artefact.where} ({artefact.description}) to:", f"{_INDENT}{data}"]
    if isinstance(artefact, ScheduledTask):
        return [
            f"  create {artefact.where} ({artefact.description}) from this definition:",
            *_indented(artefact.xml),
        ]
    lines = [
        f"  create {artefact.where} ({artefact.description}), start type auto:",
        f"{_INDENT}display name: {artefact.display_name}",
        f"{_INDENT}command line: {artefact.binary_path}",
    ]
    if artefact.python_class:
        lines.append(f"{_INDENT}hosted by pywin32's pythonservice.exe: {artefact.python_class}")
    return lines


def _remove(artefact: Artefact) -> str:
    return f"  remove {artefact.where} ({artefact.description}), if present"


def describe_step(registration: Registration, step: Step) -> str:
    if isinstance(step, RunCommand):
        tolerated = "" if step.check else "; failing is fine"
        return f"  {shown(registration, step.argv)}    # {step.purpose}{tolerated}"
    if isinstance(step, StopWorker):
        return f"  ask a running worker to stop over IPC and wait    # {step.purpose}"
    if isinstance(step, StartWindowsService):
        return f"  start Windows service {step.name!r}    # {step.purpose}"
    if isinstance(step, StopWindowsService):
        return f"  stop Windows service {step.name!r}    # {step.purpose}"
    raise TypeError(step)


def _root_note(registration: Registration) -> list[str]:
    if registration.root is None:
        return []
    return [
        f"(files go under the registration root {registration.root}; "
        f"{registration.manager.name} is not told)"
    ]


def describe_install(registration: Registration) -> list[str]:
    lines = [f"Would register the WATS Station worker ({registration.title}):"]
    lines += [f"  create folder {f.path} (if missing)" for f in registration.folders]
    for artefact in registration.artefacts:
        lines += _create(registration, artefact)
    if registration.install_steps:
        lines.append("then run:")
        lines += [describe_step(registration, s) for s in registration.install_steps]
    if registration.manager.probe is not None:
        lines.append(
            f"(when {registration.manager.name} is not available in this session, only the "
            "files are written)"
        )
    return lines + _root_note(registration)


def describe_uninstall(registration: Registration) -> list[str]:
    lines = [f"Would remove the registration ({registration.title}):"]
    if registration.uninstall_steps:
        lines.append("run:")
        lines += [describe_step(registration, s) for s in registration.uninstall_steps]
    lines.append("remove:")
    lines += [_remove(a) for a in reversed(registration.artefacts)]
    if registration.cleanup_steps:
        lines.append("then run:")
        lines += [describe_step(registration, s) for s in registration.cleanup_steps]
    return lines + _root_note(registration)


def status_as_dict(state: RegistrationStatus) -> dict[str, Any]:
    registration = state.registration
    return {
        "instance": registration.instance,
        "scope": registration.scope,
        "platform": registration.platform,
        "registered": state.registered,
        "partly_registered": state.partly_registered,
        "current": state.current,
        "registered_command": list(state.registered_command or []) or None,
        "expected_command": list(registration.worker_command),
        "command_matches": state.command_matches,
        "executable_exists": state.executable_exists,
        "manager": {"name": registration.manager.name, "state": state.manager_state},
        "worker_running": state.worker_running,
        "worker_checked_as": state.running_checked_as,
        "artefacts": [
            {
                "role": a.role,
                "description": a.description,
                "where": a.where,
                "present": a.present,
                "current": a.current,
                "command": list(a.command) if a.command is not None else None,
            }
            for a in state.artefacts
        ],
    }


def _yes_no(value: bool | None, unknown: str = "-") -> str:
    if value is None:
        return unknown
    return "yes" if value else "no"


def describe_status(state: RegistrationStatus) -> list[str]:
    registration = state.registration
    if state.registered:
        registered = "yes" if state.current else "yes, but it differs from what install writes now"
    elif state.partly_registered:
        registered = "partly (run install to repair, or uninstall to remove the rest)"
    else:
        registered = "no"
    lines = [
        f"WATS Station worker registration ({registration.title})",
        f"  registered:  {registered}",
    ]
    for artefact in state.artefacts:
        mark = "missing" if not artefact.present else ("current" if artefact.current else "differs")
        lines.append(f"  {artefact.description}: {artefact.where} [{mark}]")
    registered_command = state.registered_command
    if registered_command is not None:
        lines.append(f"  registered command:  {shown(registration, registered_command)}")
        matches = state.command_matches
        lines.append(
            "  matches this executable:  "
            + (
                "yes"
                if matches
                else f"no (this installation is {shown(registration, registration.worker_command)})"
            )
        )
        if state.executable_exists is False:
            lines.append(f"  the registered program {registered_command[0]} no longer exists")
    lines.append(f"  {registration.manager.name}:  {state.manager_state}")
    running = _yes_no(state.worker_running)
    if state.running_checked_as:
        running += (
            f" (checked on {state.running_checked_as}'s socket; a system-wide worker runs as "
            f"{registration.run_as or 'LocalSystem'}: see the {registration.manager.name} line)"
        )
    lines.append(f"  worker running:  {running}")
    return lines
