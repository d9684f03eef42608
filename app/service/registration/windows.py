r"""Windows: a logon task for the worker and a Run value for the tray (per user), or a Windows
service (system-wide).

Per user:    Task Scheduler task \WATS Station\<instance>, created from XML, at the user's logon;
             HKCU\Software\Microsoft\Windows\CurrentVersion\Run value "WATS Station[ (<instance>)]"
             for the tray; HKCU\Environment value WATS_STATION_HOME (only when set at install).
System-wide: service "wats-station-<instance>" (auto start, restart on failure), created with
             pywin32's win32serviceutil.InstallService; its Environment value carries
             WATS_STATION_HOME when set at install.

Why a task for the worker rather than a Run value: a task can be started now and ended on
uninstall, restarts after a failure, and with an XML definition it has no run-time limit and
keeps running on battery. (`schtasks /Create /SC ONLOGON /TR ...` cannot say that: such a task
is stopped after 72 hours and does not start on battery power, so the XML form is used.)
A Run value cannot carry any of that, so it is used for the tray only, which is how tray
programs normally start.

Task Scheduler and Run values cannot set environment variables for one program, so a
WATS_STATION_HOME given at install becomes a user environment variable, which the worker and
the tray both read (they must agree on it to find the same config and socket).
"""

from __future__ import annotations

import csv
import io
import ntpath
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from app.core.paths import DEFAULT_INSTANCE
from app.service.registration.command import worker_arguments
from app.service.registration.model import (
    Artefact,
    Registration,
    RegistrationError,
    RegistryValue,
    RunCommand,
    ScheduledTask,
    ServiceManager,
    StartWindowsService,
    StopWindowsService,
    StopWorker,
    WindowsService,
)
from app.service.registration.os_calls import OsCalls, WindowsCalls
from app.service.registration.target import Target

TASK_FOLDER = "WATS Station"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
USER_ENVIRONMENT_KEY = "Environment"
SERVICES_KEY = r"SYSTEM\CurrentControlSet\Services"
PYTHON_CLASS = "app.service.windows_service.WatsStationService"
SERVICE_ENTRY = "--windows-service"
SERVICE_HOST = "pythonservice.exe"
TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
# Restart the service 5 s after the first and second failure, 60 s after later ones; forget
# failures after a day without one.
RECOVERY = ("reset=", "86400", "actions=", "restart/5000/restart/5000/restart/60000")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def task_name(instance: str) -> str:
    return f"{TASK_FOLDER}\\{instance}"


def run_value_name(instance: str) -> str:
    return "WATS Station" if instance == DEFAULT_INSTANCE else f"WATS Station ({instance})"


def service_name(instance: str) -> str:
    return f"wats-station-{instance}"


def join_command_line(argv: tuple[str, ...] | list[str]) -> str:
    return subprocess.list2cmdline(list(argv))


def split_command_line(text: str) -> tuple[str, ...]:
    """argv the way Windows (CommandLineToArgvW) splits a command line."""
    text = text.lstrip(" \t")
    if not text:
        return ()
    if text.startswith('"'):
        end = text.find('"', 1)
        end = len(text) if end < 0 else end
        program, rest = text[1:end], text[end + 1 :]
    else:
        match = re.match(r"[^ \t]*", text)
        assert match is not None
        program, rest = match.group(0), text[match.end() :]
    return (program, *_split_arguments(rest))


def _split_arguments(text: str) -> list[str]:
    args: list[str] = []
    current: list[str] = []
    in_word = quoted = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            j = i
            while j < len(text) and text[j] == "\\":
                j += 1
            count = j - i
            if j < len(text) and text[j] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    j += 1
            else:
                current.append("\\" * count)
            in_word, i = True, j
            continue
        if ch == '"':
            quoted, in_word = not quoted, True
        elif ch in " \t" and not quoted:
            if in_word:
                args.append("".join(current))
                current, in_word = [], False
        else:
            current.append(ch)
            in_word = True
        i += 1
    if in_word:
        args.append("".join(current))
    return args


# ------------------------------------------------------------------ scheduled task


def render_task(target: Target) -> str:
    if not target.account:
        raise RegistrationError("cannot tell which Windows account the logon task is for")
    command = target.program[0]
    arguments = join_command_line([*target.program[1:], *worker_arguments(target.instance)])
    account = escape(target.account)
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="{TASK_NS}">
  <RegistrationInfo>
    <Description>Starts the WATS Station worker (instance {escape(target.instance)}) at logon. \
Written by `wats-station service install`.</Description>
    <URI>\\{escape(task_name(target.instance))}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>
      <UserId>{account}</UserId>
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>{account}</UserId>
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>false</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>5</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(command)}</Command>
      <Arguments>{escape(arguments)}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def _task_text(root: ET.Element, path: str) -> str | None:
    found = root.find(path, {"t": TASK_NS})
    return None if found is None or found.text is None else found.text.strip()


