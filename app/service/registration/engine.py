"""Carry out a Registration: install, uninstall, status. The same for every OS; the plans
(linux.py, macos.py, windows.py) say what, this module says how, and every OS call goes
through the `OsCalls` boundary.

- Install is idempotent: current artefacts are left alone, changed ones are rewritten or
  replaced in place (never a second entry), then the install steps run.
- Uninstall removes every artefact of the plan and nothing else, and is fine when nothing is
  installed; steps that fail because nothing is loaded are not errors.
- Status reads each artefact back from the OS and compares it with the plan.
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable, Sequence

from app.service.registration import desktop_entry, files, linux, macos, unitfile, windows
from app.service.registration.command import display_command
from app.service.registration.model import (
    Artefact,
    ArtefactState,
    FileArtefact,
    Outcome,
    Registration,
    RegistrationError,
    RegistrationStatus,
    RegistryValue,
    RunCommand,
    ScheduledTask,
    StartWindowsService,
    Step,
    StopWindowsService,
    StopWorker,
    WindowsService,
)
from app.service.registration.os_calls import OsCallError, OsCalls, WindowsCalls

# How long a running worker gets to finish its upload and close the queue.
STOP_TIMEOUT_S = 30.0
_POLL_S = 0.1


def shown(registration: Registration, argv: Sequence[str]) -> str:
    return display_command(argv, windows=registration.platform == "windows")


def _windows_calls(calls: OsCalls) -> WindowsCalls:
    if not isinstance(calls, WindowsCalls):
        raise RegistrationError("the Windows registry, tasks and services are not available here")
    return calls


def check_privileges(registration: Registration, calls: OsCalls) -> None:
    if not registration.needs_admin or registration.root is not None or calls.is_admin():
        return
    if registration.platform == "windows":
        raise RegistrationError(
            "a system-wide registration needs an administrator: run it from an elevated "
            "prompt (Run as administrator), or leave out --system to register for your "
            "user only"
        )
    raise RegistrationError(
        "a system-wide registration needs root: run it with sudo, or leave out --system to "
        "register for your user only"
    )


def manager_problem(registration: Registration, calls: OsCalls) -> str | None:
    """Why the service manager cannot be used right now; None when it can."""
    manager = registration.manager
    if calls.which(manager.program) is None:
        return f"{manager.program} is not installed"
    if manager.probe is not None:
        result = calls.run(manager.probe)
        if not result.ok:
            return result.message
    return None


def _needs_manager_for_artefacts(registration: Registration) -> bool:
    return any(not isinstance(a, FileArtefact) for a in registration.artefacts)


# ------------------------------------------------------------------ install


def install(
    registration: Registration, calls: OsCalls, *, stop_timeout: float = STOP_TIMEOUT_S
) -> Outcome:
    check_privileges(registration, calls)
    check_files(registration)
    outcome = Outcome()
    telling_manager = registration.root is None
    problem = manager_problem(registration, calls) if telling_manager else None
    if problem is not None and _needs_manager_for_artefacts(registration):
        raise RegistrationError(f"{registration.manager.name} cannot be used: {problem}")
    may_chown = telling_manager and calls.is_admin()
    try:
        for folder in registration.folders:
            if files.ensure_folder(folder, may_chown=may_chown):
                outcome.done.append(f"created folder {folder.path}")
        for artefact in registration.artefacts:
            outcome.done.append(_apply(artefact, calls))
    except OsCallError as exc:
        outcome.errors.append(str(exc))
        return outcome
    except OSError as exc:
        outcome.errors.append(_file_error("write", exc))
        return outcome
    if not telling_manager:
        outcome.notes.append(
            f"files written under the registration root {registration.root}; "
            f"{registration.manager.name} was not told"
        )
        return outcome
    if problem is not None:
        outcome.notes.append(
            f"written, but {registration.manager.name} is not available in this session "
            f"({problem}): start the worker with "
            f"`{shown(registration, registration.worker_command)}`"
        )
        return outcome
    _run_steps(registration, registration.install_steps, calls, outcome, stop_timeout, fatal=True)
    return outcome


def check_files(registration: Registration) -> None:
    """Refuse to write files the service manager could not use (our own syntax check)."""
    for artefact in registration.artefacts:
        if not isinstance(artefact, FileArtefact) or artefact.role != "worker":
            continue
        text = artefact.content.decode("utf-8", errors="replace")
        if artefact.format == "systemd-unit":
            problems = unitfile.check_service_unit(text)
        else:
            problems = unitfile.check_program(registration.worker_command)
        if problems:
            raise RegistrationError(
                f"the {artefact.description} would not work: " + "; ".join(problems)
            )


def _apply(artefact: Artefact, calls: OsCalls) -> str:
    if isinstance(artefact, FileArtefact):
        if files.write(artefact):
            return f"wrote {artefact.description}: {artefact.where}"
        return f"{artefact.description} already up to date: {artefact.where}"
    win = _windows_calls(calls)
    if isinstance(artefact, RegistryValue):
        if win.registry_get(artefact.hive, artefact.key, artefact.name) == artefact.data:
            return f"{artefact.description} already up to date: {artefact.where}"
        win.registry_set(artefact.hive, artefact.key, artefact.name, artefact.data)
        return f"set {artefact.description}: {artefact.where}"
    if isinstance(artefact, ScheduledTask):
        existing = win.task_query(artefact.name)
        if existing is not None and _same_task(existing, artefact):
            return f"{artefact.description} already up to date: {artefact.where}"
        result = win.task_create(artefact.name, artefact.xml)
        if not result.ok:
            raise OsCallError(f"cannot create {artefact.where}: {result.message}")
        verb = "replaced" if existing is not None else "created"
        return f"{verb} {artefact.description}: {artefact.where}"
    info = win.service_query(artefact.name)
    if info is None:
        win.service_create(artefact)
        return f"created {artefact.description}: {artefact.where}"
    if _same_service(info.binary_path, info.start_type, artefact):
        return f"{artefact.description} already up to date: {artefact.where}"
    win.service_update(artefact)
    return f"updated {artefact.description}: {artefact.where}"


def _same_task(existing_xml: str, task: ScheduledTask) -> bool:
    current = windows.task_summary(existing_xml)
    return current is not None and current == windows.task_summary(task.xml)


def _same_service(binary_path: str, start_type: str, service: WindowsService) -> bool:
    return binary_path == service.binary_path and start_type == "auto"


def _file_error(verb: str, exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    return f"cannot {verb}{where}: {exc.strerror or exc}"


# ------------------------------------------------------------------ steps


def _run_steps(
    registration: Registration,
    steps: Sequence[Step],
    calls: OsCalls,
    outcome: Outcome,
    stop_timeout: float,
    *,
    fatal: bool,
) -> None:
    """Run steps in order. With `fatal`, the first failing step ends the run (later steps
    depend on it); otherwise failures are recorded and the rest still runs (uninstall)."""
    for step in steps:
        try:
            failure = _run_step(registration, step, calls, outcome, stop_timeout)
        except OsCallError as exc:
            failure = str(exc) if _is_checked(step) else None
            if failure is None:
                outcome.done.append(f"{_describe_step(registration, step)}: nothing to do ({exc})")
        if failure is not None:
            outcome.errors.append(failure)
            if fatal:
                return


def _is_checked(step: Step) -> bool:
    # Stopping something that is not running is never a failure.
    return not isinstance(step, StopWindowsService) and getattr(step, "check", True)


def _run_step(
    registration: Registration,
    step: Step,
    calls: OsCalls,
    outcome: Outcome,
    stop_timeout: float,
) -> str | None:
    """Do one step; the error message if it failed and that matters."""
    if isinstance(step, RunCommand):
        result = calls.run(step.argv)
        command = shown(registration, step.argv)
        if result.ok:
            outcome.done.append(f"ran {command}")
            return None
        if step.check:
            return f"`{command}` failed: {result.message}"
        outcome.done.append(f"ran {command}: nothing to do ({result.message})")
        return None
    if isinstance(step, StopWorker):
        if not calls.ask_worker_to_stop(step.instance):
            return None
        if _wait_until(lambda: not calls.worker_answers(step.instance), stop_timeout):
            outcome.done.append("stopped the worker that was running")
            return None
        return (
            f"the running worker did not stop within {stop_timeout:g} s; stop it (or end "
            "the process) and run install again"
        )
    win = _windows_calls(calls)
    if isinstance(step, StartWindowsService):
        win.service_start(step.name)
        outcome.done.append(f"started Windows service {step.name!r}")
        return None
    win.service_stop(step.name, stop_timeout)
    outcome.done.append(f"stopped Windows service {step.name!r} (if it was running)")
    return None


def _wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True


def _describe_step(registration: Registration, step: Step) -> str:
    if isinstance(step, RunCommand):
        return shown(registration, step.argv)
    if isinstance(step, StopWorker):
        return f'ask the running worker of instance "{step.instance}" to stop (over IPC)'
    if isinstance(step, StartWindowsService):
        return f"start Windows service {step.name!r}"
    return f"stop Windows service {step.name!r}"


# ------------------------------------------------------------------ uninstall


def uninstall(
    registration: Registration, calls: OsCalls, *, stop_timeout: float = STOP_TIMEOUT_S
) -> Outcome:
    check_privileges(registration, calls)
    outcome = Outcome()
    telling_manager = registration.root is None
    problem = manager_problem(registration, calls) if telling_manager else None
    if problem is not None and _needs_manager_for_artefacts(registration):
        raise RegistrationError(f"{registration.manager.name} cannot be used: {problem}")
    use_manager = telling_manager and problem is None
    if use_manager:
        _run_steps(
            registration, registration.uninstall_steps, calls, outcome, stop_timeout, fatal=False
        )
    for artefact in reversed(registration.artefacts):
        try:
            outcome.done.append(_remove(artefact, calls))
        except OsCallError as exc:
            outcome.errors.append(str(exc))
        except OSError as exc:
            outcome.errors.append(_file_error("remove", exc))
    if use_manager:
        _run_steps(
            registration, registration.cleanup_steps, calls, outcome, stop_timeout, fatal=False
        )
    elif problem is not None:
        outcome.notes.append(
            f"{registration.manager.name} is not available in this session ({problem}): "
            "it was not asked to stop anything"
        )
    return outcome


def _remove(artefact: Artefact, calls: OsCalls) -> str:
    gone = f"{artefact.description} was not there: {artefact.where}"
    removed = f"removed {artefact.description}: {artefact.where}"
    if isinstance(artefact, FileArtefact):
        return removed if files.remove(artefact) else gone
    win = _windows_calls(calls)
    if isinstance(artefact, RegistryValue):
        return removed if win.registry_delete(artefact.hive, artefact.key, artefact.name) else gone
    if isinstance(artefact, ScheduledTask):
        if win.task_query(artefact.name) is None:
            return gone
        result = win.task_delete(artefact.name)
        if not result.ok:
            raise OsCallError(f"cannot delete {artefact.where}: {result.message}")
        return removed
    if win.service_query(artefact.name) is None:
        return gone
    win.service_remove(artefact.name)
    return removed


# ------------------------------------------------------------------ status


def status(registration: Registration, calls: OsCalls) -> RegistrationStatus:
    states = tuple(_state(a, calls) for a in registration.artefacts)
    if registration.root is not None:
        manager_state = f"not asked (files under the registration root {registration.root})"
    else:
        problem = manager_problem(registration, calls)
        if problem is not None:
            manager_state = f"not available in this session ({problem})"
        else:
            manager_state = _manager_state(registration, calls)
    checked_as = None
    if registration.scope == "system":
        me = _current_user()
        runs_as = registration.run_as or "LocalSystem"
        checked_as = None if runs_as == me else me
    return RegistrationStatus(
        registration=registration,
        artefacts=states,
        manager_state=manager_state,
        worker_running=calls.worker_answers(registration.instance),
        running_checked_as=checked_as,
    )


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return "this user"


def _manager_state(registration: Registration, calls: OsCalls) -> str:
    try:
        if registration.platform == "linux":
            return linux.manager_state(registration, calls)
        if registration.platform == "macos":
            return macos.manager_state(registration, calls)
        return windows.manager_state(registration, calls)
    except OsCallError as exc:
        return f"unknown ({exc})"


def _state(artefact: Artefact, calls: OsCalls) -> ArtefactState:
    def state(present: bool, current: bool, command: tuple[str, ...] | None) -> ArtefactState:
        return ArtefactState(
            role=artefact.role,
            description=artefact.description,
            where=artefact.where,
            present=present,
            current=present and current,
            command=command,
        )

    if isinstance(artefact, FileArtefact):
        data = files.read(artefact.path)
        if data is None:
            return state(False, False, None)
        return state(True, files.is_current(artefact), _file_command(artefact, data))
    win = _windows_calls(calls)
    if isinstance(artefact, RegistryValue):
        value = win.registry_get(artefact.hive, artefact.key, artefact.name)
        command = (
            windows.split_command_line(value)
            if isinstance(value, str) and artefact.role != "setting"
            else None
        )
        return state(value is not None, value == artefact.data, command)
    if isinstance(artefact, ScheduledTask):
        xml = win.task_query(artefact.name)
        if xml is None:
            return state(False, False, None)
        return state(True, _same_task(xml, artefact), windows.task_command(xml))
    info = win.service_query(artefact.name)
    if info is None:
        return state(False, False, None)
    return state(
        True,
        _same_service(info.binary_path, info.start_type, artefact),
        windows.split_command_line(info.binary_path),
    )


def _file_command(artefact: FileArtefact, data: bytes) -> tuple[str, ...] | None:
    if artefact.format == "plist":
        return macos.plist_command(data)
    text = data.decode("utf-8", errors="replace")
    if artefact.format == "systemd-unit":
        return unitfile.exec_start(text)
    command = desktop_entry.entry_command(text)
    # The tray entry may start with `env NAME=VALUE`; the command is what follows.
    if command and command[0] == "env":
        rest = list(command[1:])
        while rest and "=" in rest[0] and not rest[0].startswith("/"):
            rest.pop(0)
        return tuple(rest)
    return command
