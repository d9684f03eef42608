"""`service.restart`: how a worker that has stopped cleanly gets a successor.

Started by hand, by the GUI or from a login task, the worker starts a fresh copy of itself
(detached, `app.core.launcher.spawn_worker`) at the very end, after it has closed its socket
and its queue, so the new one can take both. Under a service manager that supervises the
process (a systemd unit, a launchd job) a child would be killed with the stopping service
(systemd kills the whole control group); there the worker instead exits with
`RESTART_EXIT_CODE`, a failure exit the manager answers by starting it again
(`Restart=on-failure`, `KeepAlive` on an unsuccessful exit).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

log = logging.getLogger("wats.service")

# EX_TEMPFAIL: "try again"; non-zero so that Restart=on-failure / KeepAlive restart us.
RESTART_EXIT_CODE = 75


def supervised(environ: Mapping[str, str] | None = None) -> str | None:
    """The service manager that supervises this process and restarts it, or None."""
    env = os.environ if environ is None else environ
    if env.get("INVOCATION_ID"):  # set by systemd for every unit it starts
        return "systemd"
    if env.get("XPC_SERVICE_NAME", "0") not in ("", "0"):  # a launchd job's label
        return "launchd"
    return None


def restart(instance: str, environ: Mapping[str, str] | None = None) -> int:
    """Start the next worker (or leave that to the service manager); the exit code to use."""
    manager = supervised(environ)
    if manager is not None:
        log.info(
            "restart: exiting with %d so %s starts the worker again", RESTART_EXIT_CODE, manager
        )
        return RESTART_EXIT_CODE
    from app.core.launcher import spawn_worker

    try:
        process = spawn_worker(instance)
    except OSError as exc:
        log.error("restart: could not start a new worker: %s", exc)
        return 1
    log.info("restart: started a new worker (pid %d)", process.pid)
    return 0
