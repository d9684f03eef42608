"""`wats-station selftest`: check that this build of the program works, end to end.

Meant for the frozen executable (CI runs it on every build, a technician can run it on a
station), and works the same from source. It touches nothing of the real station: every
check runs in a throw-away folder with its own instance, token file and local WATS server.

Checks, in order, one PASS/FAIL line each:
  modules     every module of the program imports (a frozen build missed none)
  runtime     the pieces chosen at run time are there: keyring backends, the native
              file watcher, TLS trust store, Qt platform and SVG plug-ins
  converters  every bundled sample converts in this process with the converter it is for
  plug-ins    a converter plug-in file loads from a folder and converts
  server      the local WATS server starts on loopback
  worker      a worker process (`--service`, this same program) starts and answers
  ipc         request/response and pushed events over the worker's socket
  upload      a sample dropped in the watch folder is converted, moved to Done and uploaded
  stop        the worker stops cleanly when asked, and its log holds no error
Exit code 0 only when every check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.commands.exitcodes import Exit

if TYPE_CHECKING:
    from app.devserver.threaded import RunningServer
    from app.ipc.blocking import BlockingIpcClient

INSTANCE = "selftest"
SAMPLE = "wsjf-uut-minimal.json"
# Modules the walk must find, so a broken module listing cannot pass as "nothing to import".
ESSENTIAL_MODULES = (
    "app.__main__",
    "app.cli",
    "app.service.main",
    "app.service.worker",
    "app.gui.app",
    "app.devserver.server",
    "app.converters.registry",
    "app.ipc.blocking",
)
# The file watcher watchdog picks on each system; anything else means its native module is
# missing and it fell back to polling.
NATIVE_OBSERVERS = {
    "linux": "InotifyObserver",
    "win32": "WindowsApiObserver",
    "darwin": "FSEventsObserver",
}
NATIVE_QT_PLATFORMS = {"linux": "xcb", "win32": "windows", "darwin": "cocoa"}
PLUGIN_SOURCE = '''\
"""A converter plug-in written by `wats-station selftest`."""

import csv  # noqa: F401  (plug-ins may use the whole standard library)
import statistics  # noqa: F401
import xml.etree.ElementTree  # noqa: F401

from app.converters.wsjf import WsjfConverter


class SelftestPlugin(WsjfConverter):
    name = "selftest-plugin"
'''


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "selftest",
        help="check that this installation works (imports, worker, IPC, convert, upload)",
        description=(
            "Run every part of the program once in a throw-away folder: import all modules, "
            "convert the bundled samples, start a worker, drop a file, upload it to a local "
            "WATS server and stop. Prints one PASS or FAIL line per check. The real station "
            "(its config, queue and token) is not touched."
        ),
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=90.0,
        metavar="S",
        help="seconds to wait for the worker to start and for the upload (default 90)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the throw-away folder")
    parser.set_defaults(handler=run)


class CheckFailed(Exception):
    """A check did not pass; `str()` says why in plain words."""


@dataclass(frozen=True)
class Check:
    name: str
    run: Callable[[], str]  # returns what it found; raises CheckFailed (or anything) if not ok
    needs: tuple[str, ...] = ()


@dataclass
class Outcome:
    name: str
    passed: bool
    detail: str
    seconds: float


def run_checks(checks: list[Check], out: TextIO) -> list[Outcome]:
    """Run the checks in order, printing one line each; a check whose prerequisite failed
    fails without running."""
    outcomes: list[Outcome] = []
    passed: set[str] = set()
    width = max((len(c.name) for c in checks), default=0)
    for check in checks:
        started = time.perf_counter()
        missing = [n for n in check.needs if n not in passed]
        if missing:
            outcome = Outcome(check.name, False, f"not run: {', '.join(missing)} failed", 0.0)
        else:
            try:
                detail = check.run()
                outcome = Outcome(check.name, True, detail, time.perf_counter() - started)
            except Exception as exc:
                outcome = Outcome(check.name, False, _reason(exc), time.perf_counter() - started)
        if outcome.passed:
            passed.add(check.name)
        outcomes.append(outcome)
        word = "PASS" if outcome.passed else "FAIL"
        print(
            f"{word}  {outcome.name:<{width}}  {outcome.detail} ({outcome.seconds:.1f} s)",
            file=out,
            flush=True,
        )
    return outcomes


def _reason(exc: BaseException) -> str:
    if isinstance(exc, CheckFailed):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        print("--timeout must be positive", file=sys.stderr)
        return int(Exit.USAGE)
    root = Path(tempfile.mkdtemp(prefix="wats-station-selftest-"))
    frozen = "frozen executable" if getattr(sys, "frozen", False) else "from source"
    print(f"WATS Station selftest ({frozen}: {sys.executable}); working in {root}", flush=True)
    session = SelftestSession(root, timeout=args.timeout)
    try:
        outcomes = run_checks(session.checks(), sys.stdout)
    finally:
        session.close()
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    failed = [o.name for o in outcomes if not o.passed]
    if failed:
        print(f"selftest FAILED: {len(failed)} of {len(outcomes)} checks ({', '.join(failed)})")
        return int(Exit.FAILED)
    print(f"selftest passed: {len(outcomes)} checks")
    return int(Exit.OK)


# ------------------------------------------------------------------ the checks


@dataclass
class SelftestSession:
    """State shared by the checks: the throw-away folder, the server, the worker."""

    root: Path
    timeout: float = 90.0
    env: dict[str, str] = field(default_factory=dict)
    server: RunningServer | None = None
    worker: subprocess.Popen[bytes] | None = None
    client: BlockingIpcClient | None = None
    events: BlockingIpcClient | None = None
    _server_cm: contextlib.AbstractContextManager[RunningServer] | None = None

    def checks(self) -> list[Check]:
        return [
            Check("modules", self.check_modules),
            Check("runtime", self.check_runtime),
            Check("converters", self.check_converters),
            Check("plug-ins", self.check_plugins),
            Check("server", self.check_server),
            Check("worker", self.check_worker, needs=("server",)),
            Check("ipc", self.check_ipc, needs=("worker",)),
            Check("upload", self.check_upload, needs=("ipc",)),
            Check("stop", self.check_stop, needs=("worker",)),
        ]

    # ------------------------------------------------------------ in this process

    def check_modules(self) -> str:
        import app

        names: list[str] = []
        broken: list[str] = []

        def walk_error(name: str) -> None:
            broken.append(f"{name}: {_reason(sys.exc_info()[1] or Exception('import failed'))}")

        for info in pkgutil.walk_packages(app.__path__, "app.", onerror=walk_error):
            names.append(info.name)
            try:
                importlib.import_module(info.name)
            except Exception as exc:
                broken.append(f"{info.name}: {_reason(exc)}")
        missing = [m for m in ESSENTIAL_MODULES if m not in names]
        if missing:
            broken.append(f"not found in this build: {', '.join(missing)}")
        if broken:
            raise CheckFailed(f"{len(broken)} problem(s): " + "; ".join(broken[:5]))
        return f"{len(names)} modules imported"

    def check_runtime(self) -> str:
        import importlib.metadata
        import ssl

        import truststore
        from PySide6.QtCore import QLibraryInfo
        from watchdog.observers import Observer

        found: list[str] = []
        backends = importlib.metadata.entry_points(group="keyring.backends")
        if not backends:
            raise CheckFailed("no keyring backends are registered (keyring metadata missing)")
        found.append(f"{len(backends)} keyring backends")
        observer = str(getattr(Observer, "__name__", Observer))
        wanted = NATIVE_OBSERVERS.get(sys.platform)
        if wanted is not None and observer != wanted:
            raise CheckFailed(f"the file watcher is {observer}, not the native {wanted}")
        found.append(observer)
        truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        found.append("truststore")
        plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
        platforms = {p.name for p in (plugins / "platforms").glob("*")}
        needed = ["offscreen", NATIVE_QT_PLATFORMS.get(sys.platform, "")]
        for name in filter(None, needed):
            if not any(name in p for p in platforms):
                raise CheckFailed(f"the Qt platform plug-in {name!r} is missing from {plugins}")
        svg = [p for p in plugins.glob("*/*") if "svg" in p.name.lower()]
        if not svg:
            raise CheckFailed(f"no Qt SVG plug-in in {plugins} (icons would not draw)")
        found.append(f"Qt plug-ins ({', '.join(sorted(filter(None, needed)))}, svg)")
        bundle = getattr(sys, "_MEIPASS", None)
        if bundle and bundle in os.environ.get("LD_LIBRARY_PATH", ""):
            # System programs the station runs (systemctl, xdg-open) would load our libraries.
            raise CheckFailed("LD_LIBRARY_PATH still points into the bundle for child programs")
        return ", ".join(found)

    def check_converters(self) -> str:
        from app.converters.registry import builtin_converters
        from app.samples import SAMPLES_DIR

        samples = sorted(
            p
            for p in SAMPLES_DIR.iterdir()
            if p.suffix in (".json", ".xml", ".txt") and p.name != "processes.json"
        )
        if not samples:
            raise CheckFailed(f"no sample files in {SAMPLES_DIR}")
        used: set[str] = set()
        reports = 0
        for sample in samples:
            name, count = _convert_sample(sample, builtin_converters())
            used.add(name)
            reports += count
        return f"{len(samples)} samples -> {reports} reports ({', '.join(sorted(used))})"

    def check_plugins(self) -> str:
        from app.converters.plugins import load_plugins
        from app.converters.registry import builtin_converters
        from app.samples import sample_path

        folder = self.root / "plugins"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "selftest_plugin.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
        loaded, problems = load_plugins([folder], taken=builtin_converters(), entry_points=True)
        if problems:
            raise CheckFailed("; ".join(str(p) for p in problems))
        if "selftest-plugin" not in loaded:
            raise CheckFailed(f"the plug-in file was not loaded (found: {sorted(loaded)})")
        _, count = _convert_sample(
            sample_path(SAMPLE), {"selftest-plugin": loaded["selftest-plugin"]}
        )
        return f"plug-in file loaded and converted {count} report"

    # ------------------------------------------------------------ server and worker

    def check_server(self) -> str:
        from app.devserver import run_in_thread

        self._server_cm = run_in_thread(port=0)
        self.server = self._server_cm.__enter__()
        return f"local WATS server on {self.server.url}"

    def check_worker(self) -> str:
        from app.core.launcher import spawn_worker

        assert self.server is not None
        self.env = self._configure(self.server.url, self.server.token)
        with self._instance_environment():
            started = time.monotonic()
            self.worker = spawn_worker(INSTANCE, env=self.env, detached=False)
            self.client = self._wait_for_worker(self.worker, started + self.timeout)
            took = time.monotonic() - started
        reply = self.client.call("ping")
        return f"worker pid {reply.get('pid', '?')} answered after {took:.1f} s"

    def check_ipc(self) -> str:
        from app.ipc.blocking import BlockingIpcClient

        assert self.client is not None
        with self._instance_environment():
            status = self.client.call("status")
            if not isinstance(status, dict) or "queue" not in status:
                raise CheckFailed(f"the status reply has no queue counts: {status!r}")
            self.events = BlockingIpcClient(INSTANCE, timeout=10)
            self.events.call("subscribe", {"topics": ["file", "queue", "status"]})
        return f"status and subscribe answered (worker {status.get('worker_state', '?')})"

    def check_upload(self) -> str:
        from app.samples import sample_path

        assert self.client is not None
        assert self.events is not None
        assert self.server is not None
        drop = self.root / "drop"
        tmp = drop / f".{SAMPLE}.tmp"
        shutil.copyfile(sample_path(SAMPLE), tmp)
        os.replace(tmp, drop / SAMPLE)
        deadline = time.monotonic() + self.timeout
        event = self._wait_for_file_event(deadline)
        if event.get("outcome") != "done":
            raise CheckFailed(f"the sample was not converted: {event.get('reason', event)}")
        if not (drop / "Done" / SAMPLE).exists():
            raise CheckFailed("the sample was converted but not moved to the Done folder")
        ids = [str(i).lower() for i in event.get("report_ids", [])]
        if len(ids) != 1:
            raise CheckFailed(f"expected one report from the sample, got {ids}")
        while time.monotonic() < deadline:
            stored = {rid.lower() for rid in self.server.reports}
            if ids[0] in stored:
                break
            time.sleep(0.1)
        else:
            status = self.client.call("status")
            raise CheckFailed(
                f"report {ids[0]} did not reach the server within {self.timeout:.0f} s "
                f"(queue {status.get('queue')}, server {status.get('server_state')})"
            )
        return f"sample converted, moved to Done, report {ids[0]} uploaded"

    def check_stop(self) -> str:
        from app.ipc.blocking import BlockingIpcClient
        from app.ipc.protocol import IpcError, WorkerNotRunning

        assert self.worker is not None
        assert self.client is not None
        with self._instance_environment():
            with contextlib.suppress(IpcError):  # it may close the connection as it answers
                self.client.call("service.stop")
            try:
                code = self.worker.wait(timeout=min(self.timeout, 60.0))
            except subprocess.TimeoutExpired:
                raise CheckFailed("the worker did not stop within 60 s") from None
            if code != 0:
                raise CheckFailed(f"the worker exited with code {code}")
            try:
                BlockingIpcClient(INSTANCE, timeout=2).call("ping")
            except WorkerNotRunning:
                pass
            else:
                raise CheckFailed("a worker still answers after the stop")
        problems = self._log_problems()
        if problems:
            raise CheckFailed(f"the worker log has errors: {' | '.join(problems[:3])}")
        return "worker stopped with exit code 0; its log has no errors"

    # ------------------------------------------------------------ helpers

    def _configure(self, server_url: str, token: str) -> dict[str, str]:
        from app.core.config import ConverterConfig, ServerConfig, StationConfig, StationInfo
        from app.core.config_store import ConfigStore
        from app.core.paths import InstancePaths
        from app.core.secrets import set_token

        # Nothing of the real station may leak in: no overrides, no home, no keyring.
        env = {k: v for k, v in os.environ.items() if not k.startswith("WATS_STATION_")}
        env["WATS_STATION_HOME"] = str(self.root / "home")
        env["WATS_STATION_SECRET_STORE"] = "file"
        paths = InstancePaths.for_instance(INSTANCE, environ=env).ensure()
        drop = self.root / "drop"
        drop.mkdir(parents=True, exist_ok=True)
        config = StationConfig(
            server=ServerConfig(url=server_url),
            station=StationInfo(name="SELFTEST", location="selftest", purpose="selftest"),
            converters=[ConverterConfig(name="Selftest", converter="wsjf", watch_folder=drop)],
            secret_store="file",
        )
        ConfigStore(paths).save(config)
        set_token(paths, config, token, environ=env)
        return env

    @contextlib.contextmanager
    def _instance_environment(self) -> Iterator[None]:
        """The IPC client finds the socket through WATS_STATION_HOME: point it at ours."""
        saved = os.environ.get("WATS_STATION_HOME")
        os.environ["WATS_STATION_HOME"] = self.env["WATS_STATION_HOME"]
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("WATS_STATION_HOME", None)
            else:
                os.environ["WATS_STATION_HOME"] = saved

    def _wait_for_worker(
        self, worker: subprocess.Popen[bytes], deadline: float
    ) -> BlockingIpcClient:
        from app.ipc.blocking import BlockingIpcClient
        from app.ipc.protocol import IpcError

        last = "no answer"
        while time.monotonic() < deadline:
            if worker.poll() is not None:
                tail = " | ".join(self._log_problems()[-2:]) or "no error in its log"
                raise CheckFailed(
                    f"the worker exited at start with code {worker.returncode} ({tail})"
                )
            client = BlockingIpcClient(INSTANCE, timeout=5)
            try:
                client.call("ping")
                return client
            except IpcError as exc:
                client.close()
                last = str(exc)
                time.sleep(0.1)
        raise CheckFailed(f"the worker did not answer within {self.timeout:.0f} s ({last})")

    def _wait_for_file_event(self, deadline: float) -> dict[str, Any]:
        from app.ipc.protocol import IpcTimeout

        assert self.events is not None
        try:
            for topic, data in self.events.iter_events(
                ["file"], idle_timeout=max(1.0, deadline - time.monotonic())
            ):
                if topic == "file" and isinstance(data, dict) and SAMPLE in str(data.get("path")):
                    return data
                if time.monotonic() > deadline:
                    break
        except IpcTimeout:
            pass
        raise CheckFailed(f"no file event for the sample within {self.timeout:.0f} s")

    def _log_problems(self) -> list[str]:
        """ERROR/CRITICAL lines and tracebacks in the throw-away instance's logs."""
        if not self.env:
            return []
        logs = Path(self.env["WATS_STATION_HOME"]) / INSTANCE / "logs"
        found: list[str] = []
        for log_file in sorted(logs.glob("*.log*")):
            text = log_file.read_text(encoding="utf-8", errors="replace")
            for line in text.splitlines():
                if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback"):
                    found.append(line.strip()[:300])
        return found

    def close(self) -> None:
        for client in (self.events, self.client):
            if client is not None:
                client.close()
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(10)
        if self._server_cm is not None:
            self._server_cm.__exit__(None, None, None)
            self._server_cm = None


def _convert_sample(path: Path, converters: dict[str, Any]) -> tuple[str, int]:
    """Convert one file with the converter detection picks; (converter name, report count)."""
    from app.converters.base import ConverterSource
    from app.converters.detect import detect

    try:
        converter_class, _why = detect(path, converters)
        with path.open("rb") as stream:
            reports = converter_class().convert(ConverterSource(path, stream))
    except Exception as exc:
        raise CheckFailed(f"{path.name}: {_reason(exc)}") from None
    if not reports:
        raise CheckFailed(f"{path.name}: the {converter_class.name} converter found no report")
    for report in reports:
        report.to_json()  # what the worker queues: must serialise
    return converter_class.name, len(reports)
