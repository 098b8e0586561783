"""RULES §8: retry backoff schedule and the shared send-rate limit (Notify: 3,000/min)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notifications.domain import (
    RateLimit,
    RateWindow,
    RetryPolicy,
    next_attempt_at,
    take,
)

NOW = datetime(2025, 3, 1, 9, 0, 0, 250_000, tzinfo=UTC)


def test_default_backoff_schedule():
    delays = [RetryPolicy().delay(n).total_seconds() for n in range(1, 11)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert next_attempt_at(3, NOW) == NOW + timedelta(minutes=2)


def test_backoff_is_configurable_and_capped():
    policy = RetryPolicy(base=timedelta(seconds=5), factor=3, cap=timedelta(minutes=1))
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [5, 15, 45, 60, 60]
    assert policy.next_attempt_at(10_000, NOW) == NOW + timedelta(minutes=1)


@given(st.integers(min_value=1, max_value=500))
def test_backoff_never_shrinks_and_never_exceeds_the_cap(attempts):
    policy = RetryPolicy()
    assert policy.base <= policy.delay(attempts) <= policy.delay(attempts + 1) <= policy.cap


@pytest.mark.parametrize(
    "kwargs",
    [
        {"base": timedelta(0)},
        {"cap": timedelta(seconds=1)},
        {"factor": 0},
        {"max_attempts": 0},
        {"lease": timedelta(0)},
    ],
)
def test_bad_retry_policies_are_refused(kwargs):
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_attempts_count_from_one():
    with pytest.raises(ValueError):
        RetryPolicy().delay(0)


# --- rate limit --------------------------------------------------------------------------


def test_default_budget_keeps_any_minute_within_3000():
    rate = RateLimit()
    assert rate.budget == 49  # 61 one-second windows touch any minute: 61 × 49 = 2,989
    assert rate.budget * (rate.period // rate.window + 1) <= rate.limit


def test_take_grants_up_to_the_budget_and_queues_the_rest():
    """§8: over the limit, deliveries wait for the next window rather than drop."""
    rate = RateLimit()
    first = take(30, None, NOW, rate)
    assert (first.granted, first.retry_at) == (30, None)
    assert first.window == RateWindow(datetime(2025, 3, 1, 9, 0, tzinfo=UTC), 30)

    second = take(30, first.window, NOW, rate)
    assert second.granted == 19
    assert second.retry_at == datetime(2025, 3, 1, 9, 0, 1, tzinfo=UTC)
    assert second.window.used == 49

    assert take(5, second.window, NOW, rate).granted == 0
    nxt = take(5, second.window, second.retry_at, rate)
    assert (nxt.granted, nxt.window.used) == (5, 5)


def test_a_counter_ahead_of_our_clock_is_honoured():
    """Another instance whose clock is ahead already counted in a later window."""
    rate = RateLimit()
    ahead = RateWindow(datetime(2025, 3, 1, 9, 0, 5, tzinfo=UTC), 49)
    permit = take(1, ahead, NOW, rate)
    assert permit.granted == 0
    assert permit.retry_at == datetime(2025, 3, 1, 9, 0, 6, tzinfo=UTC)


def test_take_nothing():
    permit = take(0, None, NOW, RateLimit())
    assert (permit.granted, permit.retry_at, permit.window.used) == (0, None, 0)
    with pytest.raises(ValueError):
        take(-1, None, NOW, RateLimit())


@pytest.mark.parametrize(
    "kwargs",
    [{"window": timedelta(seconds=7)}, {"window": timedelta(0)}, {"limit": 10}],
)
def test_bad_rate_limits_are_refused(kwargs):
    with pytest.raises(ValueError):
        RateLimit(**kwargs)


@given(
    limit=st.integers(min_value=5, max_value=200),
    window_seconds=st.sampled_from([1, 2, 5]),
    ticks=st.lists(
        st.tuples(st.integers(min_value=0, max_value=4_000), st.integers(0, 300)),
        min_size=1,
        max_size=60,
    ),
)
def test_no_rolling_period_ever_exceeds_the_limit(limit, window_seconds, ticks):
    """Whatever instances ask and whenever (ms steps), no 60 s interval sends > limit."""
    period = timedelta(seconds=60)
    window = timedelta(seconds=window_seconds)
    if limit // (period // window + 1) < 1:
        return
    rate = RateLimit(limit=limit, period=period, window=window)
    counter, at, sends = None, NOW, []
    for step_ms, wanted in ticks:
        at += timedelta(milliseconds=step_ms)
        permit = take(wanted, counter, at, rate)
        assert 0 <= permit.granted <= wanted
        assert (permit.retry_at is None) == (permit.granted == wanted)
        counter = permit.window
        sends += [at] * permit.granted
    for start in sends:
        assert sum(start <= t < start + period for t in sends) <= limit
