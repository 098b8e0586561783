"""Calendar arithmetic of the contracts domain: months, calendar quarters (§7.5), the UTC
day of an award (quarters and years are counted on it) and working days in England and Wales
(§11.4 notice deadlines and the voluntary standstill, s.51: "working day" excludes weekends
and bank holidays, s.123 of the Procurement Act 2023), the last from the common calendar
(``services.common.calendar``)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from services.common.calendar import (  # noqa: F401  (the domain's names for them)
    add_months,
    add_working_days,
    is_working_day,
)
from services.common.errors import InvalidInput

_QUARTER = re.compile(r"(\d{4})-Q([1-4])")


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
