"""Fault injection for the local server: outages, dropped connections, 429s, 5xx, slow replies.

Faults apply to `/api` calls only, never to the `/_dev` control endpoints, so a test can
always switch them off again. They are set at start (CLI options or `DevServer(faults=...)`)
and changed at runtime through `POST /_dev/faults`.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

OUTAGE_MODES = ("503", "drop")


@dataclass(frozen=True)
class Faults:
    """What goes wrong, and how often. The defaults mean a healthy server.

    - `outage`: every /api call fails, "503" with a reply or "drop" by closing the connection.
    - `drop_rate`: share of /api calls whose connection is closed without a reply; with
      `drop_after_handling` the call is handled first (a report is stored) and only the reply
      is lost, the "did it arrive?" case that upsert by id exists for.
    - `rate_limit`: at most this many /api calls per second (a fixed one-second window); the
      rest get 429 with `Retry-After: throttle_retry_after` (1 s when unset).
    - `throttle_retry_after` without `rate_limit`: every /api call gets 429 with that
      Retry-After, as a server that is shedding load does.
    - `fail_rate`: share of /api calls answered with `fail_status` (a 5xx).
    - `latency_ms`: delay before every /api reply, including fault replies.
    """

    fail_rate: float = 0.0
    fail_status: int = 500
    rate_limit: int | None = None
    throttle_retry_after: int | None = None
    latency_ms: float = 0.0
    drop_rate: float = 0.0
    drop_after_handling: bool = False
    outage: str | None = None

    def __post_init__(self) -> None:
        for name in ("fail_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not 500 <= self.fail_status <= 599:
            raise ValueError(f"fail_status must be a 5xx status, got {self.fail_status}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError(
                f"rate_limit must be at least 1 request per second, got {self.rate_limit}"
            )
        if self.throttle_retry_after is not None and self.throttle_retry_after < 0:
            raise ValueError(
                f"throttle_retry_after must be 0 or more seconds, got {self.throttle_retry_after}"
            )
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be 0 or more, got {self.latency_ms}")
        if self.outage is not None and self.outage not in OUTAGE_MODES:
            raise ValueError(
                f"outage must be one of {', '.join(OUTAGE_MODES)} or null, got {self.outage!r}"
            )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: Mapping[str, Any]) -> Faults:
        """A copy with `changes` applied (JSON or keyword values), or ValueError naming the
        first field that is unknown or has a wrong type or range."""
        known = {f.name for f in fields(self)}
        clean: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(
                    f"unknown fault setting {name!r}; known: {', '.join(sorted(known))}"
                )
            clean[name] = _coerce(name, value)
        return replace(self, **clean)


def _coerce(name: str, value: Any) -> Any:
    if name in ("fail_rate", "drop_rate", "latency_ms"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, got {value!r}")
        return float(value)
    if name == "fail_status":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        return value
    if name in ("rate_limit", "throttle_retry_after"):
        if value is None or value is False or (name == "rate_limit" and value == 0):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer or null, got {value!r}")
        return value
    if name == "drop_after_handling":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if name == "outage":
        # true means the usual kind of outage: the server answers 503.
        if value is None or value is False:
            return None
        if value is True:
            return "503"
        return str(value).lower()
    raise ValueError(f"unknown fault setting {name!r}")


class Action(enum.Enum):
    PASS = "pass"
    FAIL = "fail"  # answer with fail_status
    UNAVAILABLE = "unavailable"  # outage: 503
    THROTTLE = "throttle"  # 429 with Retry-After
    DROP = "drop"  # close the connection before handling
    DROP_AFTER = "drop_after"  # handle, then close the connection instead of replying


@dataclass(frozen=True)
class Decision:
    action: Action
    retry_after: int = 0


PASS = Decision(Action.PASS)


class FaultInjector:
    """Decides, per /api call, which fault (if any) it gets. Not thread-safe: loop only."""

    def __init__(self, faults: Faults | None = None, seed: int | None = None) -> None:
        self.faults = faults or Faults()
        self._rng = random.Random(seed)
        self._window = -1
        self._window_count = 0

    def set(self, faults: Faults) -> None:
        self.faults = faults
        self._window = -1
        self._window_count = 0

    def decide(self, now: float) -> Decision:
        """The fault for a call arriving at monotonic time `now` (seconds)."""
        f = self.faults
        if f.outage == "drop":
            return Decision(Action.DROP)
        if f.outage == "503":
            return Decision(Action.UNAVAILABLE, retry_after=f.throttle_retry_after or 0)
        if f.rate_limit is not None:
            window = math.floor(now)
            if window != self._window:
                self._window, self._window_count = window, 0
            if self._window_count >= f.rate_limit:
                return Decision(Action.THROTTLE, retry_after=_retry_after(f, now))
            self._window_count += 1
        elif f.throttle_retry_after is not None:
            return Decision(Action.THROTTLE, retry_after=f.throttle_retry_after)
        if f.drop_rate and self._rng.random() < f.drop_rate:
            return Decision(Action.DROP_AFTER if f.drop_after_handling else Action.DROP)
        if f.fail_rate and self._rng.random() < f.fail_rate:
            return Decision(Action.FAIL)
        return PASS


def _retry_after(faults: Faults, now: float) -> int:
    if faults.throttle_retry_after is not None:
        return faults.throttle_retry_after
    # Until the current one-second window ends, rounded up: Retry-After is whole seconds.
    return max(1, math.ceil(math.floor(now) + 1 - now))
