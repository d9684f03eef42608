"""Everything a registration plan depends on, read once from the environment.

Plans are pure functions of a `Target`, so tests build Targets for any OS and scope directly,
and `resolve_target` is the only place that looks at the real environment.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from app.core.launcher import is_frozen
from app.core.paths import HOME_ENV, InstanceNameError, InstancePaths, validate_instance_name
from app.service.registration.command import program_command, tray_arguments, worker_arguments
from app.service.registration.model import InvalidRegistrationInput, Platform, Scope

# Puts every file a registration writes under this folder instead of "/" (like DESTDIR) and
# leaves the service manager alone: for tests and package builds.
ROOT_ENV = "WATS_STATION_REGISTRATION_ROOT"


def current_platform() -> Platform:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


@dataclass(frozen=True)
class Target:
    instance: str
    scope: Scope
    platform: Platform
    # The registered program: frozen executable or venv entry point (absolute).
    program: tuple[str, ...]
    # Home of the user the worker runs as (~/.config, ~/Library live there).
    home: Path
    # Linux: $XDG_CONFIG_HOME or ~/.config of that user.
    config_home: Path
    # The instance's log folder for that user (macOS sends launchd's stdout/stderr there).
    log_dir: Path
    # Variables the registration sets for the worker (WATS_STATION_HOME when set at install).
    environment: tuple[tuple[str, str], ...] = ()
    root: Path | None = None
    # System scope on Linux/macOS: the account the worker runs as.
    run_as: str | None = None
    # macOS per-user scope: the launchd domain is gui/<uid>.
    uid: int | None = None
    # Windows per-user scope: DOMAIN\user whose logon starts the task.
    account: str | None = None
    # A frozen build runs as the Windows service itself; a source install uses pywin32's host.
    frozen: bool = False

    @property
    def worker_command(self) -> tuple[str, ...]:
        return (*self.program, *worker_arguments(self.instance))

    @property
    def tray_command(self) -> tuple[str, ...]:
        return (*self.program, *tray_arguments(self.instance))

    def rooted(self, path: Path) -> Path:
        """Where `path` is written: under the registration root when one is set."""
        if self.root is None:
            return path
        return self.root / path.relative_to(path.anchor)

    def with_root(self, root: Path | None) -> Target:
        return replace(self, root=root)


def resolve_target(
    instance: str,
    scope: Scope,
    *,
    run_as: str | None = None,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    platform: Platform | None = None,
    program: tuple[str, ...] | None = None,
) -> Target:
    """Read the environment into a Target; InvalidRegistrationInput for unusable input."""
    env = os.environ if environ is None else environ
    try:
        validate_instance_name(instance)
    except InstanceNameError as exc:
        raise InvalidRegistrationInput(str(exc)) from None
    plat = current_platform() if platform is None else platform
    if run_as is not None and scope != "system":
        raise InvalidRegistrationInput(
            "--user only applies to a system-wide registration (--system)"
        )
    if run_as is not None and plat == "windows":
        raise InvalidRegistrationInput(
            "--user is for Linux and macOS; the Windows service runs as LocalSystem"
        )
    if root is None and env.get(ROOT_ENV, "").strip():
        root = Path(env[ROOT_ENV].strip())
    if root is not None:
        root = root.expanduser().absolute()

    own_home = Path.home()
    home = own_home
    if scope == "system" and plat != "windows":
        run_as = run_as or env.get("SUDO_USER") or _current_user()
        home = _home_of(run_as)
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    config_home = (
        Path(xdg) if xdg and Path(xdg).is_absolute() and home == own_home else (home / ".config")
    )
    log_dir = _relocate(InstancePaths.for_instance(instance, env).log_dir, own_home, home)
    portable_home = env.get(HOME_ENV, "").strip()
    environment = (
        ((HOME_ENV, str(Path(portable_home).expanduser().absolute())),) if portable_home else ()
    )
    return Target(
        instance=instance,
        scope=scope,
        platform=plat,
        program=program_command() if program is None else program,
        home=home,
        config_home=config_home,
        log_dir=log_dir,
        environment=environment,
        root=root,
        run_as=run_as,
        uid=os.getuid() if hasattr(os, "getuid") else None,
        account=_windows_account(env) if plat == "windows" else None,
        frozen=is_frozen(),
    )


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        raise InvalidRegistrationInput(
            "cannot tell which user is installing; name the account with --user NAME"
        ) from None


def _home_of(user: str) -> Path:
    import pwd

    try:
        return Path(pwd.getpwnam(user).pw_dir)
    except KeyError:
        raise InvalidRegistrationInput(f"there is no user {user!r} on this system") from None


def _relocate(path: Path, old_home: Path, new_home: Path) -> Path:
    """The same per-user folder for another user (platformdirs only knows our own home)."""
    if old_home == new_home:
        return path
    try:
        return new_home / path.relative_to(old_home)
    except ValueError:
        return path  # not under a home folder (WATS_STATION_HOME): shared by everyone


def _windows_account(env: Mapping[str, str]) -> str:
    user = env.get("USERNAME") or _current_user()
    domain = env.get("USERDOMAIN", "")
    return f"{domain}\\{user}" if domain else user
