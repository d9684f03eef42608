"""Full-jitter exponential backoff: bounds, cap, Retry-After, injectable randomness."""

from __future__ import annotations

import random

import pytest

from app.core.backoff import Backoff, BackoffPolicy


def constant(value: float) -> Backoff:
    return Backoff(random=lambda: value)


def test_ceiling_doubles_from_two_seconds_up_to_five_minutes() -> None:
    policy = BackoffPolicy()
    assert [policy.ceiling(a) for a in range(10)] == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert policy.ceiling(10_000) == 300  # no overflow for a report retried for months
    assert policy.ceiling(-3) == 2


def test_delay_is_the_random_fraction_of_the_ceiling() -> None:
    assert constant(0.5).delay(0) == 1.0
    assert constant(0.5).delay(3) == 8.0
    assert constant(0.0).delay(5) == 0.0
    assert constant(0.999).delay(20) == pytest.approx(299.7)


def test_seeded_sequence_stays_within_bounds_and_is_reproducible() -> None:
    a = Backoff(random=random.Random(42).random)
    b = Backoff(random=random.Random(42).random)
    delays = [a.delay(n) for n in range(12)]
    assert delays == [b.delay(n) for n in range(12)]
    for attempt, delay in enumerate(delays):
        assert 0 <= delay <= min(300, 2 * 2**attempt)
    # Full jitter really spreads: 1000 draws at the cap cover the whole range.
    spread = Backoff(random=random.Random(7).random)
    draws = [spread.delay(30) for _ in range(1000)]
    assert min(draws) < 30
    assert max(draws) > 270


def test_retry_after_is_honoured_as_the_minimum() -> None:
    assert constant(0.1).delay(0, retry_after=30) == 30  # jitter 0.2 s < 30 s
    assert constant(1.0).delay(10, retry_after=30) == 300  # jitter larger: keep it
    assert constant(0.5).delay(0, retry_after=0) == 1.0
    assert constant(0.5).delay(0, retry_after=-5) == 1.0


def test_absurd_retry_after_is_clamped_to_an_hour() -> None:
    assert constant(0.5).delay(0, retry_after=10 * 86400) == 3600
    custom = Backoff(BackoffPolicy(base_s=1, cap_s=10, retry_after_cap_s=60), lambda: 1.0)
    assert custom.delay(2) == 4
    assert custom.delay(2, retry_after=600) == 60


def test_random_outside_unit_interval_is_clamped_and_bad_policy_refused() -> None:
    assert constant(5.0).delay(1) == 4.0
    assert constant(-1.0).delay(1) == 0.0
    with pytest.raises(ValueError):
        BackoffPolicy(base_s=0)


def test_default_random_source_gives_values_in_range() -> None:
    backoff = Backoff()
    assert all(0 <= backoff.delay(2) <= 8 for _ in range(100))
