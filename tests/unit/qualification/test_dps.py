"""§3 the DPS: period of validity, entry windows, derived status."""

from datetime import date

import pytest

from services.common.errors import Conflict, InvalidInput
from services.qualification.domain import DpsSettings, apply_dps_change

DPS = DpsSettings(date(2026, 1, 1), date(2029, 12, 31), entry_open=True)


@pytest.mark.parametrize(
    ("settings", "today", "status"),
    [
        (DPS, date(2025, 12, 31), "not_started"),
        (DPS, date(2026, 1, 1), "open"),
        (DPS, date(2029, 12, 31), "open"),
        (DPS, date(2030, 1, 1), "expired"),
        (
            DpsSettings(date(2026, 1, 1), date(2029, 12, 31), False),
            date(2027, 2, 1),
            "entry_closed",
        ),
        (DpsSettings(date(2026, 1, 1), date(2029, 12, 31), False), date(2030, 2, 1), "expired"),
    ],
)
def test_status_is_derived_from_the_dates_and_entry(settings, today, status):
    assert settings.status(today) == status
    assert settings.to_view(today).status == status


@pytest.mark.parametrize(
    ("settings", "today"),
    [
        (DPS, date(2025, 12, 31)),
        (DPS, date(2030, 1, 1)),
        (DpsSettings(date(2026, 1, 1), date(2029, 12, 31), False), date(2027, 2, 1)),
    ],
)
def test_applications_are_accepted_only_while_open(settings, today):
    with pytest.raises(Conflict):
        settings.ensure_accepting_applications(today)


def test_accepting_while_open():
    DPS.ensure_accepting_applications(date(2027, 2, 1))


def test_the_lead_closes_and_reopens_entry_and_extends_or_ends_the_period():
    """§3, business case 7.19: entry closed 1 Feb, reopened 1 Apr."""
    closed = apply_dps_change(DPS, {"entry_open": False})
    assert closed.status(date(2027, 2, 1)) == "entry_closed"
    reopened = apply_dps_change(closed, {"entry_open": True})
    assert reopened.status(date(2027, 4, 1)) == "open"
    extended = apply_dps_change(DPS, {"valid_to": date(2031, 12, 31)})
    assert extended.status(date(2030, 6, 1)) == "open"
    ended = apply_dps_change(DPS, {"valid_to": date(2027, 3, 1)})
    assert ended.status(date(2027, 3, 2)) == "expired"
    assert DPS.valid_to == date(2029, 12, 31)


@pytest.mark.parametrize(
    ("patch", "loc"),
    [
        ({"valid_to": date(2025, 12, 31)}, ["valid_to"]),
        ({"valid_from": date(2030, 1, 1)}, ["valid_to"]),
        ({"valid_to": "2030-01-01"}, ["valid_to"]),
        ({"valid_from": None}, ["valid_from"]),
        ({"entry_open": "no"}, ["entry_open"]),
        ({"status": "open"}, ["status"]),
        ({}, []),
    ],
)
def test_an_invalid_dps_change_is_refused_naming_the_field(patch, loc):
    with pytest.raises(InvalidInput) as err:
        apply_dps_change(DPS, patch)
    assert err.value.errors[0]["loc"] == loc
