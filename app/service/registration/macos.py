"""macOS: launchd property lists.

Per user:    ~/Library/LaunchAgents/com.wats.station.<instance>.plist       (worker, gui/<uid>)
             ~/Library/LaunchAgents/com.wats.station.<instance>.tray.plist  (tray, at login)
System-wide: /Library/LaunchDaemons/com.wats.station.<instance>.plist       (worker, UserName)

The worker job restarts after a crash but not after a clean stop (KeepAlive SuccessfulExit
false, like systemd's Restart=on-failure). The tray job is only written: launchd loads it at
the next login, and uninstall does not boot it out, which would close a GUI the user has open.
"""

from __future__ import annotations

import plistlib
import re
from pathlib import Path
from typing import Any

from app.service.registration.model import (
    FileArtefact,
    Registration,
    RequiredFolder,
    RunCommand,
    ServiceManager,
    StopWorker,
)
from app.service.registration.os_calls import OsCalls
from app.service.registration.target import Target

LABEL_PREFIX = "com.wats.station"
LAUNCH_DAEMONS = Path("/Library/LaunchDaemons")
STDOUT_LOG = "launchd-stdout.log"
STDERR_LOG = "launchd-stderr.log"
_PID = re.compile(r"^\s*pid = (\d+)", re.MULTILINE)
_STATE = re.compile(r"^\s*state = (\S+)", re.MULTILINE)


def label(instance: str) -> str:
    return f"{LABEL_PREFIX}.{instance}"


def tray_label(instance: str) -> str:
    return f"{LABEL_PREFIX}.{instance}.tray"


def domain(target_scope: str, uid: int | None) -> str:
    if target_scope == "system":
        return "system"
    return f"gui/{uid}"


def worker_job(target: Target) -> dict[str, Any]:
    job: dict[str, Any] = {
        "Label": label(target.instance),
        "ProgramArguments": list(target.worker_command),
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 5,
        "StandardOutPath": str(target.log_dir / STDOUT_LOG),
        "StandardErrorPath": str(target.log_dir / STDERR_LOG),
    }
    if target.environment:
        job["EnvironmentVariables"] = dict(target.environment)
    if target.scope == "system":
        job["UserName"] = target.run_as
    return job


def tray_job(target: Target) -> dict[str, Any]:
    job: dict[str, Any] = {
        "Label": tray_label(target.instance),
        "ProgramArguments": list(target.tray_command),
        "RunAtLoad": True,
        "LimitLoadToSessionType": "Aqua",
        "ProcessType": "Interactive",
    }
    if target.environment:
        job["EnvironmentVariables"] = dict(target.environment)
    return job


def render(job: dict[str, Any]) -> bytes:
    return plistlib.dumps(job, fmt=plistlib.FMT_XML, sort_keys=True)


def plist_command(data: bytes) -> tuple[str, ...] | None:
    """ProgramArguments of a job plist, None when unreadable."""
    try:
        job = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError):
        return None
    args = job.get("ProgramArguments") if isinstance(job, dict) else None
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return None
    return tuple(args)


def plan(target: Target) -> Registration:
    system = target.scope == "system"
    folder = LAUNCH_DAEMONS if system else target.home / "Library" / "LaunchAgents"
    worker_plist = target.rooted(folder / f"{label(target.instance)}.plist")
    artefacts = [
        FileArtefact(
            path=worker_plist,
            content=render(worker_job(target)),
            mode=0o644,
            role="worker",
            description="launchd daemon" if system else "launchd agent",
            format="plist",
        )
    ]
    if not system:
        artefacts.append(
            FileArtefact(
                path=target.rooted(folder / f"{tray_label(target.instance)}.plist"),
                content=render(tray_job(target)),
                mode=0o644,
                role="tray",
                description="launchd agent for the tray (loaded at login)",
                format="plist",
            )
        )
    job_domain = domain(target.scope, target.uid)
    service = f"{job_domain}/{label(target.instance)}"
    when = "boot" if system else "login"
    # launchd opens the log files itself and does not create their folder.
    folders = (RequiredFolder(target.rooted(target.log_dir), target.run_as if system else None),)
    return Registration(
        platform="macos",
        scope=target.scope,
        instance=target.instance,
        worker_command=target.worker_command,
        tray_command=None if system else target.tray_command,
        artefacts=tuple(artefacts),
        install_steps=(
            RunCommand(
                ("launchctl", "bootout", service),
                "unload the job if loaded (it may run an older command)",
                check=False,
            ),
            StopWorker(
                target.instance,
                "stop a worker started another way (GUI, by hand) so the job's can take over",
            ),
            RunCommand(("launchctl", "enable", service), "allow launchd to start the job"),
            RunCommand(
                ("launchctl", "bootstrap", job_domain, str(worker_plist)),
                f"load the job: launchd starts the worker now and at every {when}",
            ),
        ),
        uninstall_steps=(
            RunCommand(
                ("launchctl", "bootout", service), "stop the worker and unload the job", check=False
            ),
        ),
        cleanup_steps=(),
        manager=ServiceManager("launchd", "launchctl", job=service),
        needs_admin=system,
        root=target.root,
        environment=target.environment,
        run_as=target.run_as,
        folders=folders,
    )


def manager_state(registration: Registration, calls: OsCalls) -> str:
    """What `launchctl print` says about the worker job, e.g. "loaded, running (pid 42)"."""
    result = calls.run(("launchctl", "print", registration.manager.job))
    if not result.ok:
        return "not loaded"
    state = _STATE.search(result.stdout)
    pid = _PID.search(result.stdout)
    text = f"loaded, {state.group(1) if state else 'state unknown'}"
    return f"{text} (pid {pid.group(1)})" if pid else text
