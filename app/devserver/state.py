"""Everything one local server knows, shared by its API and control handlers."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.devserver.auth import Credentials
from app.devserver.faults import FaultInjector
from app.devserver.processes import ProcessCatalog
from app.devserver.store import ReportStore

SERVER_VERSION = "2025.1.0.0"
SERVER_NAME = "WATS local server"


@dataclass
class ServerState:
    credentials: Credentials
    processes: ProcessCatalog
    injector: FaultInjector
    accept_unknown_process: bool = False
    clock_skew_s: float = 0.0
    store: ReportStore = field(default_factory=ReportStore)

    @property
    def known_process_codes(self) -> frozenset[int] | None:
        """The codes a report may use, or None when any code is accepted."""
        return None if self.accept_unknown_process else self.processes.codes

    def reset(self) -> None:
        """`POST /_dev/reset`: forget reports, clients, logs, counters and registrations.
        Faults, the server token and the process list stay."""
        self.store.reset()
        self.credentials.forget_clients()
