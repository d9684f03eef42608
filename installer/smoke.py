"""Smoke-test what ships: the frozen executable, the .deb and the Windows installer script.

    python -m installer.smoke --exe dist/wats-station --deb dist/wats-station_*.deb

Each check prints one PASS/FAIL (or SKIP) line; the exit code is 0 only if none failed.

- selftest   the frozen `selftest` passes, run from a folder outside the source tree with
             no Python on PATH (and no PYTHON* variables)
- demo       the frozen `demo` runs the whole station against its local server
- gui        the frozen GUI (offscreen) reaches the tray and spawns its frozen worker, which
             unpacks on its own (PYINSTALLER_RESET_ENVIRONMENT=1); closing the GUI removes
             the GUI's unpack folder and leaves the worker running and uploading
- deb        the package installs into a scratch root (dependencies checked against this
             machine), the installed binary runs, removal and purge leave user data alone
- nsis       the Windows installer script compiles with makensis around a stand-in payload

The frozen program runs in a scratch folder with HOME, TMPDIR and WATS_STATION_HOME inside
it, so the unpack folders of the one-file build can be watched and nothing outside is
touched. Measurements (start-to-tray time, the idle worker's memory) come from the same
code and are what bench/frozen.py reports.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.devserver.threaded import RunningServer

ROOT = Path(__file__).resolve().parent.parent
NSIS_SCRIPT = ROOT / "installer" / "windows" / "wats-station.nsi"
GUI_LOG = "gui.log"
TRAY_LINE = "tray icon shown"
CONNECTED_LINE = "worker link: connecting -> connected"
RUN_TIMEOUT_S = 300.0
GUI_TIMEOUT_S = 60.0
SAMPLE = "wsjf-uut-minimal.json"
PYTHON_NAMES = ("python", "python3", "python3.11", "py")


class SmokeFailure(Exception):
    """A smoke check failed; `str()` says what was seen."""


class SmokeSkipped(Exception):
    """A smoke check cannot run on this machine; `str()` says why."""


def wait_for(
    condition: Callable[[], object], timeout: float, what: str, poll: float = 0.02
) -> None:
    """Poll `condition` until it is true; SmokeFailure naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise SmokeFailure(f"timed out after {timeout:.0f} s waiting for {what}")


# ------------------------------------------------------------------ a frozen copy to run


