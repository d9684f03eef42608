"""`wats-station service ...` for real on Linux: real processes, real files, real systemctl
and systemd-analyze where installed, a real worker for "is it running" and for take-over.

Nothing touches the real ~/.config or /etc: per-user files go to XDG_CONFIG_HOME in the test's
folder, system-wide ones under WATS_STATION_REGISTRATION_ROOT. systemctl is run for real but
cannot reach any user manager (DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR point into the
test's folder), so the "no systemd session" path is what runs, on every machine.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.commands.exitcodes import Exit
from app.service import registration
from app.service.registration import desktop_entry, unitfile
from app.service.registration.command import program_command
from app.service.registration.os_calls import CommandResult, SystemCalls
from app.service.registration.target import ROOT_ENV
from tests.integration.ipc.support import wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

REPO = Path(__file__).resolve().parents[2]
UNIT = "systemd/user/wats-station-default.service"
DESKTOP = "autostart/wats-station.desktop"
WORKER_START_S = 30.0


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WATS_STATION_")}
    clean.update(
        WATS_STATION_HOME=os.environ["WATS_STATION_HOME"],
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        XDG_RUNTIME_DIR=str(runtime),
        DBUS_SESSION_BUS_ADDRESS=f"unix:path={runtime}/no-bus",
    )
    return clean


@pytest.fixture
def xdg(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"])


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "service", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def files_in(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def analyze(unit: Path, env: dict[str, str], *, user: bool) -> subprocess.CompletedProcess[str]:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd); ours ran")
    scope = ["--user"] if user else []
    return subprocess.run(
        ["systemd-analyze", *scope, "verify", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_install_writes_the_unit_and_autostart_entry(xdg: Path, env: dict[str, str]) -> None:
    done = cli(env, "install")
    assert done.returncode == Exit.OK, done.stderr
    program = program_command()[0]
    command = f"{program} --service --instance default"
    assert "note: written, but systemd is not available in this session" in done.stdout, done.stdout
    assert f"start the worker with `{command}`" in done.stdout
    assert sorted(files_in(xdg)) == [DESKTOP, UNIT]
    assert (xdg / UNIT).stat().st_mode & 0o777 == 0o644

    text = (xdg / UNIT).read_text()
    unit = unitfile.parse_unit(text)
    assert unit.value("Service", "ExecStart") == command
    assert unit.value("Service", "Restart") == "on-failure"
    assert unit.value("Service", "RestartSec") == "5"
    assert unit.values("Service", "Environment") == [
        f"WATS_STATION_HOME={env['WATS_STATION_HOME']}"
    ]
    assert unit.value("Install", "WantedBy") == "default.target"
    assert unitfile.check_service_unit(text) == []

    entry = desktop_entry.parse_entry((xdg / DESKTOP).read_text())
    assert entry["X-GNOME-Autostart-enabled"] == "true"
    assert desktop_entry.split_exec(entry["Exec"]) == (
        "env",
        f"WATS_STATION_HOME={env['WATS_STATION_HOME']}",
        program,
        "--minimized",
    )


def test_systemd_analyze_accepts_the_user_unit(xdg: Path, env: dict[str, str]) -> None:
    assert cli(env, "install").returncode == Exit.OK
    checked = analyze(xdg / UNIT, env, user=True)
    assert checked.returncode == 0, checked.stderr
    # systemd-analyze only warns about unknown keys or bad values: any word about it is a fail.
    assert "wats-station-default.service" not in checked.stderr, checked.stderr


def test_install_twice_is_the_same_and_uninstall_leaves_nothing(
    xdg: Path, env: dict[str, str]
) -> None:
    assert cli(env, "install").returncode == Exit.OK
    first = files_in(xdg)
    again = cli(env, "install")
    assert again.returncode == Exit.OK
    assert again.stdout.count("already up to date") == 2
    assert files_in(xdg) == first

    (xdg / "autostart" / "someone-else.desktop").write_text("[Desktop Entry]\nName=x\n")
    removed = cli(env, "uninstall")
    assert removed.returncode == Exit.OK, removed.stderr
    assert "removed systemd user unit" in removed.stdout
    assert sorted(files_in(xdg)) == ["autostart/someone-else.desktop"]
    nothing = cli(env, "uninstall")
    assert nothing.returncode == Exit.OK
    assert nothing.stdout.count("was not there") == 2


def test_status_tells_the_truth(xdg: Path, env: dict[str, str]) -> None:
    before = cli(env, "status")
    assert before.returncode == Exit.FAILED
    assert "registered:  no" in before.stdout

    assert cli(env, "install").returncode == Exit.OK
    after = cli(env, "status", "--json")
    assert after.returncode == Exit.OK
    report = json.loads(after.stdout)
    assert report["registered"] is True
    assert report["current"] is True
    assert report["command_matches"] is True
    assert report["executable_exists"] is True
    assert report["worker_running"] is False
    assert report["manager"]["name"] == "systemd"
    assert report["manager"]["state"].startswith("not available in this session")

    # The program moved: the registration still points at the old place.
    text = (xdg / UNIT).read_text()
    (xdg / UNIT).write_text(text.replace(program_command()[0], "/opt/old/wats-station"))
    stale = cli(env, "status")
    assert stale.returncode == Exit.FAILED
    assert "yes, but it differs from what install writes now" in stale.stdout
    assert "matches this executable:  no" in stale.stdout
    assert "the registered program /opt/old/wats-station no longer exists" in stale.stdout
    assert cli(env, "install").returncode == Exit.OK  # install repairs it
    assert cli(env, "status").returncode == Exit.OK


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real worker for the default instance of this test's home, started by hand."""
    with (tmp_path / "worker.stderr").open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "--service", "--instance", "default"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    calls = SystemCalls()
    try:
        wait_until(
            lambda: process.poll() is not None or calls.worker_answers("default"),
            WORKER_START_S,
            "the worker answering",
        )
        assert process.poll() is None, (tmp_path / "worker.stderr").read_text()
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def test_status_sees_a_running_worker(env: dict[str, str], worker: subprocess.Popen[bytes]) -> None:
    assert cli(env, "install").returncode == Exit.OK
    done = cli(env, "status")
    assert "worker running:  yes" in done.stdout, done.stdout