def task_summary(xml: str) -> dict[str, object] | None:
    """What matters in a task definition (as we write it or as schtasks prints it)."""
    try:
        root = ET.fromstring(_XML_DECLARATION.sub("", xml, count=1))
    except ET.ParseError:
        return None
    command = _task_text(root, "t:Actions/t:Exec/t:Command")
    if command is None:
        return None
    arguments = _task_text(root, "t:Actions/t:Exec/t:Arguments") or ""
    return {
        "command": (command.strip('"'), *_split_arguments(arguments)),
        "logon_user": _task_text(root, "t:Triggers/t:LogonTrigger/t:UserId"),
        "time_limit": _task_text(root, "t:Settings/t:ExecutionTimeLimit"),
        "on_batteries": _task_text(root, "t:Settings/t:DisallowStartIfOnBatteries"),
        "restart": _task_text(root, "t:Settings/t:RestartOnFailure/t:Interval"),
    }


def task_command(xml: str) -> tuple[str, ...] | None:
    summary = task_summary(xml)
    if summary is None:
        return None
    command = summary["command"]
    assert isinstance(command, tuple)
    return command


# ------------------------------------------------------------------ plan


def _user_artefacts(target: Target) -> tuple[Artefact, ...]:
    task = ScheduledTask(
        name=task_name(target.instance),
        xml=render_task(target),
        command=target.worker_command,
        role="worker",
        description="logon task for the worker",
    )
    tray = RegistryValue(
        hive="HKCU",
        key=RUN_KEY,
        name=run_value_name(target.instance),
        data=join_command_line(target.tray_command),
        role="tray",
        description="Run value for the tray",
    )
    environment = [
        RegistryValue(
            hive="HKCU",
            key=USER_ENVIRONMENT_KEY,
            name=name,
            data=value,
            role="setting",
            description=f"user environment variable {name} (worker and tray read it)",
        )
        for name, value in target.environment
    ]
    return (task, tray, *environment)


def _service(target: Target) -> WindowsService:
    name = service_name(target.instance)
    if target.frozen:
        exe: str | None = target.program[0]
        exe_args: str | None = join_command_line([SERVICE_ENTRY, "--instance", target.instance])
        python_class: str | None = None
        binary = f'"{exe}" {exe_args}'
    else:
        # A source install has no executable of its own that can talk to the service manager:
        # pywin32's pythonservice.exe hosts the service class (copied next to the interpreter
        # by InstallService); the instance comes from the service name.
        exe, exe_args, python_class = None, None, PYTHON_CLASS
        binary = f'"{ntpath.join(sys.exec_prefix, SERVICE_HOST)}"'
    return WindowsService(
        name=name,
        display_name=f"WATS Station worker ({target.instance})",
        service_description="Converts tester result files to WATS reports and uploads them "
        f"(instance {target.instance}).",
        binary_path=binary,
        command=split_command_line(binary),
        exe_name=exe,
        exe_args=exe_args,
        python_class=python_class,
        role="worker",
        description="Windows service for the worker",
    )


def plan(target: Target) -> Registration:
    if target.scope == "user":
        name = task_name(target.instance)
        return Registration(
            platform="windows",
            scope="user",
            instance=target.instance,
            worker_command=target.worker_command,
            tray_command=target.tray_command,
            artefacts=_user_artefacts(target),
            install_steps=(
                StopWorker(
                    target.instance,
                    "stop a worker started another way (GUI, by hand) so the task's takes over",
                ),
                RunCommand(("schtasks", "/Run", "/TN", name), "start the worker now"),
            ),
            uninstall_steps=(
                RunCommand(
                    ("schtasks", "/End", "/TN", name),
                    "end the worker the task started",
                    check=False,
                ),
            ),
            cleanup_steps=(),
            manager=ServiceManager("Task Scheduler", "schtasks", job=name),
            needs_admin=False,
            environment=target.environment,
        )
    service = _service(target)
    artefacts_list: list[Artefact] = [service]
    if target.environment:
        artefacts_list.append(
            RegistryValue(
                hive="HKLM",
                key=f"{SERVICES_KEY}\\{service.name}",
                name="Environment",
                data=tuple(f"{k}={v}" for k, v in target.environment),
                role="setting",
                description="the service's environment",
            )
        )
    return Registration(
        platform="windows",
        scope="system",
        instance=target.instance,
        worker_command=service.command,
        tray_command=None,
        artefacts=tuple(artefacts_list),
        install_steps=(
            RunCommand(("sc.exe", "failure", service.name, *RECOVERY), "restart it when it fails"),
            RunCommand(
                ("sc.exe", "failureflag", service.name, "1"),
                "count a worker that exits with an error as a failure too",
            ),
            StopWindowsService(service.name, "stop the service if it runs an older command"),
            StartWindowsService(service.name, "start the service now"),
        ),
        uninstall_steps=(StopWindowsService(service.name, "stop the service"),),
        cleanup_steps=(),
        manager=ServiceManager("Windows service manager", "sc.exe", job=service.name),
        needs_admin=True,
        environment=target.environment,
    )


def manager_state(registration: Registration, calls: OsCalls) -> str:
    if not isinstance(calls, WindowsCalls):
        raise RegistrationError("the Windows registry and services are not available here")
    if registration.scope == "system":
        info = calls.service_query(registration.manager.job)
        return "not installed" if info is None else f"{info.start_type} start, {info.state}"
    result = calls.run(("schtasks", "/Query", "/TN", registration.manager.job, "/FO", "CSV", "/NH"))
    if not result.ok:
        return "no such task"
    rows = [row for row in csv.reader(io.StringIO(result.stdout)) if row]
    # Columns: task name, next run time, status (in the language of the system).
    return f"task {rows[0][2].lower()}" if rows and len(rows[0]) >= 3 else "task registered"
