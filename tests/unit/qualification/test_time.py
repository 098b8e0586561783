"""§4.3 working days and evaluation due dates; UK civil dates; calendar months."""

from datetime import UTC, date, datetime, timedelta

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common.errors import Conflict, InvalidInput
from services.qualification.domain import (
    add_months,
    add_working_days,
    bank_holidays,
    is_working_day,
    london_date,
)
from tests.support.qualification_builders import configs, decision, submitted


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Christmas 2026: Fri 25 Dec; Boxing Day is a Saturday, substitute Mon 28 Dec
        (date(2026, 12, 24), 1, date(2026, 12, 29)),
        (date(2026, 12, 23), 2, date(2026, 12, 29)),
        (date(2026, 12, 18), 10, date(2027, 1, 6)),  # also crosses New Year's Day
        # Easter 2026: Good Friday 3 Apr, Easter Monday 6 Apr
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        # early May (4 May) and late May (25 May) bank holidays 2026
        (date(2026, 5, 1), 1, date(2026, 5, 5)),
        (date(2026, 5, 22), 1, date(2026, 5, 26)),
        # late summer bank holiday 31 Aug 2026
        (date(2026, 8, 28), 1, date(2026, 9, 1)),
        # weekends
        (date(2026, 3, 7), 1, date(2026, 3, 9)),
        (date(2026, 3, 2), 10, date(2026, 3, 16)),
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
    ],
)
def test_add_working_days_skips_weekends_and_bank_holidays(start, n, expected):
    """§4.3: working days exclude weekends and England and Wales bank holidays."""
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 25),
        date(2026, 12, 28),
        date(2026, 4, 3),
        date(2026, 4, 6),
        date(2026, 5, 25),
        date(2027, 12, 27),
        date(2027, 12, 28),
        date(2026, 3, 7),
    ],
)
def test_bank_holidays_and_weekends_are_not_working_days(day):
    assert not is_working_day(day)


def test_boxing_day_2026_is_a_saturday_with_a_monday_substitute():
    assert date(2026, 12, 26).weekday() == 5
    assert date(2026, 12, 28) in bank_holidays(2026)
    assert is_working_day(date(2026, 12, 29))


def test_bank_holidays_are_the_union_of_england_and_wales():
    for year in (2025, 2026, 2027):
        eng = set(holidays.country_holidays("GB", subdiv="ENG", years=year))
        wls = set(holidays.country_holidays("GB", subdiv="WLS", years=year))
        assert bank_holidays(year) == eng | wls
    assert date(2026, 1, 2) not in bank_holidays(2026)  # Scotland's 2 January is not ours


def test_negative_working_days_are_refused():
    with pytest.raises(ValueError):
        add_working_days(date(2026, 3, 2), -1)


@given(st.dates(date(2024, 1, 1), date(2030, 12, 31)), st.integers(0, 40))
def test_add_working_days_counts_exactly_n_working_days(start, n):
    result = add_working_days(start, n)
    days = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    assert sum(is_working_day(d) for d in days) == n
    assert n == 0 or is_working_day(result)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),  # GMT
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), date(2026, 3, 29)),
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),  # BST from 01:00 UTC
        (datetime(2026, 6, 30, 23, 30, tzinfo=UTC), date(2026, 7, 1)),
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # still BST
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),  # GMT again
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2026, 12, 31)),
    ],
)
def test_london_date_follows_british_summer_time(at, expected):
    assert london_date(at) == expected


def test_london_date_needs_an_aware_datetime():
    with pytest.raises(ValueError):
        london_date(datetime(2026, 3, 2, 10, 0))


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 11, 15), 3, date(2027, 2, 15)),
        (date(2026, 3, 2), 6, date(2026, 9, 2)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day, months, expected):
    assert add_months(day, months) == expected


# --- evaluation due dates (§4.3) -------------------------------------------------------------


def test_evaluation_is_due_ten_working_days_after_submission_across_christmas():
    sen = configs()["SEN"]
    app, _ = submitted(sen, now=datetime(2026, 12, 18, 12, 0, tzinfo=UTC))
    assert app.due_on == date(2027, 1, 6)
    assert not app.is_overdue(date(2027, 1, 6))
    assert app.is_overdue(date(2027, 1, 7))


def test_due_date_counts_from_the_uk_date_of_submission():
    sen = configs()["SEN"]
    app, _ = submitted(sen, now=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))  # 1 July in the UK
    assert app.due_on == date(2026, 7, 15)


def test_extension_to_fifteen_working_days_once_with_a_reason():
    sen = configs()["SEN"]
    app, _ = submitted(sen, now=datetime(2026, 12, 18, 12, 0, tzinfo=UTC))
    with pytest.raises(InvalidInput) as err:
        app.extend_evaluation("  ")
    assert err.value.errors[0]["loc"] == ["reason"]
    app.extend_evaluation("site visit needed")
    assert app.due_on == date(2027, 1, 13)
    assert app.extension_reason == "site visit needed"
    assert not app.is_overdue(date(2027, 1, 13))
    assert app.is_overdue(date(2027, 1, 14))
    with pytest.raises(Conflict):
        app.extend_evaluation("again")
    assert app.due_on == date(2027, 1, 13)


def test_a_decided_application_is_never_overdue():
    sen = configs()["SEN"]
    app, est = submitted(sen)
    app.decide(decision(sen), sen, est, datetime(2026, 6, 1, tzinfo=UTC))
    assert not app.is_overdue(date(2026, 6, 1))