@dataclass
class FrozenCopy:
    """The executable copied into a scratch folder, run with a clean environment."""

    root: Path
    exe: Path

    @classmethod
    def create(cls, exe: Path, root: Path) -> FrozenCopy:
        for folder in ("bin", "home", "tmp", "station", "emptybin", "work"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        copy = root / "bin" / exe.name
        shutil.copy2(exe, copy)
        return cls(root, copy)

    @property
    def station_home(self) -> Path:
        return self.root / "station"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def env(self, **extra: str) -> dict[str, str]:
        """No Python anywhere: PATH is an empty folder, and nothing from this shell leaks in."""
        env = {
            "HOME": str(self.root / "home"),
            "PATH": str(self.root / "emptybin"),
            "TMPDIR": str(self.tmp),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(self.root / "home" / "run"),
        }
        env.update(extra)
        return env

    def run(
        self, *args: str, timeout: float = RUN_TIMEOUT_S, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        env = self.env(**extra)
        (self.root / "home" / "run").mkdir(mode=0o700, exist_ok=True)
        try:
            return subprocess.run(
                [str(self.exe), *args],
                cwd=self.root / "work",
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise SmokeFailure(f"`{' '.join(args)}` did not finish within {timeout:.0f} s") from exc

    def unpack_dirs(self) -> set[Path]:
        return set(self.tmp.glob("_MEI*"))


def assert_no_python(env: dict[str, str]) -> None:
    found = [name for name in PYTHON_NAMES if shutil.which(name, path=env["PATH"])]
    if found or any(k.startswith("PYTHON") for k in env):
        raise SmokeFailure(f"the clean environment still offers Python ({found})")


def _outside_source_tree(path: Path) -> None:
    if path.resolve().is_relative_to(ROOT):
        raise SmokeFailure(f"{path} is inside the source tree; the smoke test must run outside")


# ------------------------------------------------------------------ processes (Linux /proc)


def process_exists(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def environment_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (part.decode(errors="replace").partition("=") for part in raw.split(b"\0") if part)
    return {key: value for key, _, value in pairs}


def unpack_dir_of(pid: int) -> Path | None:
    """The one-file unpack folder (_MEI...) whose libraries `pid` has mapped."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return None
    for line in maps.splitlines():
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        for part in Path(path).parents:
            if part.name.startswith("_MEI"):
                return part
    return None


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def process_tree_rss_mb(pid: int, exe: Path) -> float:
    """RSS of `pid` plus its one-file bootloader parent (the same executable), in MiB."""
    total = rss_mb(pid)
    parent = parent_of(pid)
    if parent and parent > 1:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{parent}/exe").resolve() == exe.resolve():
                total += rss_mb(parent)
    return round(total, 1)


# ------------------------------------------------------------------ checks: CLI


def check_selftest(frozen: FrozenCopy) -> str:
    env = frozen.env()
    assert_no_python(env)
    _outside_source_tree(frozen.exe)
    result = frozen.run("selftest")
    if result.returncode != 0 or "selftest passed" not in result.stdout:
        raise SmokeFailure(
            f"selftest exited {result.returncode}:\n{result.stdout}{result.stderr}".strip()
        )
    passes = sum(1 for line in result.stdout.splitlines() if line.startswith("PASS"))
    return f"frozen selftest: {passes} checks passed (no Python on PATH, run from {frozen.root})"


def check_demo(frozen: FrozenCopy) -> str:
    result = frozen.run("demo", "--files", "20")
    if result.returncode != 0 or "Summary" not in result.stdout:
        raise SmokeFailure(f"demo exited {result.returncode}:\n{result.stdout}{result.stderr}")
    uploaded = next(
        (
            line.split()[1]
            for line in result.stdout.splitlines()
            if line.strip().startswith("uploaded")
        ),
        "?",
    )
    return f"frozen demo finished: {uploaded} reports uploaded to its local server"


# ------------------------------------------------------------------ checks: GUI


@dataclass
class GuiRun:
    """What one start of the frozen GUI showed."""

    start_to_tray_s: float
    start_to_worker_s: float
    worker_pid: int
    worker_idle_rss_mb: float
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def local_server() -> Iterator[RunningServer]:
    from app.devserver import run_in_thread

    with run_in_thread(port=0) as server:
        yield server


@contextlib.contextmanager
def station_environment(home: Path) -> Iterator[None]:
    """Point this process's IPC client at the scratch station (WATS_STATION_HOME)."""
    saved = os.environ.get("WATS_STATION_HOME")
    os.environ["WATS_STATION_HOME"] = str(home)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("WATS_STATION_HOME", None)
        else:
            os.environ["WATS_STATION_HOME"] = saved


def configure_station(frozen: FrozenCopy, server_url: str, token: str, drop: Path) -> None:
    """The first config, written by the frozen `config init` as an installer would."""
    drop.mkdir(parents=True, exist_ok=True)
    result = frozen.run(
        "config", "init", "--no-input", "--server", server_url, "--token", token,
        "--station", "SMOKE", "--watch-folder", str(drop), "--secret-store", "file",
        WATS_STATION_HOME=str(frozen.station_home),
    )  # fmt: skip
    if result.returncode != 0:
        raise SmokeFailure(f"config init failed: {result.stderr.strip()}")


def run_gui(frozen: FrozenCopy, *, close: bool = True, upload_after_close: bool = True) -> GuiRun:
    """Start the frozen GUI on a configured scratch station and follow it (see module doc)."""
    from app.ipc.blocking import BlockingIpcClient

    drop = frozen.root / "drop"
    with local_server() as server:
        configure_station(frozen, server.url, server.token, drop)
        log = frozen.station_home / "default" / "logs" / GUI_LOG
        env = frozen.env(WATS_STATION_HOME=str(frozen.station_home))
        (frozen.root / "home" / "run").mkdir(mode=0o700, exist_ok=True)
        before = frozen.unpack_dirs()
        started = time.monotonic()
        gui = subprocess.Popen(
            [str(frozen.exe)],
            cwd=frozen.root / "work",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(frozen.root / "gui-stderr.txt").open("wb"),
        )
        worker_pid: int | None = None
        try:

            def log_has(text: str) -> bool:
                try:
                    return text in log.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    return False

            def gui_alive() -> bool:
                if gui.poll() is not None:
                    raise SmokeFailure(f"the GUI exited with code {gui.returncode} at start")
                return True

            wait_for(lambda: gui_alive() and log_has(TRAY_LINE), GUI_TIMEOUT_S, "the tray")
            tray_s = time.monotonic() - started
            wait_for(lambda: gui_alive() and log_has(CONNECTED_LINE), GUI_TIMEOUT_S, "the worker")
            worker_s = time.monotonic() - started
            with station_environment(frozen.station_home):
                client = BlockingIpcClient("default", timeout=10)
                worker_pid = int(client.call("ping")["pid"])
                client.close()
            run = GuiRun(round(tray_s, 2), round(worker_s, 2), worker_pid, 0.0)
            _check_frozen_worker(frozen, gui.pid, worker_pid, run)
            if close:
                _close_gui(frozen, gui, worker_pid, before, run)
            if upload_after_close:
                _check_worker_uploads(frozen, server, drop)
                run.notes.append("the worker converted and uploaded a file after the GUI closed")
            # Idle: nothing to convert or upload; give the interpreter a moment to settle.
            time.sleep(3.0)
            run.worker_idle_rss_mb = process_tree_rss_mb(worker_pid, frozen.exe)
            return run
        finally:
            if gui.poll() is None:
                gui.terminate()
                gui.wait(30)
            _stop_worker(frozen, worker_pid)


def _check_frozen_worker(frozen: FrozenCopy, gui_pid: int, worker_pid: int, run: GuiRun) -> None:
    args = command_line(worker_pid)
    if not args or Path(args[0]).resolve() != frozen.exe.resolve() or "--service" not in args:
        raise SmokeFailure(f"the worker is not the frozen executable with --service: {args}")
    bootloader = parent_of(worker_pid)
    if bootloader is None or environment_of(bootloader).get("PYINSTALLER_RESET_ENVIRONMENT") != "1":
        raise SmokeFailure("the worker was not spawned with PYINSTALLER_RESET_ENVIRONMENT=1")
    gui_python = children_of(gui_pid)
    gui_dirs = {d for p in gui_python if (d := unpack_dir_of(p)) is not None}
    worker_dir = unpack_dir_of(worker_pid)
    if worker_dir is None or not gui_dirs:
        raise SmokeFailure(f"unpack folders not found (GUI {gui_dirs}, worker {worker_dir})")
    if worker_dir in gui_dirs:
        raise SmokeFailure(f"the worker runs from the GUI's unpack folder {worker_dir}")
    run.notes.append(
        f"worker unpacked on its own ({worker_dir.name}, GUI {sorted(gui_dirs)[0].name})"
    )


def _close_gui(
    frozen: FrozenCopy,
    gui: subprocess.Popen[bytes],
    worker_pid: int,
    before: set[Path],
    run: GuiRun,
) -> None:
    gui_dirs = {d for p in children_of(gui.pid) if (d := unpack_dir_of(p)) is not None}
    gui.send_signal(signal.SIGTERM)  # what the session does at logout
    try:
        gui.wait(30)
    except subprocess.TimeoutExpired:
        raise SmokeFailure("the GUI did not close within 30 s of SIGTERM") from None
    wait_for(lambda: not any(d.exists() for d in gui_dirs), 10, "the GUI's unpack folder to go")
    if not process_exists(worker_pid):
        raise SmokeFailure("closing the GUI stopped the worker")
    from app.ipc.blocking import BlockingIpcClient

    with station_environment(frozen.station_home):
        reply = BlockingIpcClient("default", timeout=10).call("ping")
    if int(reply["pid"]) != worker_pid:
        raise SmokeFailure(f"another worker answers after the GUI closed: {reply}")
    left = frozen.unpack_dirs() - before
    run.notes.append(
        f"GUI closed, its unpack folder removed; {len(left)} unpack folder left (the worker's)"
    )


def _check_worker_uploads(frozen: FrozenCopy, server: RunningServer, drop: Path) -> None:
    from app.samples import sample_path

    tmp = drop / f".{SAMPLE}.tmp"
    shutil.copyfile(sample_path(SAMPLE), tmp)
    os.replace(tmp, drop / SAMPLE)
    wait_for((drop / "Done" / SAMPLE).exists, 60, "the worker to convert a new file")
    wait_for(lambda: len(server.reports) >= 1, 60, "the report to reach the server")


def _stop_worker(frozen: FrozenCopy, worker_pid: int | None) -> None:
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import IpcError

    if worker_pid is None or not process_exists(worker_pid):
        return
    with station_environment(frozen.station_home), contextlib.suppress(IpcError):
        BlockingIpcClient("default", timeout=10).call("service.stop")
    try:
        wait_for(lambda: not process_exists(worker_pid), 60, "the worker to stop")
    except SmokeFailure:
        os.kill(worker_pid, signal.SIGKILL)
        raise


def check_gui(frozen: FrozenCopy) -> str:
    run = run_gui(frozen)
    return (
        f"tray after {run.start_to_tray_s:.2f} s, worker after {run.start_to_worker_s:.2f} s; "
        + "; ".join(run.notes)
        + f"; idle worker {run.worker_idle_rss_mb:.0f} MiB"
    )


# ------------------------------------------------------------------ checks: .deb


def scratch_dpkg_root(root: Path, *, host_status: bool = True) -> Path:
    """An empty dpkg database under `root`; with host_status, seeded with this machine's
    installed packages so Depends are checked for real."""
    admin = root / "var" / "lib" / "dpkg"
    for folder in ("info", "updates", "triggers"):
        (admin / folder).mkdir(parents=True, exist_ok=True)
    status = Path("/var/lib/dpkg/status")
    if host_status and status.is_file():
        shutil.copyfile(status, admin / "status")
    else:
        (admin / "status").touch()
    (admin / "available").touch()
    return root


def dpkg(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """dpkg on the scratch root (as a normal user too: the root is a folder of ours)."""
    not_root = ["--force-not-root"] if os.geteuid() != 0 else []
    return subprocess.run(
        ["dpkg", f"--root={root}", *not_root, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def missing_dependencies(deb: Path) -> list[str]:
    """Packages the .deb depends on that this machine does not have (first alternative)."""
    fields = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True, check=True
    ).stdout
    missing = []
    for clause in filter(None, (c.strip() for c in fields.split(","))):
        options = [o.split("(")[0].strip() for o in clause.split("|")]
        if not any(_installed(o) for o in options):
            missing.append(options[0])
    return missing


def _installed(package: str) -> bool:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
    )
    return result.returncode == 0 and "install ok installed" in result.stdout


def check_deb(deb: Path, scratch: Path, *, expect_version: str | None = None) -> str:
    from installer.linux.build_deb import DebContents

    if shutil.which("dpkg") is None:
        raise SmokeSkipped("dpkg is not available on this machine")
    contents = DebContents()
    listing = subprocess.run(
        ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for wanted in (contents.executable, contents.command, contents.desktop):
        if f"./{wanted}" not in listing:
            raise SmokeFailure(f"the package does not contain /{wanted}")
    control = subprocess.run(
        ["dpkg-deb", "-I", str(deb)], capture_output=True, text=True, check=True
    ).stdout
    for script in ("preinst", "postinst", "prerm", "postrm"):
        if f" {script}" in control:
            raise SmokeFailure(f"the package has a {script} script; it must register nothing")
    missing = missing_dependencies(deb)
    root = scratch_dpkg_root(scratch, host_status=not missing)
    force = ["--force-depends"] if missing else []
    installed = dpkg(root, *force, "-i", str(deb))
    if installed.returncode != 0:
        raise SmokeFailure(f"dpkg -i failed: {installed.stderr.strip() or installed.stdout}")
    command = root / contents.command
    (root / "tmp").mkdir(exist_ok=True)
    clean = {
        "PATH": "/nonexistent",
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "TMPDIR": str(root / "tmp"),
    }
    version = subprocess.run(
        [str(command), "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean,
        check=False,
    )
    if version.returncode != 0 or not version.stdout.startswith("wats-station "):
        raise SmokeFailure(
            f"the installed binary's --version failed: {version.stdout}{version.stderr}"
        )
    if expect_version and expect_version not in version.stdout:
        raise SmokeFailure(f"--version says {version.stdout.strip()}, expected {expect_version}")
    # A user's station data, which removal must leave alone.
    user_config = (
        root / "home" / "operator" / ".config" / "WATS Station" / "default" / "config.json"
    )
    user_config.parent.mkdir(parents=True, exist_ok=True)
    user_config.write_text('{"schema": 1}', encoding="utf-8")
    removed = dpkg(root, *force, "--purge", "wats-station")
    if removed.returncode != 0:
        raise SmokeFailure(f"dpkg --purge failed: {removed.stderr.strip()}")
    left = [
        p for p in (contents.executable, contents.command, contents.desktop)
        if (root / p).exists() or (root / p).is_symlink()
    ]  # fmt: skip
    if left:
        raise SmokeFailure(f"purge left package files behind: {left}")
    if not user_config.is_file():
        raise SmokeFailure("removing the package deleted a user's config")
    deps = "dependencies present on this machine" if not missing else f"missing here: {missing}"
    return f"installed ({deps}), `{version.stdout.strip()}`, purged; user data kept"


# ------------------------------------------------------------------ checks: NSIS


def ensure_makensis() -> str:
    """makensis on PATH, installing Debian's nsis when missing and allowed (root + apt)."""
    found = shutil.which("makensis")
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SmokeSkipped(
            "makensis is not installed and cannot be installed here (needs root and apt-get)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nsis"]):
        result = subprocess.run(
            command, capture_output=True, text=True, env=env, timeout=600, check=False
        )
        if result.returncode != 0:
            raise SmokeSkipped(
                f"could not install nsis ({' '.join(command)}): {result.stderr.strip()[-300:]}"
            )
    found = shutil.which("makensis")
    if not found:
        raise SmokeSkipped("nsis installed but makensis is not on PATH")
    return found


def nsis_defines(version: str, payload: Path, icon: Path, outfile: Path) -> list[str]:
    from installer.build_resources import version_tuple

    numbers = ".".join(map(str, version_tuple(version)))
    return [
        f"-DVERSION={version}",
        f"-DVERSION4={numbers}",
        f"-DPAYLOAD={payload}",
        f"-DICON={icon}",
        f"-DOUTFILE={outfile}",
    ]


def compile_nsis(work: Path, *, payload: Path | None = None) -> Path:
    """Compile the installer script around `payload` (default: a stand-in executable)."""
    from installer.build_resources import generate

    makensis = ensure_makensis()
    work.mkdir(parents=True, exist_ok=True)
    resources = generate(work / "resources")
    if payload is None:
        payload = work / "wats-station.exe"
        payload.write_bytes(b"MZ stand-in payload: the Windows runner packs the real executable\n")
    outfile = work / f"wats-station-{resources.version}-setup.exe"
    command = [
        makensis,
        "-V2",
        "-WX",
        *nsis_defines(resources.version, payload, resources.ico, outfile),
        str(NSIS_SCRIPT),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise SmokeFailure(f"makensis failed:\n{(result.stdout + result.stderr).strip()[-3000:]}")
    if not outfile.is_file() or outfile.read_bytes()[:2] != b"MZ":
        raise SmokeFailure(f"makensis did not write a Windows executable at {outfile}")
    return outfile


def check_nsis(work: Path) -> str:
    setup = compile_nsis(work)
    size = setup.stat().st_size // 1024
    return f"{NSIS_SCRIPT.relative_to(ROOT)} compiled ({size} KiB around a stand-in payload)"


# ------------------------------------------------------------------ runner


def run_named(name: str, check: Callable[[], str]) -> str:
    started = time.perf_counter()
    try:
        detail = check()
        word = "PASS"
    except SmokeSkipped as exc:
        word, detail = "SKIP", str(exc)
    except SmokeFailure as exc:
        word, detail = "FAIL", str(exc)
    except Exception as exc:
        word, detail = "FAIL", f"{type(exc).__name__}: {exc}"
    print(f"{word}  {name:<9} {detail} ({time.perf_counter() - started:.1f} s)", flush=True)
    return word


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the frozen build and packages.")
    parser.add_argument("--exe", type=Path, help="the one-file executable to test")
    parser.add_argument("--deb", type=Path, help="the .deb to install into a scratch root")
    parser.add_argument("--nsis", action="store_true", help="compile the NSIS script")
    parser.add_argument("--only", action="append", default=[], metavar="CHECK",
                        help="run only these checks (selftest, demo, gui, deb, nsis)")  # fmt: skip
    args = parser.parse_args(argv)
    wanted = set(args.only) or {"selftest", "demo", "gui", "deb", "nsis"}
    results: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wats-smoke-") as tmp:
        scratch = Path(tmp)
        if args.exe is not None:
            if not args.exe.is_file():
                print(f"no executable at {args.exe}", file=sys.stderr)
                return 2
            frozen = FrozenCopy.create(args.exe, scratch / "frozen")
            if "selftest" in wanted:
                results.append(run_named("selftest", lambda: check_selftest(frozen)))
            if "demo" in wanted:
                results.append(run_named("demo", lambda: check_demo(frozen)))
            if "gui" in wanted:
                gui_copy = FrozenCopy.create(args.exe, scratch / "gui")
                results.append(run_named("gui", lambda: check_gui(gui_copy)))
        if args.deb is not None and "deb" in wanted:
            from installer.build_resources import read_version

            results.append(
                run_named(
                    "deb",
                    lambda: check_deb(
                        args.deb, scratch / "deb-root", expect_version=read_version()
                    ),
                )
            )
        if args.nsis and "nsis" in wanted:
            results.append(run_named("nsis", lambda: check_nsis(scratch / "nsis")))
    failed = results.count("FAIL")
    print(
        f"smoke: {results.count('PASS')} passed, {failed} failed, {results.count('SKIP')} skipped"
    )
    return 1 if failed or not results else 0


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
