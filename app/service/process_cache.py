"""The server's process list, kept in the instance data folder.

Files that name their process but give no code (WSTF `OperationTypeName`, WSJF `processName`)
get the server's code for that name. The list is fetched with the hourly client update and
saved, so a station that starts offline still knows yesterday's codes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.core.durable import fsync_dir

log = logging.getLogger("wats.processes")

FILE_NAME = "processes.json"


def codes_by_name(processes: Iterable[Any]) -> dict[str, int]:
    """Lower-case process name → code; the first of two processes with one name wins."""
    codes: dict[str, int] = {}
    for process in processes:
        name = str(getattr(process, "name", "") or "").strip().lower()
        if name and name not in codes:
            codes[name] = int(process.code)
    return codes


class ProcessCache:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE_NAME

    def load(self) -> dict[str, int]:
        """The saved codes; empty (with a log line) when there are none or they are unreadable."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(k): int(v) for k, v in saved["codes"].items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("ignoring the saved process list %s: %s", self.path, exc)
            return {}

    def save(self, codes: dict[str, int]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"codes": codes}, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)
