"""Linux: a systemd unit for the worker, plus an XDG autostart entry for the tray (per user).

Per user:    $XDG_CONFIG_HOME/systemd/user/wats-station-<instance>.service (default.target)
             $XDG_CONFIG_HOME/autostart/wats-station[-<instance>].desktop
System-wide: /etc/systemd/system/wats-station-<instance>.service (User=, multi-user.target)

One plain unit per instance rather than a template (wats-station@.service): each instance's
unit carries its own command line and environment, so moving or reinstalling one instance
never changes another, and status can compare each file with what install would write.
"""

from __future__ import annotations

from pathlib import Path

from app.core.paths import DEFAULT_INSTANCE
from app.service.registration import desktop_entry, unitfile
from app.service.registration.model import (
    FileArtefact,
    Registration,
    RegistrationError,
    RunCommand,
    ServiceManager,
    StopWorker,
)
from app.service.registration.os_calls import OsCalls
from app.service.registration.target import Target

SYSTEM_UNIT_DIR = Path("/etc/systemd/system")
HEADER = (
    "# Written by `wats-station service install`; remove it with `wats-station service uninstall`."
)


def unit_name(instance: str) -> str:
    return f"wats-station-{instance}.service"


def desktop_file_name(instance: str) -> str:
    return (
        "wats-station.desktop"
        if instance == DEFAULT_INSTANCE
        else f"wats-station-{instance}.desktop"
    )


def unit_dir(target: Target) -> Path:
    if target.scope == "system":
        return SYSTEM_UNIT_DIR
    return target.config_home / "systemd" / "user"


def render_unit(target: Target) -> str:
    system = target.scope == "system"
    lines = [HEADER, "[Unit]", f"Description=WATS Station worker (instance {target.instance})"]
    if system:
        # Uploads need the network; at login (user units) it is up already.
        lines += ["Wants=network-online.target", "After=network-online.target"]
    lines += [
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={unitfile.exec_value(target.worker_command)}",
    ]
    lines += [f"Environment={unitfile.environment_value(k, v)}" for k, v in target.environment]
    if system:
        if not target.run_as:
            raise RegistrationError("a system-wide unit needs the account the worker runs as")
        lines.append(f"User={target.run_as}")
    # The worker stops cleanly on SIGTERM; a crash (non-zero exit) brings it back in 5 s.
    # 73: another worker already serves the instance (app.service.main); not a crash.
    # (75 is a requested restart: app.service.restart; systemd restarts that one.)
    lines += ["Restart=on-failure", "RestartSec=5", "RestartPreventExitStatus=73", ""]
    lines += ["[Install]", f"WantedBy={'multi-user.target' if system else 'default.target'}", ""]
    return "\n".join(lines)


def tray_exec(target: Target) -> tuple[str, ...]:
    """The tray's command; `env NAME=VALUE` in front when the registration sets variables, so
    the GUI finds the same config and socket as the worker."""
    if not target.environment:
        return target.tray_command
    return ("env", *(f"{k}={v}" for k, v in target.environment), *target.tray_command)


def render_desktop_entry(target: Target) -> str:
    name = "WATS Station"
    if target.instance != DEFAULT_INSTANCE:
        name = f"WATS Station ({target.instance})"
    return "\n".join(
        [
            "[Desktop Entry]",
            HEADER,
            "Type=Application",
            f"Name={name}",
            "Comment=Tray icon of the WATS Station test-data uploader",
            f"Exec={desktop_entry.exec_value(tray_exec(target))}",
            "Terminal=false",
            "X-GNOME-Autostart-enabled=true",
            "",
        ]
    )


def _systemctl(target_scope: str) -> tuple[str, ...]:
    return ("systemctl",) if target_scope == "system" else ("systemctl", "--user")


def plan(target: Target) -> Registration:
    system = target.scope == "system"
    unit = unit_name(target.instance)
    unit_text = render_unit(target)
    artefacts: list[FileArtefact] = [
        FileArtefact(
            path=target.rooted(unit_dir(target) / unit),
            content=unit_text.encode("utf-8"),
            mode=0o644,
            role="worker",
            description="systemd system unit" if system else "systemd user unit",
            format="systemd-unit",
        )
    ]
    if not system:
        artefacts.append(
            FileArtefact(
                path=target.rooted(
                    target.config_home / "autostart" / desktop_file_name(target.instance)
                ),
                content=render_desktop_entry(target).encode("utf-8"),
                mode=0o644,
                role="tray",
                description="XDG autostart entry for the tray",
                format="desktop-entry",
            )
        )
    systemctl = _systemctl(target.scope)
    when = "boot" if system else "login"
    return Registration(
        platform="linux",
        scope=target.scope,
        instance=target.instance,
        worker_command=target.worker_command,
        tray_command=None if system else target.tray_command,
        artefacts=tuple(artefacts),
        install_steps=(
            RunCommand((*systemctl, "daemon-reload"), "make systemd read the unit"),
            RunCommand((*systemctl, "enable", unit), f"start the worker at every {when}"),
            RunCommand((*systemctl, "stop", unit), "stop the worker this unit runs, if any"),
            StopWorker(
                target.instance,
                "stop a worker started another way (GUI, by hand) so the unit's can take over",
            ),
            RunCommand((*systemctl, "start", unit), "start the registered worker now"),
        ),
        uninstall_steps=(
            RunCommand(
                (*systemctl, "disable", "--now", unit),
                f"stop the worker and no longer start it at {when}",
                check=False,
            ),
        ),
        cleanup_steps=(
            RunCommand((*systemctl, "daemon-reload"), "make systemd forget the unit"),
            RunCommand((*systemctl, "reset-failed", unit), "forget a failed state", check=False),
        ),
        manager=ServiceManager(
            "systemd", "systemctl", job=unit, probe=(*systemctl, "show-environment")
        ),
        needs_admin=system,
        root=target.root,
        environment=target.environment,
        run_as=target.run_as,
    )


def manager_state(registration: Registration, calls: OsCalls) -> str:
    """`systemctl is-enabled` and `is-active` of the unit, e.g. "enabled, active"."""
    systemctl = _systemctl(registration.scope)
    unit = registration.manager.job
    enabled = calls.run((*systemctl, "is-enabled", unit))
    active = calls.run((*systemctl, "is-active", unit))
    return f"{enabled.stdout.strip() or enabled.message}, {active.stdout.strip() or active.message}"
