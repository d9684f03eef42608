"""`wats-station pause|resume|stop|restart`: control the running worker.

`pause` and `resume` are saved in the configuration, so the choice survives a restart.
`stop` and `restart` wait until the worker has really stopped (and a new one answers).
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING, Any

from app.commands.exitcodes import Exit
from app.commands.worker_client import (
    NO_WORKER_EPILOG,
    CommandFailed,
    instance_of,
    instance_parent,
    not_running_message,
    with_worker,
)

if TYPE_CHECKING:
    from app.ipc.blocking import BlockingIpcClient

# How long stop/restart wait for the worker to finish its uploads and go (it gives in-flight
# uploads 10 s) and, for restart, for the new one to answer (a service manager may wait 5 s).
STOP_WAIT_S = 60.0
POLL_S = 0.1


def register(subparsers: Any) -> None:
    parent = instance_parent()
    commands = (
        ("pause", "pause uploads (conversion and queueing go on)", run_pause),
        ("resume", "resume uploads", run_resume),
        ("stop", "stop the worker (uploads in flight finish first)", run_stop),
        ("restart", "restart the worker", run_restart),
    )
    for name, help_text, handler in commands:
        parser = subparsers.add_parser(
            name,
            parents=[parent],
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=NO_WORKER_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler)


def run_pause(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        client.call("uploads.pause")
        print(
            "Uploads paused. Files are still converted and queued; "
            "`wats-station resume` starts uploading again."
        )
        return int(Exit.OK)

    return with_worker(args, body)


def run_resume(args: argparse.Namespace) -> int:
    def body(client: BlockingIpcClient) -> int:
        if client.call("uploads.resume")["paused"]:
            raise CommandFailed(
                "uploads stay paused: WATS_STATION_UPLOADS_PAUSED is set for the worker"
            )
        print("Uploads resumed.")
        return int(Exit.OK)

    return with_worker(args, body)


def _pid(client: BlockingIpcClient) -> int:
    return int(client.call("ping")["pid"])


def _answering_pid(instance: str) -> int | None:
    """The pid of the worker answering now, or None."""
    from app.ipc.blocking import BlockingIpcClient
    from app.ipc.protocol import IpcError

    try:
        with BlockingIpcClient(instance, timeout=2.0) as client:
            return _pid(client)
    except IpcError:
        return None


def _wait(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL_S)
    return False


def run_stop(args: argparse.Namespace) -> int:
    instance = instance_of(args)

    def body(client: BlockingIpcClient) -> int:
        pid = _pid(client)
        client.call("service.stop")
        client.close()
        print(f"Stopping the worker (pid {pid})...")
        if not _wait(lambda: _answering_pid(instance) != pid, STOP_WAIT_S):
            raise CommandFailed(f"the worker (pid {pid}) still answers after {STOP_WAIT_S:g} s")
        print("Worker stopped.")
        return int(Exit.OK)

    return with_worker(args, body)


def run_restart(args: argparse.Namespace) -> int:
    instance = instance_of(args)

    def body(client: BlockingIpcClient) -> int:
        old = _pid(client)
        client.call("service.restart")
        client.close()
        print(f"Restarting the worker (pid {old})...")
        new: list[int] = []

        def restarted() -> bool:
            pid = _answering_pid(instance)
            if pid is not None and pid != old:
                new.append(pid)
                return True
            return False

        if not _wait(restarted, STOP_WAIT_S):
            raise CommandFailed(
                f"no new worker answered within {STOP_WAIT_S:g} s.\n"
                + not_running_message(instance),
                Exit.NO_WORKER,
            )
        print(f"Worker restarted (pid {old} -> {new[0]}).")
        return int(Exit.OK)

    return with_worker(args, body)
