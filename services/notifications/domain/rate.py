"""The shared send-rate limit per gateway (RULES §8: GOV.UK Notify, 3,000 messages a
minute), as fixed windows aligned on the epoch so that every instance agrees on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` sends in any interval of length ``period`` (RULES §8).

    Time is cut into fixed windows of length ``window``, aligned on the Unix epoch so that
    every instance agrees on them, and each window allows :attr:`budget` sends. Any
    interval of length ``period`` meets at most ``period / window + 1`` windows, so a
    budget of ``limit // (period / window + 1)`` keeps every rolling period within the
    limit, unlike a plain per-minute fixed window, which allows twice the limit across a
    window boundary. The default (3,000 a minute in 1 s windows) allows 49 a second,
    2,940 a minute. The sender timer should run once per ``window``. Keep one shared
    counter (:class:`RateWindow`) per gateway: Notify's limit is per service, not per
    instance.
    """

    limit: int = 3000
    period: timedelta = timedelta(minutes=1)
    window: timedelta = timedelta(seconds=1)

    def __post_init__(self):
        if self.window <= timedelta(0) or self.period % self.window:
            raise ValueError("period must be a whole number of windows")
        if self.budget < 1:
            raise ValueError("limit too small for this window")

    @property
    def budget(self) -> int:
        return self.limit // (self.period // self.window + 1)

    def window_start(self, now: datetime) -> datetime:
        return EPOCH + (now - EPOCH) // self.window * self.window


@dataclass(frozen=True)
class RateWindow:
    """The shared counter: sends granted in the window starting at ``start``."""

    start: datetime
    used: int


@dataclass(frozen=True)
class Permit:
    granted: int
    window: RateWindow  # store this back in the shared counter
    retry_at: datetime | None  # when the ones not granted may try again


def take(wanted: int, window: RateWindow | None, now: datetime, rate: RateLimit) -> Permit:
    """Grant up to ``wanted`` sends now, counting against the shared ``window``.

    The caller reads the counter row for update, calls this, writes ``permit.window``
    back in the same transaction and sends ``granted`` deliveries. The others stay
    waiting with ``next_attempt_at = retry_at``: over the limit, messages queue rather
    than drop. A counter already in a later window (another instance's clock is ahead)
    is honoured, so skew cannot reset it.
    """
    if wanted < 0:
        raise ValueError("wanted must not be negative")
    start = rate.window_start(now)
    used = 0
    if window is not None and window.start >= start:
        start, used = window.start, window.used
    granted = max(0, min(wanted, rate.budget - used))
    retry_at = start + rate.window if granted < wanted else None
    return Permit(granted, RateWindow(start, used + granted), retry_at)
