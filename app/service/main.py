"""`wats-station --service`: the worker process (QCoreApplication + qasync, no widgets)."""

from __future__ import annotations

import asyncio
import logging
import sys

log = logging.getLogger("wats.service")


def run_service(instance: str = "default") -> int:
    import qasync
    from PySide6.QtCore import QCoreApplication

    from app.core.config import ConfigError
    from app.core.paths import InstancePaths
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
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    ipc = IpcServer(instance)
    try:
        ipc.start()
    except AlreadyRunningError as exc:
        print(f"wats-station: {exc}", file=sys.stderr)
        return 1
    try:
        worker = Worker(instance, paths, redactor=redactor, publish=ipc.publish, logs=logs)
    except (ConfigError, QueueError) as exc:
        log.error("cannot start: %s", exc)
        print(f"wats-station: cannot start the worker: {exc}", file=sys.stderr)
        ipc.close()
        return 1
    register_methods(ipc, worker, logs)
    # Someone else now owns our socket (a second worker after ours vanished from disk): the
    # queue must have one writer, so this one bows out.
    ipc.listen_lost.connect(lambda why: worker.request_stop(f"socket taken over: {why}"))
    waker = SignalWaker(worker.request_stop)

    async def main() -> None:
        await worker.start()
        await worker.wait_stopped()
        await worker.stop()
        await ipc.aclose()

    with loop:
        try:
            loop.run_until_complete(main())
        finally:
            waker.close()
    return 0
