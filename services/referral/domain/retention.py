"""Retention of a child's personal data (RULES §13): a referral that ends without award
keeps it for a number of months (6 unless the authority configures otherwise) after it
ended; then it is erased by destroying the referral's data key."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import datetime

DEFAULT_RETENTION_MONTHS = 6


def months_before(at: datetime, months: int) -> datetime:
    """``at`` moved back by whole calendar months (the 31st becomes the month's last day)."""
    years, month0 = divmod(at.month - 1 - months, 12)
    year, month = at.year + years, month0 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def retention_months(authority: str, default: int, by_authority: Mapping[str, int]) -> int:
    return by_authority.get(authority, default)


def erasure_cutoff(now: datetime, authority: str, default: int,
                   by_authority: Mapping[str, int]) -> datetime:
    """Referrals of ``authority`` that ended without award at or before this are due."""
    return months_before(now, retention_months(authority, default, by_authority))
