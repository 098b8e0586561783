"""UK civil dates and working days (RULES §4.3 evaluation deadlines, §4.5 evidence expiry):
the common England and Wales calendar (``services.common.calendar``), with §4.3's guard
that an evaluation deadline never counts back."""

from __future__ import annotations

from datetime import date

from services.common import calendar as common_calendar
from services.common.calendar import (  # noqa: F401  (the domain's names for them)
    add_months,
    bank_holidays,
    is_working_day,
    london_date,
)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (§4.3); ``start`` itself never counts."""
    if n < 0:
        raise ValueError("n must not be negative")
    return common_calendar.add_working_days(start, n)
