"""Full-jitter exponential backoff (DESIGN.md §3 "Uploads").

delay(attempt) = uniform(0, min(cap, base · 2^attempt)), base 2 s, cap 300 s.

Full jitter (rather than "exponential plus a little jitter") spreads the retries of many
stations that lost the same server at the same moment, so they do not come back in a herd.

`Retry-After` is honoured exactly as a minimum: the delay is max(retry_after, jittered).
The server asked us not to come back earlier, and coming back a little later is harmless.
A Retry-After larger than `retry_after_cap_s` (1 h) is clamped: a misread header (a date
taken for seconds, a proxy's bogus value) must not park a station for days.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

# 2^attempt overflows a float somewhere past 1000; the ceiling reaches the cap long before.
_MAX_EXPONENT = 60


@dataclass(frozen=True)
class BackoffPolicy:
    """The numbers of the policy; defaults are DESIGN.md's."""

    base_s: float = 2.0
    cap_s: float = 300.0
    retry_after_cap_s: float = 3600.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s <= 0 or self.retry_after_cap_s < 0:
            raise ValueError("backoff base and cap must be positive")

    def ceiling(self, attempt: int) -> float:
        """Upper bound of the jittered delay for the retry number `attempt` (0-based)."""
        exponent = min(max(attempt, 0), _MAX_EXPONENT)
        return float(min(self.cap_s, self.base_s * 2.0**exponent))


class Backoff:
    """Computes retry delays; the random source is injectable for deterministic tests.

    `random` returns a float in [0, 1), like `random.random`.
    """

    def __init__(
        self,
        policy: BackoffPolicy | None = None,
        random: Callable[[], float] | None = None,
    ) -> None:
        self.policy = policy or BackoffPolicy()
        self._random: Callable[[], float] = random or _default_random()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0 = the first retry).

        With `retry_after` (seconds, from the server), never less than that value.
        """
        fraction = min(max(self._random(), 0.0), 1.0)
        jittered = fraction * self.policy.ceiling(attempt)
        if retry_after is None:
            return jittered
        honoured = min(max(retry_after, 0.0), self.policy.retry_after_cap_s)
        return max(honoured, jittered)


def _default_random() -> Callable[[], float]:
    # A private generator: nobody else's seeding changes our jitter, and ours changes nobody's.
    return random.Random().random
