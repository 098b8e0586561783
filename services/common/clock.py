"""Injectable clock. Always timezone-aware UTC.

Services read time only through a ``Clock``. Tests and the e2e stack can move time by
setting ``DPS_CLOCK_OFFSET_SECONDS`` (see ``OffsetClock``) or by passing a ``FixedClock``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Clock:
    def now(self) -> datetime:
        return utcnow()


class FixedClock(Clock):
    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs) -> None:
        self.at = self.at + timedelta(**kwargs)


class OffsetClock(Clock):
    """Real time shifted by a fixed offset (used to drive deadlines in e2e tests)."""

    def __init__(self, offset_seconds: float = 0.0):
        self.offset = timedelta(seconds=offset_seconds)

    def now(self) -> datetime:
        return utcnow() + self.offset
