"""A recording stand-in for the registration's OS boundary, and Target builders.

`RecordingCalls` implements every method of `OsCalls` and `WindowsCalls`, appends each call
to `calls` as a tuple, and keeps an in-memory registry, task store and service table so that
install, status and uninstall of Windows plans can be checked end to end on any OS.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.service.registration.model import Hive, Platform, Scope, WindowsService
from app.service.registration.os_calls import CommandResult, ServiceInfo
from app.service.registration.target import Target
from app.service.registration.windows import task_summary

Call = tuple[Any, ...]


@dataclass
class RecordingCalls:
    programs: set[str] = field(
        default_factory=lambda: {"systemctl", "launchctl", "schtasks", "sc.exe"}
    )
    admin: bool = False
    # The worker answering on the socket; ask_worker_to_stop makes it go away.
    worker_running: bool = False
    worker_ignores_stop: bool = False
    # Scripted results by argv; anything else succeeds with no output.
    results: dict[tuple[str, ...], CommandResult] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    registry: dict[tuple[str, str, str], str | tuple[str, ...]] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceInfo] = field(default_factory=dict)

    # ------------------------------------------------------------------ OsCalls

    def run(self, argv: Sequence[str], timeout: float = 60.0) -> CommandResult:
        args = tuple(argv)
        self.calls.append(("run", *args))
        return self.results.get(args, CommandResult(args, 0))

    def which(self, program: str) -> str | None:
        return f"/usr/bin/{program}" if program in self.programs else None

    def is_admin(self) -> bool:
        return self.admin

    def worker_answers(self, instance: str) -> bool:
        return self.worker_running

    def ask_worker_to_stop(self, instance: str) -> bool:
        self.calls.append(("ask_worker_to_stop", instance))
        was_running = self.worker_running
        if not self.worker_ignores_stop:
            self.worker_running = False
        return was_running

    # ------------------------------------------------------------------ WindowsCalls

    def registry_get(self, hive: Hive, key: str, name: str) -> str | tuple[str, ...] | None:
        return self.registry.get((hive, key, name))

    def registry_set(self, hive: Hive, key: str, name: str, data: str | tuple[str, ...]) -> None:
        self.calls.append(("registry_set", hive, key, name, data))
        self.registry[(hive, key, name)] = data

    def registry_delete(self, hive: Hive, key: str, name: str) -> bool:
        self.calls.append(("registry_delete", hive, key, name))
        return self.registry.pop((hive, key, name), None) is not None

    def task_create(self, name: str, xml: str) -> CommandResult:
        self.calls.append(("task_create", name, xml))
        self.tasks[name] = xml
        return CommandResult(("schtasks", "/Create"), 0)

    def task_query(self, name: str) -> str | None:
        return self.tasks.get(name)

    def task_delete(self, name: str) -> CommandResult:
        self.calls.append(("task_delete", name))
        self.tasks.pop(name, None)
        return CommandResult(("schtasks", "/Delete"), 0)

    def service_query(self, name: str) -> ServiceInfo | None:
        return self.services.get(name)

    def service_create(self, service: WindowsService) -> None:
        self.calls.append(("service_create", service))
        self.services[service.name] = ServiceInfo(service.binary_path, "stopped", "auto")

    def service_update(self, service: WindowsService) -> None:
        self.calls.append(("service_update", service))
        self.services[service.name] = ServiceInfo(service.binary_path, "stopped", "auto")

    def service_start(self, name: str) -> None:
        self.calls.append(("service_start", name))
        info = self.services[name]
        self.services[name] = ServiceInfo(info.binary_path, "running", info.start_type)

    def service_stop(self, name: str, timeout: float) -> None:
        self.calls.append(("service_stop", name))
        info = self.services.get(name)
        if info is not None:
            self.services[name] = ServiceInfo(info.binary_path, "stopped", info.start_type)

    def service_remove(self, name: str) -> None:
        self.calls.append(("service_remove", name))
        del self.services[name]

    # ------------------------------------------------------------------ helpers

    def ran(self) -> list[tuple[str, ...]]:
        """The argv of every process run, in order."""
        return [tuple(c[1:]) for c in self.calls if c[0] == "run"]

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


def make_target(
    tmp_path: Path,
    *,
    platform: Platform = "linux",
    scope: Scope = "user",
    instance: str = "default",
    program: tuple[str, ...] | None = None,
    environment: tuple[tuple[str, str], ...] = (),
    root: Path | None = None,
    run_as: str | None = None,
    frozen: bool = False,
) -> Target:
    """A Target inside tmp_path; the program is a real executable file unless given."""
    if program is None:
        exe = tmp_path / "bin" / "wats-station"
        if not exe.exists():
            exe.parent.mkdir(parents=True, exist_ok=True)
            exe.write_text("#!/bin/sh\nexit 0\n")
            exe.chmod(0o755)
        program = (str(exe),)
    home = tmp_path / "home"
    return Target(
        instance=instance,
        scope=scope,
        platform=platform,
        program=program,
        home=home,
        config_home=home / ".config",
        log_dir=home / "logs" / instance,
        environment=environment,
        root=root,
        run_as=run_as
        if run_as is not None
        else ("station" if scope == "system" and platform != "windows" else None),
        uid=501,
        account="PLANT\\tester" if platform == "windows" else None,
        frozen=frozen,
    )


def same_task(a: str, b: str) -> bool:
    return task_summary(a) == task_summary(b)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
