"""The England and Wales calendar every service counts in (pure; no time-zone database).

- ``london_date``: the UK civil date of an instant (British Summer Time by the Summer Time
  Order 2002 rule);
- ``add_months``: calendar months, the day clamped to the month's end;
- ``bank_holidays`` / ``is_working_day`` / ``add_working_days``: working days exclude
  weekends and the bank holidays of England and Wales, substitute days included (RULES §4.3
  evaluation deadlines; §11.3, §11.4 standstill and notice deadlines: "working day" in
  s.123 of the Procurement Act 2023).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays


def _last_sunday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() + 1) % 7)


def london_date(at: datetime) -> date:
    """The UK civil date of an instant: British Summer Time runs from 01:00 UTC on the last
    Sunday of March to 01:00 UTC on the last Sunday of October."""
    if at.tzinfo is None:
        raise ValueError("a timezone-aware datetime is needed")
    utc = at.astimezone(UTC)
    bst_start = datetime.combine(_last_sunday(utc.year, 3), time(1), UTC)
    bst_end = datetime.combine(_last_sunday(utc.year, 10), time(1), UTC)
    return (utc + timedelta(hours=1)).date() if bst_start <= utc < bst_end else utc.date()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 → 28/29
    Feb). Negative ``months`` go back."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays of England and Wales in ``year``, substitute days included."""
    days: set[date] = set()
    for subdiv in ("ENG", "WLS"):
        days.update(holidays.country_holidays("GB", subdiv=subdiv, years=year))
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start``; ``start`` itself never counts. A negative
    ``n`` counts back: the ``|n|``-th working day before ``start``."""
    step = 1 if n >= 0 else -1
    day, left = start, abs(n)
    while left:
        day += timedelta(days=step)
        if is_working_day(day):
            left -= 1
    return day
