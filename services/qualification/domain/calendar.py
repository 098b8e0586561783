"""UK civil dates and working days (RULES §4.3 evaluation deadlines, §4.5 evidence expiry)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def london_date(at: datetime) -> date:
    """The UK civil date of an instant.

    British Summer Time runs from 01:00 UTC on the last Sunday of March to 01:00 UTC on the
    last Sunday of October (Summer Time Order 2002); computed here so the domain needs no
    time-zone database.
    """
    if at.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    utc = at.astimezone(UTC)
    bst_start = datetime.combine(_last_sunday(utc.year, 3), time(1), UTC)
    bst_end = datetime.combine(_last_sunday(utc.year, 10), time(1), UTC)
    return (utc + timedelta(hours=1)).date() if bst_start <= utc < bst_end else utc.date()


def add_months(day: date, months: int) -> date:
    """Calendar months later; the day is clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year = day.year + years
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays of England and Wales in ``year`` (§4.3), substitute days included."""
    days: set[date] = set()
    for subdiv in ("ENG", "WLS"):
        days.update(holidays.country_holidays("GB", subdiv=subdiv, years=year))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (§4.3); ``start`` itself never counts."""
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


# --- geography (§5) ---------------------------------------------------------------------------
