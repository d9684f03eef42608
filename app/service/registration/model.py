"""What an OS registration of the worker is, as plain data.

A `Registration` is the complete, inspectable plan for one instance on one OS and scope:
the artefacts to create (files with content and mode, registry values, scheduled tasks,
service records) and the steps to run around them (service-manager commands, asking a running
worker to stop). Install creates every artefact and runs `install_steps`; uninstall runs
`uninstall_steps`, removes every artefact, then runs `cleanup_steps`. `--dry-run` prints the
plan, and status compares what the OS holds with it. Building a plan touches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Platform = Literal["linux", "macos", "windows"]
Scope = Literal["user", "system"]
# What an artefact starts: the worker, the tray (GUI minimised), or neither (settings that
# belong to another artefact, such as a Windows service's environment).
Role = Literal["worker", "tray", "setting"]
Hive = Literal["HKCU", "HKLM"]
# How to read the command back out of a file artefact.
FileFormat = Literal["systemd-unit", "desktop-entry", "plist"]

PLATFORM_NAMES: dict[Platform, str] = {"linux": "Linux", "macos": "macOS", "windows": "Windows"}
SCOPE_NAMES: dict[Scope, str] = {
    "user": "per user, at login",
    "system": "system-wide, at boot",
}


class RegistrationError(Exception):
    """Registration cannot go on; the message is meant for the user as it is."""


class InvalidRegistrationInput(RegistrationError):
    """A name or option given by the user cannot be used (exit code 3)."""


@dataclass(frozen=True)
class FileArtefact:
    path: Path
    content: bytes
    mode: int
    role: Role
    description: str
    format: FileFormat

    @property
    def where(self) -> str:
        return str(self.path)


@dataclass(frozen=True)
class RegistryValue:
    """A REG_SZ value (text) or REG_MULTI_SZ value (tuple of texts)."""

    hive: Hive
    key: str
    name: str
    data: str | tuple[str, ...]
    role: Role
    description: str

    @property
    def where(self) -> str:
        return f"{self.hive}\\{self.key} value {self.name!r}"


@dataclass(frozen=True)
class ScheduledTask:
    """A Task Scheduler task, created from its XML definition."""

    name: str
    xml: str
    command: tuple[str, ...]
    role: Role
    description: str

    @property
    def where(self) -> str:
        return f"Task Scheduler task \\{self.name}"


@dataclass(frozen=True)
class WindowsService:
    """A Windows service created by pywin32's win32serviceutil.InstallService.

    `exe_name` None means pywin32's pythonservice.exe hosting `python_class` (source installs);
    a frozen build names its own executable and needs no class string.
    """

    name: str
    display_name: str
    service_description: str
    binary_path: str  # the command line as the service manager stores it
    command: tuple[str, ...]
    exe_name: str | None
    exe_args: str | None
    python_class: str | None
    role: Role
    description: str

    @property
    def where(self) -> str:
        return f"Windows service {self.name!r}"


Artefact = FileArtefact | RegistryValue | ScheduledTask | WindowsService


@dataclass(frozen=True)
class RequiredFolder:
    """A folder the registered job needs before it starts (launchd opens its log files
    itself). Created on install, owned by `owner` when given; never removed, because it holds
    the station's logs, not the registration."""

    path: Path
    owner: str | None = None


@dataclass(frozen=True)
class RunCommand:
    """A service-manager command. `check=False`: failing is normal (e.g. stopping a job that is
    not loaded) and is not reported as an error."""

    argv: tuple[str, ...]
    purpose: str
    check: bool = True


@dataclass(frozen=True)
class StopWorker:
    """Ask the instance's running worker (whoever started it) to stop over IPC and wait until
    it no longer answers, so the registered one can take the socket."""

    instance: str
    purpose: str


@dataclass(frozen=True)
class StartWindowsService:
    name: str
    purpose: str


@dataclass(frozen=True)
class StopWindowsService:
    name: str
    purpose: str


Step = RunCommand | StopWorker | StartWindowsService | StopWindowsService


@dataclass(frozen=True)
class ServiceManager:
    """The OS component that starts the worker. `probe` is a command that succeeds only when
    the manager can be used right now (a systemd user session may not exist)."""

    name: str
    program: str
    # What the manager knows the worker's job by: unit name, launchd service target, task
    # name or service name.
    job: str
    probe: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Registration:
    platform: Platform
    scope: Scope
    instance: str
    worker_command: tuple[str, ...]
    tray_command: tuple[str, ...] | None
    artefacts: tuple[Artefact, ...]
    install_steps: tuple[Step, ...]
    uninstall_steps: tuple[Step, ...]
    cleanup_steps: tuple[Step, ...]
    manager: ServiceManager
    needs_admin: bool
    # Files go under this folder instead of "/" and the service manager is not told
    # (tests, package builds). None: the real locations.
    root: Path | None = None
    environment: tuple[tuple[str, str], ...] = ()
    run_as: str | None = None
    folders: tuple[RequiredFolder, ...] = ()

    @property
    def title(self) -> str:
        return (
            f'instance "{self.instance}", {SCOPE_NAMES[self.scope]}, '
            f"{PLATFORM_NAMES[self.platform]}"
        )

    def artefact(self, role: Role) -> Artefact | None:
        return next((a for a in self.artefacts if a.role == role), None)


@dataclass
class Outcome:
    """What install or uninstall did, in the order it happened."""

    done: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ArtefactState:
    role: Role
    description: str
    where: str
    present: bool
    # Present and exactly what install would create now (False for a stale registration).
    current: bool
    # The command line it registers, as read back from the OS (None if absent or unreadable).
    command: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RegistrationStatus:
    registration: Registration
    artefacts: tuple[ArtefactState, ...]
    # What the service manager says, in words ("enabled, active", "not available: ...").
    manager_state: str
    worker_running: bool
    # Who the worker-running check was made as, when that is not who the worker runs as.
    running_checked_as: str | None = None

    @property
    def registered(self) -> bool:
        return bool(self.artefacts) and all(a.present for a in self.artefacts)

    @property
    def partly_registered(self) -> bool:
        return any(a.present for a in self.artefacts) and not self.registered

    @property
    def current(self) -> bool:
        return self.registered and all(a.current for a in self.artefacts)

    @property
    def registered_command(self) -> tuple[str, ...] | None:
        worker = next((a for a in self.artefacts if a.role == "worker"), None)
        return worker.command if worker is not None else None

    @property
    def command_matches(self) -> bool | None:
        """Does the registration run this executable? None when nothing is registered."""
        registered = self.registered_command
        if registered is None:
            return None
        return registered == self.registration.worker_command

    @property
    def executable_exists(self) -> bool | None:
        registered = self.registered_command
        if not registered:
            return None
        return Path(registered[0]).is_file()
