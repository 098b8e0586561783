"""Calendar arithmetic of the contracts domain: months, calendar quarters (§7.5), the UTC
day of an award (quarters and years are counted on it) and working days in England and Wales
(§11.4 notice deadlines and the voluntary standstill, s.51: "working day" excludes weekends
and bank holidays, s.123 of the Procurement Act 2023)."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import holidays

from services.common.errors import InvalidInput

_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the month's last day (31 Jan + 1 → 28/29
    Feb). Negative ``months`` go back."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def parse_quarter(quarter: str) -> tuple[date, date]:
    """``"2026-Q3"`` → ``(2026-07-01, 2026-09-30)``, both days inclusive (§7.5)."""
    match = _QUARTER.fullmatch(quarter.strip()) if isinstance(quarter, str) else None
    if match is None or not 1 <= int(match[1]) <= 9999:
        raise InvalidInput.at(["quarter"], 'must look like "2026-Q3" (year, then Q1 to Q4)')
    year, number = int(match[1]), int(match[2])
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def quarter_of(day: date) -> str:
    """The calendar quarter of a day: ``2026-08-14`` → ``"2026-Q3"``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def award_day(at: datetime) -> date:
    """The UTC calendar day of an award time (quarters and years are counted on it)."""
    return at.astimezone(UTC).date()


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """Bank holidays of England and Wales in ``year``, substitute days included (the same
    rule as qualification's §4.3 calendar, which contracts may not import)."""
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
