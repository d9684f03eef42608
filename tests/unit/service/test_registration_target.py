"""Reading the environment into a Target: command, homes, roots, users, bad input."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import pytest

from app.service.registration import command
from app.service.registration.model import InvalidRegistrationInput
from app.service.registration.target import ROOT_ENV, resolve_target


def test_the_registered_program_is_the_venv_entry_point(tmp_path: Path) -> None:
    scripts = tmp_path / "bin"
    scripts.mkdir()
    (scripts / "wats-station").write_text("#!/bin/sh\n")
    assert command.program_command(scripts_dir=scripts, windows=False) == (
        str(scripts / "wats-station"),
    )
    (scripts / "wats-station.exe").write_text("MZ")
    assert command.program_command(scripts_dir=scripts, windows=True) == (
        str(scripts / "wats-station.exe"),
    )


def test_without_an_entry_point_the_interpreter_runs_the_package(tmp_path: Path) -> None:
    assert command.program_command(scripts_dir=tmp_path, windows=False) == (
        str(Path(sys.executable).absolute()),
        "-m",
        "app",
    )


def test_a_frozen_build_registers_its_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tmp_path / "wats-station"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert command.program_command(scripts_dir=tmp_path) == (str(exe),)


def test_this_venv_has_its_entry_point() -> None:
    program = command.program_command()
    assert Path(program[0]).name in {"wats-station", "wats-station.exe"}
    assert Path(program[0]).is_file()


def test_user_target_follows_xdg_config_home_and_keeps_the_portable_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = {
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "WATS_STATION_HOME": str(tmp_path / "wats"),
    }
    target = resolve_target("line2", "user", environ=environ, platform="linux")
    assert target.config_home == tmp_path / "xdg"
    assert target.environment == (("WATS_STATION_HOME", str(tmp_path / "wats")),)
    assert target.log_dir == tmp_path / "wats" / "line2" / "logs"
    assert target.worker_command[-3:] == ("--service", "--instance", "line2")
    assert target.root is None
    assert target.run_as is None


def test_relative_xdg_config_home_is_ignored(tmp_path: Path) -> None:
    target = resolve_target("default", "user", environ={"XDG_CONFIG_HOME": "rel"}, platform="linux")
    assert target.config_home == Path.home() / ".config"


def test_registration_root_comes_from_the_environment(tmp_path: Path) -> None:
    target = resolve_target(
        "default", "system", environ={ROOT_ENV: str(tmp_path)}, platform="linux"
    )
    assert target.root == tmp_path
    assert target.rooted(Path("/etc/systemd/system/x.service")) == (
        tmp_path / "etc/systemd/system/x.service"
    )


def test_system_target_runs_as_the_sudo_user(tmp_path: Path) -> None:
    me = getpass.getuser()
    target = resolve_target("default", "system", environ={"SUDO_USER": me}, platform="linux")
    assert target.run_as == me
    named = resolve_target("default", "system", run_as="root", environ={}, platform="linux")
    assert named.run_as == "root"
    assert named.home == Path("/root")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"instance": "bad name"}, "may only contain letters, digits"),
        ({"run_as": "nobody"}, "--user only applies to a system-wide registration"),
        (
            {"scope": "system", "run_as": "no-such-user-xyz"},
            "there is no user 'no-such-user-xyz' on this system",
        ),
        (
            {"scope": "system", "run_as": "tester", "platform": "windows"},
            "the Windows service runs as LocalSystem",
        ),
    ],
)
def test_unusable_input_is_explained(kwargs: dict[str, str], message: str) -> None:
    args = {"instance": "default", "scope": "user", "platform": "linux", **kwargs}
    with pytest.raises(InvalidRegistrationInput, match=message):
        resolve_target(
            args["instance"],
            args["scope"],  # type: ignore[arg-type]
            run_as=args.get("run_as"),
            environ={},
            platform=args["platform"],  # type: ignore[arg-type]
        )


def test_windows_target_knows_the_account() -> None:
    target = resolve_target(
        "default", "user", environ={"USERNAME": "tester", "USERDOMAIN": "PLANT"}, platform="windows"
    )
    assert target.account == "PLANT\\tester"
