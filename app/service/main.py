"""`wats-station --service`: the worker process (QCoreApplication + qasync, no widgets)."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

log = logging.getLogger("wats.service")

# Another worker already serves this instance. Distinct from a crash (1) so that service
# managers do not restart us in a loop (systemd: RestartPreventExitStatus).
EXIT_ALREADY_RUNNING = 73


def run_service(instance: str = "default") -> int:
    from app.service import lean_imports

    lean_imports.install()  # before anything imports qasync or httpx

    from PySide6.QtCore import QCoreApplication

    from app.core.config import ConfigError
    from app.core.paths import InstancePaths
    from app.service.event_loop import WorkerEventLoop
    from app.service.ipc_methods import register_methods
    from app.service.ipc_server import AlreadyRunningError, IpcServer
    from app.service.logs import setup_logging
    from app.service.queue_models import QueueError
    from app.service.signals import SignalWaker
    from app.service.worker import Worker

    paths = InstancePaths.for_instance(instance).ensure()
    logs, redactor = setup_logging(paths.log_dir)
    # qasync would create a QApplication (widgets, a display) unless a core app exists first.
    app = QCoreApplication.instance() or QCoreApplication([sys.argv[0], "--service"])
    loop = WorkerEventLoop(app)
    asyncio.set_event_loop(loop)

    ipc = IpcServer(instance)
    try:
        ipc.start()
    except AlreadyRunningError as exc:
        print(f"wats-station: {exc}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    try:
        worker = Worker(instance, paths, redactor=redactor, publish=ipc.publish, logs=logs)
    except (ConfigError, QueueError) as exc:
        log.error("cannot start: %s", exc)
        print(f"wats-station: cannot start the worker: {exc}", file=sys.stderr)
        ipc.close()
        return 1
    methods = register_methods(ipc, worker, logs)
    # Someone else now owns our socket (a second worker after ours vanished from disk): the
    # queue must have one writer, so this one bows out.
    ipc.listen_lost.connect(lambda why: worker.request_stop(f"socket taken over: {why}"))
    waker = SignalWaker(worker.request_stop)
    config_watch = _watch_config(paths.config_dir, worker)

    async def main() -> None:
        methods.start()
        await worker.start()
        await worker.wait_stopped()
        await methods.aclose()
        await worker.stop()
        await ipc.aclose()

    with loop:
        try:
            loop.run_until_complete(main())
        finally:
            waker.close()
            config_watch.deleteLater()
    if methods.restart_requested:
        # Only now: the socket and the queue are released, so the next worker can take them.
        from app.service.restart import restart

        return restart(instance)
    return 0


def _watch_config(config_dir: Any, worker: Any) -> Any:
    """Apply config.json changes made by the CLI or GUI live (DESIGN.md §5).

    The store replaces the file atomically, so the directory is watched, not the file; a
    short single-shot timer coalesces the burst of changes one save makes.
    """
    from PySide6.QtCore import QFileSystemWatcher, QTimer

    from app.core.config import ConfigError

    watcher = QFileSystemWatcher([str(config_dir)])
    debounce = QTimer(watcher)
    debounce.setSingleShot(True)
    debounce.setInterval(100)

    def reload() -> None:
        try:
            worker.reload_config()
        except ConfigError as exc:
            log.error("the changed configuration is not valid, keeping the old one: %s", exc)
        except Exception:
            log.exception("applying the changed configuration failed")

    debounce.timeout.connect(reload)
    watcher.directoryChanged.connect(lambda _path: debounce.start())
    return watcher
