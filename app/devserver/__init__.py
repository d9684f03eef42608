"""The local WATS server: a WATS-compatible HTTP server on loopback (DESIGN.md §9).

`DevServer` for asyncio code, `run_in_thread` for synchronous tests and tools, and the
`wats-station devserver` command (app/commands/devserver.py) for people.
"""

from app.devserver.auth import DEFAULT_TOKEN, basic_token
from app.devserver.faults import Faults
from app.devserver.server import DevServer
from app.devserver.threaded import RunningServer, run_in_thread

__all__ = ["DEFAULT_TOKEN", "DevServer", "Faults", "RunningServer", "basic_token", "run_in_thread"]