class SystemdSessionCalls(SystemCalls):
    """The real boundary (real IPC), with a systemd that records instead of acting."""

    def __init__(self) -> None:
        super().__init__()
        self.ran: list[tuple[str, ...]] = []

    def which(self, program: str) -> str | None:
        return "/usr/bin/systemctl" if program == "systemctl" else super().which(program)

    def run(self, argv: Sequence[str], timeout: float = 60.0) -> CommandResult:
        self.ran.append(tuple(argv))
        return CommandResult(tuple(argv), 0)


def test_install_takes_over_from_a_worker_started_by_hand(
    xdg: Path, env: dict[str, str], worker: subprocess.Popen[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    target = registration.resolve_target("default", "user")
    calls = SystemdSessionCalls()
    outcome = registration.install(registration.plan(target), calls)
    assert outcome.ok, outcome.errors
    assert "stopped the worker that was running" in outcome.done
    assert worker.wait(timeout=30) == 0  # it stopped cleanly when asked over IPC
    unit = "wats-station-default.service"
    assert calls.ran == [
        ("systemctl", "--user", "show-environment"),
        ("systemctl", "--user", "daemon-reload"),
        ("systemctl", "--user", "enable", unit),
        ("systemctl", "--user", "stop", unit),
        ("systemctl", "--user", "start", unit),
    ]


def test_system_unit_under_a_registration_root(tmp_path: Path, env: dict[str, str]) -> None:
    root = tmp_path / "root"
    rooted = {**env, ROOT_ENV: str(root)}
    me = getpass.getuser()  # systemd-analyze rightly warns about "nobody"
    done = cli(rooted, "install", "--system", "--user", me)
    assert done.returncode == Exit.OK, done.stderr
    unit_path = root / "etc/systemd/system/wats-station-default.service"
    assert sorted(files_in(root)) == ["etc/systemd/system/wats-station-default.service"]
    unit = unitfile.parse_unit(unit_path.read_text())
    assert unit.value("Service", "User") == me
    assert unit.value("Install", "WantedBy") == "multi-user.target"
    assert unit.value("Unit", "Wants") == "network-online.target"
    checked = analyze(unit_path, env, user=False)
    assert checked.returncode == 0, checked.stderr
    assert "wats-station-default.service" not in checked.stderr, checked.stderr
    assert cli(rooted, "uninstall", "--system").returncode == Exit.OK
    assert files_in(root) == {}


def test_real_systemd_detection_on_this_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the test's isolation: if this machine has no systemd user session (CI,
    containers), install must say so rather than fail."""
    calls = SystemCalls()
    probe = calls.run(["systemctl", "--user", "show-environment"])
    if calls.which("systemctl") is not None and probe.ok:
        pytest.skip("a systemd user session is running here; installing would register with it")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    reg = registration.plan(registration.resolve_target("default", "user"))
    outcome = registration.install(reg, calls)
    assert outcome.ok
    assert outcome.notes[0].startswith("written, but systemd is not available in this session (")
    assert (tmp_path / "xdg" / UNIT).is_file()
    assert registration.uninstall(reg, calls).ok
    assert not (tmp_path / "xdg" / UNIT).exists()
