"""Worker logging: rotating files in the instance log dir, a ring buffer for `logs.tail`, and
redaction so that no secret ever reaches a log line."""

from __future__ import annotations

import collections
import contextlib
import logging
import logging.handlers
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG_FILE_NAME = "worker.log"
_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)-7s %(name)s: %(message)s"
_DATEFMT = "%Y-%m-%dT%H:%M:%S"


class SecretRedactor(logging.Filter):
    """Replaces every registered secret (tokens, passwords) in a record with '***'."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            message = record.getMessage()
            redacted = message
            for secret in self._secrets:
                redacted = redacted.replace(secret, "***")
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


class LogBuffer(logging.Handler):
    """The last N formatted records, with listeners for live tails over IPC."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__()
        self.records: collections.deque[dict[str, Any]] = collections.deque(maxlen=capacity)
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    def on_record(self, listener: Callable[[dict[str, Any]], None]) -> None:
        self._listeners.append(listener)

    def emit(self, record: logging.LogRecord) -> None:
        entry = {
            "time": record.created,
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        self.records.append(entry)
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):  # never let a listener break logging
                listener(entry)

    def tail(self, lines: int = 200, level: str | None = None) -> list[dict[str, Any]]:
        wanted = logging.getLevelName(level.upper()) if level else 0
        rows = [r for r in self.records if logging.getLevelName(r["level"]) >= wanted]
        return rows[-lines:]


def setup_logging(log_dir: Path, *, level: int = logging.INFO) -> tuple[LogBuffer, SecretRedactor]:
    log_dir.mkdir(parents=True, exist_ok=True)
    formatter = logging.Formatter(_FORMAT, _DATEFMT)
    formatter.converter = time.gmtime
    redactor = SecretRedactor()
    file_handler = logging.handlers.RotatingFileHandler(
        log_dir / LOG_FILE_NAME, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(formatter)
    buffer = LogBuffer()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in (file_handler, buffer):
        handler.addFilter(redactor)
        root.addHandler(handler)
    # httpx logs every request at INFO: far too chatty for a months-long log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return buffer, redactor
